"""The one client both servers are driven by: dashboard sockets (in worker
processes) and the editors that make changes (form posts or PUBLISHes).

Loopback only, bounded in count and time.
"""

from __future__ import annotations

import asyncio
import datetime
import html.parser
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

# Sockets opening at once per client process: enough to measure the server's
# handshake rate, few enough not to overflow its accept backlog.
CONNECTS_IN_FLIGHT = 100


@dataclass
class SocketPlan:
    url: str
    origin: str
    cookies: list[str]  # One Cookie header per staff session, used round-robin.
    count: int
    go_at: float  # Wall time to start connecting.
    end_at: float  # Wall time to close by, at the latest.


@dataclass
class SocketReport:
    started: float = 0.0
    last_open: float = 0.0
    opened: int = 0
    failures: list[str] = field(default_factory=list)
    # Per socket: (event id, delivery latency in s from the event's "time").
    received: list[list[tuple[int, float]]] = field(default_factory=list)
    alive_at_end: int = 0
    sample_frame: str = ""


def event_time(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def events_in(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """Live events in a frame: an ``event``, a ``batch`` (its ``events``), or
    a ``frames`` bundle of any of these (the socket's coalesced write)."""
    if isinstance(frame.get("frames"), list):
        return [event for inner in frame["frames"] for event in events_in(inner)]
    if isinstance(frame.get("events"), list):
        return frame["events"]
    if frame.get("type") == "event":
        return [frame]
    return []


def run_sockets(plan: SocketPlan, end: Any, results: Any) -> None:
    """Worker-process entry: open ``plan.count`` sockets, record every event
    until the wall time in the shared value ``end``."""
    results.put(asyncio.run(_sockets(plan, end, results)))


async def _sockets(plan: SocketPlan, end: Any, results: Any) -> SocketReport:
    from websockets.asyncio.client import connect

    report = SocketReport(received=[[] for _ in range(plan.count)])
    gate = asyncio.Semaphore(CONNECTS_IN_FLIGHT)
    alive = [False] * plan.count

    async def watch(index: int) -> None:
        received = report.received[index]
        try:
            async with gate:
                # Bounded: a server that stalls handshakes cannot hold the run.
                budget = min(30.0, min(end.value, plan.end_at) - time.time())
                if budget <= 0:
                    raise TimeoutError("not opened before the end of the run")
                socket = await connect(
                    plan.url,
                    origin=plan.origin,  # type: ignore[arg-type]
                    additional_headers={
                        "Cookie": plan.cookies[index % len(plan.cookies)]
                    },
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
        try:
            while (left := min(end.value, plan.end_at) - time.time()) > 0:
                try:
                    raw = await asyncio.wait_for(socket.recv(), min(left, 1.0))
                except TimeoutError:
                    continue
                now = time.time()
                frame = json.loads(raw)
                for event in events_in(frame):
                    if not report.sample_frame and frame.get("type") == "event":
                        report.sample_frame = str(raw)
                    received.append((event["id"], now - event_time(event["time"])))
        except Exception:
            alive[index] = False
            return
        finally:
            await socket.close()

    await asyncio.sleep(max(0.0, plan.go_at - time.time()))
    report.started = time.time()
    watchers = [asyncio.create_task(watch(index)) for index in range(plan.count)]
    while report.opened + len(report.failures) < plan.count:
        await asyncio.sleep(0.05)
    results.put("connected")
    await asyncio.gather(*watchers)
    report.alive_at_end = sum(alive)
    return report


class FormFields(html.parser.HTMLParser):
    """The named fields of the page's own POST form, as a browser sends them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._form = 0  # 0 before the form, 1 inside, 2 after.
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if (
            tag == "form"
            and self._form == 0
            and attr.get("method", "").lower() == "post"
            and not attr.get("action")  # The page's own form, not logout's.
        ):
            self._form = 1
        if self._form != 1 or ("name" not in attr and tag != "option"):
            return
        if tag == "input" and attr.get("type") not in {"submit", "button", "checkbox"}:
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "input" and attr.get("type") == "checkbox" and "checked" in attr:
            self.fields[attr["name"]] = attr.get("value", "on")
        elif tag == "textarea":
            self._textarea = attr["name"]
            self.fields[attr["name"]] = ""
        elif tag == "select":
            self._select = attr["name"]
        elif tag == "option" and self._select and "selected" in attr:
            self.fields[self._select] = attr.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._form == 1:
            self._form = 2


@dataclass
class EditLog:
    made: int = 0
    failed: int = 0
    skipped: int = 0  # Ticks that found the product still being edited.
    latencies: list[float] = field(default_factory=list)  # GET+POST, s.
    errors: list[str] = field(default_factory=list)


class FormEditor:
    """A logged-in staff member editing products through the real form
    (``path``: the edit page of a product, from its slug or, for the admin's
    change form, its id). ``as_a_person`` (issue 16): the change is what a
    person's browser asks for, the product's page first (``detail_path``),
    then the form, its POST and the page the POST redirects to."""

    def __init__(
        self,
        client: Any,
        slugs: list[str],
        path: str = "/products/{}/edit/",
        *,
        as_a_person: bool = False,
        detail_path: str = "/products/{}/",
    ) -> None:
        self.client = client
        self.slugs = slugs
        self.path = path
        self.as_a_person = as_a_person
        self.detail_path = detail_path
        self.busy: set[str] = set()
        self.log = EditLog()

    async def change(self, serial: int) -> None:
        slug = self.slugs[serial % len(self.slugs)]
        if slug in self.busy:
            self.log.skipped += 1
            return
        self.busy.add(slug)
        started = time.perf_counter()
        try:
            if self.as_a_person:
                await self._get(self.detail_path.format(slug))
            url = self.path.format(slug)
            page = await self.client.get(url)
            form = FormFields()
            form.feed(page.text)
            # Always a new value: a POST that changes nothing logs no event
            # (and would count as a change with no deliveries).
            current = int(form.fields.get("quantity") or 0)
            form.fields["quantity"] = str((current + 1) % 10_000)
            posted = await self.client.post(
                url,
                data=form.fields,
                headers={"Referer": f"{self.client.base_url}{url}"},
            )
            if posted.status_code != 302:
                errors = re.findall(
                    r'class="[^"]*error[^"]*"[^>]*>([^<]{0,120})', posted.text
                )
                raise RuntimeError(f"POST answered {posted.status_code}: {errors[:3]}")
            if self.as_a_person:
                await self._get(posted.headers["location"])
            self.log.latencies.append(time.perf_counter() - started)
            self.log.made += 1
        except Exception as exc:
            self.log.failed += 1
            self.log.errors.append(repr(exc)[:200])
        finally:
            self.busy.discard(slug)

    async def _get(self, url: str) -> None:
        page = await self.client.get(url)
        if page.status_code != 200:
            raise RuntimeError(f"GET {url} answered {page.status_code}")


class PageReader:
    """Asks for one page again and again (a GET answered 200 is a "change"
    here, so ``back_to_back`` drives readers as it drives editors)."""

    def __init__(self, client: Any, path: str) -> None:
        self.client = client
        self.path = path
        self.log = EditLog()

    async def change(self, serial: int) -> None:
        started = time.perf_counter()
        try:
            page = await self.client.get(self.path)
            if page.status_code != 200:
                raise RuntimeError(f"GET {self.path} answered {page.status_code}")
            self.log.latencies.append(time.perf_counter() - started)
            self.log.made += 1
        except Exception as exc:
            self.log.failed += 1
            self.log.errors.append(repr(exc)[:200])


class Publisher:
    """The ceiling's "change": PUBLISH of a same-sized frame, no Django."""

    def __init__(self, redis: Any, channel: str, sample: dict[str, Any]) -> None:
        self.redis = redis
        self.channel = channel
        self.sample = sample
        self.log = EditLog()

    async def change(self, serial: int) -> None:
        frame = {
            **self.sample,
            "id": serial + 1,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        started = time.perf_counter()
        await self.redis.publish(self.channel, json.dumps(frame, ensure_ascii=False))
        self.log.latencies.append(time.perf_counter() - started)
        self.log.made += 1


async def at_rate(editor: Any, rate: float, seconds: float) -> float:
    """Open loop: start a change every 1/rate s for ``seconds``; returns the
    seconds the changes were offered over (to the last start, plus 1/rate),
    once every change has finished."""
    started = time.perf_counter()
    tasks = []
    count = int(rate * seconds)
    for serial in range(count):
        delay = started + serial / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(editor.change(serial)))
    offered = time.perf_counter() - started + 1 / rate
    await asyncio.gather(*tasks)
    return offered


async def back_to_back(editors: list[Any], seconds: float) -> float:
    """Each editor changes its own products, one change after another."""
    started = time.perf_counter()
    stop = started + seconds

    async def loop(editor: Any) -> None:
        serial = 0
        while time.perf_counter() < stop:
            await editor.change(serial)
            serial += 1

    await asyncio.gather(*(loop(editor) for editor in editors))
    return time.perf_counter() - started
