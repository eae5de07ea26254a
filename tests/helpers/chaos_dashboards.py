"""The chaos run's dashboards: sockets that behave as docs/protocol.md
("Reconnecting and missing nothing") tells a client to, and remember what
they received, so the run can check what each one ended up holding.

Asyncio, many per process; loopback only; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Dashboard", "HttpOutcome"]

# The protocol's backoff is capped at 30 s; a run whose outages last 5 s
# caps it lower, or a dashboard unlucky in its draws would still be waiting
# when the run ends. The rule (full jitter, doubling) is the protocol's.
BACKOFF_CAP = 4.0
# A fetch unanswered this long may be sent again (the protocol's "about 10 s").
FETCH_PATIENCE = 10.0
CLOSE_FORBIDDEN = 4403


@dataclass
class HttpOutcome:
    """One HTTP exchange the run made (a form page, a form post, a socket's
    handshake): when it started (monotonic), against which server, and what
    went wrong, if anything."""

    started: float
    server: int
    what: str
    error: str = ""
    seconds: float = 0.0  # until it was answered (or failed)


@dataclass
class Dashboard:
    """One dashboard tab: a socket to ``url`` (reconnecting with
    ``?after=<synced>``) with the session ``cookie``."""

    index: int
    server: int
    url: str
    origin: str
    cookie: str
    synced: int
    victim: bool = False
    seen: set[int] = field(default_factory=set)
    duplicates: int = 0
    fetches: dict[str, int] = field(default_factory=dict)  # by what asked
    connects: int = 0
    first_frame: bool = False
    forbidden: bool = False  # Closed with 4403, or its handshake refused (403).
    closed_unexpectedly: list[str] = field(default_factory=list)
    # Close codes the server sent (None: the connection just ended).
    closes: list[int | None] = field(default_factory=list)
    closed_at: list[float] = field(default_factory=list)  # monotonic, per close
    crashed: str = ""  # What broke this client, if anything did.
    http: list[HttpOutcome] = field(default_factory=list)
    # When the handshake in progress started (None: none is).
    connecting: float | None = None
    _fetch_sent: float | None = None
    _socket: Any = None

    async def run(self, stop: asyncio.Event, gate: asyncio.Semaphore) -> None:
        """Stay connected until ``stop``, or until the server says this user
        may no longer watch."""
        try:
            await self._run(stop, gate)
        except Exception as exc:  # Reported by the run; never silently lost.
            self.crashed = repr(exc)[:200]

    async def _run(self, stop: asyncio.Event, gate: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import (
            ConnectionClosed,
            InvalidHandshake,
            InvalidStatus,
        )

        attempt = 0
        while not stop.is_set() and not self.forbidden:
            if attempt:
                delay = random.random() * min(BACKOFF_CAP, 0.5 * 2**attempt)
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return
                except TimeoutError:
                    pass
            attempt += 1
            started = self.connecting = time.monotonic()
            try:
                async with gate:
                    socket = await connect(
                        f"{self.url}?after={self.synced}",
                        origin=self.origin,  # type: ignore[arg-type]
                        additional_headers={"Cookie": self.cookie},
                        compression=None,
                        ping_interval=None,  # Like a browser: no client pings.
                        max_queue=None,
                        open_timeout=30,
                        proxy=None,
                    )
            except InvalidStatus as refused:
                status = refused.response.status_code
                if status == 403 and self.victim:
                    self.connecting = None
                    self.forbidden = True
                    return
                self._http(started, f"handshake answered {status}")
                continue
            except (OSError, TimeoutError, InvalidHandshake) as failed:
                self._http(started, f"handshake failed: {failed!r}"[:160])
                continue
            self._http(started, "")
            self.connects += 1
            self._socket = socket
            self._fetch_sent = None
            try:
                async with socket:
                    if await self._read(socket, stop):
                        attempt = 0
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                self.closes.append(code)
                self.closed_at.append(time.monotonic())
                if code == CLOSE_FORBIDDEN:
                    self.forbidden = True
                    if not self.victim:
                        self.closed_unexpectedly.append("4403")
                    return
                if self.first_frame:
                    attempt = 0
            finally:
                self._socket = None

    async def _read(self, socket: Any, stop: asyncio.Event) -> bool:
        """Read frames until ``stop``; True once the socket got a frame."""
        got_one = False
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), 0.5)
            except TimeoutError:
                await self._fetch_if_stuck(socket)
                continue
            got_one = self.first_frame = True
            message = json.loads(raw)
            frames = message["frames"] if message["type"] == "frames" else [message]
            for frame in frames:
                await self._handle(socket, frame)
            await self._fetch_if_stuck(socket)
        return got_one

    async def _handle(self, socket: Any, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "event":
            self._hold(frame["id"])
            if frame["id"] == self.synced + 1:
                self.synced = frame["id"]
            elif frame["id"] > self.synced:
                await self._fetch(socket, "an event past a gap")
        elif kind == "batch":
            for event in frame["events"]:
                self._hold(event["id"])
            self.synced = max(self.synced, frame["until"])
            self._fetch_sent = None
            if frame["more"]:
                await self._fetch(socket, "more")
        elif kind == "heartbeat" and frame["last_id"] > self.synced:
            await self._fetch(socket, "a heartbeat ahead")

    def _hold(self, event_id: int) -> None:
        if event_id in self.seen:
            self.duplicates += 1  # A replay overlapping live events: dropped.
        else:
            self.seen.add(event_id)

    async def _fetch(self, socket: Any, why: str) -> None:
        """One fetch at a time, as the protocol asks."""
        if self._fetch_sent is not None:
            return
        self.fetches[why] = self.fetches.get(why, 0) + 1
        self._fetch_sent = time.monotonic()
        await socket.send(json.dumps({"type": "fetch", "after": self.synced}))

    async def _fetch_if_stuck(self, socket: Any) -> None:
        if (
            self._fetch_sent is not None
            and time.monotonic() - self._fetch_sent > FETCH_PATIENCE
        ):
            self._fetch_sent = None
            await self._fetch(socket, "no answer")

    def _http(self, started: float, error: str) -> None:
        self.connecting = None
        self.http.append(
            HttpOutcome(
                started, self.server, "handshake", error, time.monotonic() - started
            )
        )

    def holds_all(self, expected: set[int]) -> bool:
        return expected <= self.seen
