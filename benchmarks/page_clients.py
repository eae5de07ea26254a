"""Open live pages, in worker processes (``--scenario live-pages``): what
live-socket.js and live-pages.js do over the dashboard socket, frame for frame.

- ``list``: the product list. Follows from the page's last id, hands each
  event on once and in id order (a gap in the ids, or a heartbeat ahead of
  it, asks for a gap fill), and, when it re-fetches, settles the events for
  150 ms, then asks for its own URL again with ``?live_ids=`` (one request
  at a time; what arrives meanwhile waits for the next; a failed one is
  asked again with the next), as ``settled()`` and ``refresh()`` do.
- ``form``: a product's edit form. The same socket, plus its ``presence``
  hello after the first frame of every connection (nothing per heartbeat:
  the page sends nothing more); keeps every ``presence`` frame about its
  product.
- ``plain``: the same socket, saying nothing (a product's page while its
  product does not change): the idle windows compare forms with these.

Loopback only, bounded in count and time.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from clients import CONNECTS_IN_FLIGHT, SocketReport, event_time

__all__ = ["PagePlan", "PageReport", "PageSocket", "Refetches", "run_page_sockets"]

# live-pages.js SETTLE_MS and MAX_LIVE_IDS, live-socket.js FETCH_TIMEOUT_MS.
SETTLE_SECONDS = 0.150
MAX_LIVE_IDS = 100
FETCH_TIMEOUT = 10.0
# Re-fetches in flight per client process; a browser has its own
# connections, these share a pool (its wait counts in the latency).
REFETCH_CONNECTIONS = 100


@dataclass
class PageSocket:
    kind: str  # "list", "form" or "plain"
    cookie: int  # Index into PagePlan.cookies: the page's session.
    product: int = 0  # A form's product.
    refetch: bool = False  # A list page that asks for itself again.


@dataclass
class PagePlan:
    url: str  # The socket's URL, without the query.
    origin: str
    cookies: list[str]
    after: int  # The pages' data-last-id.
    list_path: str
    rows: list[int]  # Product ids in the list page's rows.
    sockets: list[PageSocket]
    go_at: float
    end_at: float
    worker: int = 0  # Which of its group's worker processes runs this plan.


@dataclass
class Refetches:
    made: int = 0
    failed: int = 0
    events: int = 0  # Events the answered re-fetches were asked for.
    # Answered re-fetches whose answer refresh() then uses for nothing: no
    # event in the batch updated a row on the page or created a product
    # (a deletion needs no answer either: the row is marked from the frame).
    ignored: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first: float = 0.0  # Wall times of the first and last request.
    last: float = 0.0

    def add(self, other: Refetches) -> None:
        self.made += other.made
        self.failed += other.failed
        self.events += other.events
        self.ignored += other.ignored
        self.latencies += other.latencies
        self.errors += other.errors[: 10 - len(self.errors)]
        if other.made or other.failed:
            self.first = min(self.first or other.first, other.first)
            self.last = max(self.last, other.last)


@dataclass
class PageReport(SocketReport):
    worker: int = 0  # Its plan's.
    # ``received`` (inherited): per socket, the events handed to the page, in
    # id order, a gap waiting for its fill. ``wire``: each event frame as it
    # came, in any order (what live_bench.py's dashboard client records).
    wire: list[list[tuple[int, float]]] = field(default_factory=list)
    duplicates: int = 0  # Event frames at or below the id held: dropped.
    ahead: int = 0  # Event frames past a gap: dropped, the gap filled instead.
    gap_fetches: int = 0
    filled: int = 0  # Events handed on from a gap fill's batch.
    fill_waits: list[float] = field(default_factory=list)  # Fetch to batch, s.
    # Per socket: (wall time, names) of each presence frame about its product.
    presence: list[list[tuple[float, list[str]]]] = field(default_factory=list)
    # Per socket: whether it was still open when told to close.
    alive_sockets: list[bool] = field(default_factory=list)
    refetches: Refetches = field(default_factory=Refetches)


class ListPage:
    """``settled(refresh)`` of live-pages.js, for one list page."""

    def __init__(self, http: Any, cookie: str, plan: PagePlan, log: Refetches):
        self.http = http
        self.cookie = cookie
        self.path = plan.list_path
        self.rows = set(plan.rows)
        self.log = log
        self.pending: dict[int, dict[str, Any]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.running = False
        self.task: asyncio.Task[None] | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        pk = event["product"]["id"]
        self.pending.pop(pk, None)  # The latest per product, in arrival order.
        self.pending[pk] = event
        if self.timer is None and not self.running:
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(SETTLE_SECONDS, self._start)

    def _start(self) -> None:
        self.timer = None
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        if self.running:
            return
        self.running = True
        keys = list(self.pending)[:MAX_LIVE_IDS]
        batch = {key: self.pending.pop(key) for key in keys}
        try:
            if not await self._refresh(batch):
                for key, event in batch.items():
                    self.pending.setdefault(key, event)
        finally:
            self.running = False
            if self.pending and self.timer is None:
                self._schedule()

    async def _refresh(self, batch: dict[int, dict[str, Any]]) -> bool:
        ids = ",".join(map(str, batch))
        started = time.perf_counter()
        self.log.first = self.log.first or time.time()
        self.log.last = time.time()
        try:
            answer = await self.http.get(
                f"{self.path}?live_ids={ids}",
                headers={"Cookie": self.cookie, "Accept": "text/html"},
            )
            await answer.aread()
            if answer.status_code != 200:
                raise RuntimeError(f"GET answered {answer.status_code}")
        except Exception as exc:
            self.log.failed += 1
            if len(self.log.errors) < 10:
                self.log.errors.append(repr(exc)[:200])
            return False
        self.log.latencies.append(time.perf_counter() - started)
        self.log.made += 1
        self.log.events += len(batch)
        if not any(self._uses_answer(event) for event in batch.values()):
            self.log.ignored += 1
        return True

    def _uses_answer(self, event: dict[str, Any]) -> bool:
        """Whether refresh() reads the fetched page for this event: a row on
        the page to update, or a new product to name in the notice."""
        if event["action"] == "created":
            return True
        return event["action"] != "deleted" and event["product"]["id"] in self.rows


def run_page_sockets(plan: PagePlan, end: Any, results: Any) -> None:
    """Worker-process entry: open ``plan.sockets``, behave as their pages do
    until the wall time in the shared value ``end``."""
    results.put(asyncio.run(_pages(plan, end, results)))


async def _pages(plan: PagePlan, end: Any, results: Any) -> PageReport:
    import httpx

    count = len(plan.sockets)
    report = PageReport(
        worker=plan.worker,
        received=[[] for _ in range(count)],
        wire=[[] for _ in range(count)],
        presence=[[] for _ in range(count)],
    )
    gate = asyncio.Semaphore(CONNECTS_IN_FLIGHT)
    alive = [False] * count
    http = httpx.AsyncClient(
        base_url=plan.origin,
        timeout=FETCH_TIMEOUT,
        trust_env=False,
        limits=httpx.Limits(max_connections=REFETCH_CONNECTIONS),
    )
    watchers = [
        asyncio.create_task(_page(plan, index, end, report, gate, alive, http))
        for index in range(count)
    ]
    await asyncio.sleep(max(0.0, plan.go_at - time.time()))
    report.started = time.time()
    while report.opened + len(report.failures) < count:
        await asyncio.sleep(0.05)
    results.put("connected")
    await asyncio.gather(*watchers)
    await http.aclose()
    report.alive_at_end = sum(alive)
    report.alive_sockets = alive
    return report


async def _page(
    plan: PagePlan,
    index: int,
    end: Any,
    report: PageReport,
    gate: asyncio.Semaphore,
    alive: list[bool],
    http: Any,
) -> None:
    from websockets.asyncio.client import connect

    await asyncio.sleep(max(0.0, plan.go_at - time.time()))
    spec = plan.sockets[index]
    cookie = plan.cookies[spec.cookie]
    try:
        async with gate:
            budget = min(30.0, min(end.value, plan.end_at) - time.time())
            if budget <= 0:
                raise TimeoutError("not opened before the end of the run")
            socket = await connect(
                f"{plan.url}?after={plan.after}",
                origin=plan.origin,  # type: ignore[arg-type]
                additional_headers={"Cookie": cookie},
                compression=None,
                ping_interval=None,  # Like a browser: no client pings.
                max_queue=None,
                open_timeout=budget,
                proxy=None,
            )
    except Exception as exc:
        report.failures.append(repr(exc)[:200])
        return
    report.opened += 1
    report.last_open = max(report.last_open, time.time())
    alive[index] = True
    follower = Follower(spec, plan, report, index)
    if spec.kind == "list" and spec.refetch:
        follower.page = ListPage(http, cookie, plan, report.refetches)
    try:
        admitted = False
        while (left := min(end.value, plan.end_at) - time.time()) > 0:
            try:
                raw = await asyncio.wait_for(socket.recv(), min(left, 1.0))
            except TimeoutError:
                continue
            if not admitted and spec.kind == "form":
                hello = {"type": "presence", "product": spec.product}
                await socket.send(json.dumps(hello, separators=(",", ":")))
            admitted = True
            follower.receive(json.loads(raw), time.time())
            for frame in follower.outgoing:
                await socket.send(frame)
            follower.outgoing.clear()
    except Exception:
        alive[index] = False
    finally:
        await socket.close()
        if follower.page is not None and follower.page.task is not None:
            await asyncio.gather(follower.page.task, return_exceptions=True)


class Follower:
    """``followChanges()`` of live-socket.js: ``synced``, gap fills, and the
    page's ``onEvent`` and ``onFrame``."""

    def __init__(
        self, spec: PageSocket, plan: PagePlan, report: PageReport, index: int
    ) -> None:
        self.spec = spec
        self.synced = self.after = plan.after
        self.fetching_since: float | None = None
        self.report = report
        self.received = report.received[index]
        self.wire = report.wire[index]
        self.presence = report.presence[index]
        self.page: ListPage | None = None
        self.outgoing: list[str] = []

    def receive(self, frame: dict[str, Any], now: float) -> None:
        kind = frame.get("type")
        if kind == "frames":
            for inner in frame["frames"]:
                self.receive(inner, now)
        elif kind == "event":
            self.wire.append((frame["id"], now - event_time(frame["time"])))
            if frame["id"] == self.synced + 1:
                self.synced = frame["id"]
                self.on_event(frame, now)
            elif frame["id"] > self.synced:
                self.report.ahead += 1
                self.request_missing(now)
            else:
                self.report.duplicates += 1
        elif kind == "batch":
            for event in frame["events"]:
                self.wire.append((event["id"], now - event_time(event["time"])))
                if event["id"] > self.synced:
                    self.synced = event["id"]
                    self.report.filled += frame["after"] != self.after
                    self.on_event(event, now)
                else:
                    self.report.duplicates += 1
            self.synced = max(self.synced, frame["until"])
            if self.fetching_since is not None:
                self.report.fill_waits.append(now - self.fetching_since)
            self.fetching_since = None
            if frame["more"]:
                self.request_missing(now)
        elif kind == "heartbeat":
            if frame["last_id"] > self.synced:
                self.request_missing(now)
        elif kind == "presence" and self._about_this_form(frame):
            self.presence.append((now, list(frame["editors"])))

    def _about_this_form(self, frame: dict[str, Any]) -> bool:
        return self.spec.kind == "form" and frame.get("product") == self.spec.product

    def on_event(self, event: dict[str, Any], now: float) -> None:
        self.received.append((event["id"], now - event_time(event["time"])))
        if self.page is not None:
            self.page.on_event(event)

    def request_missing(self, now: float) -> None:
        if self.fetching_since is not None and now - self.fetching_since < 10.0:
            return
        self.fetching_since = now
        self.report.gap_fetches += 1
        frame = {"type": "fetch", "after": self.synced}
        self.outgoing.append(json.dumps(frame, separators=(",", ":")))
