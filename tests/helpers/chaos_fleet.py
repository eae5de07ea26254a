"""The chaos run's dashboards, spread over client processes.

One asyncio loop driving a thousand sockets fell behind on a loaded machine:
sockets it did not read for a while made uvicorn's ``send`` wait and missed
the server's keepalive pings (closed with 1011), which said more about the
client than about the server. So the dashboards run in ``spawn`` worker
processes (as ``benchmarks/live_bench.py`` opens its sockets), each with a
loop of its own; the run asks them, through a pipe, for what it waits on
(every dashboard's first frame, every one holding the log, every victim
closed) and gets every dashboard back, whole, once they stop.

The ``Dashboard`` objects the run holds are mirrors: their ``first_frame``,
``forbidden`` and ``connecting`` follow the workers' at each :meth:`Fleet.poll`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
from typing import Any

from tests.helpers.chaos_dashboards import Dashboard

__all__ = ["Fleet"]

# A worker's answer to a poll, per dashboard: first frame, forbidden,
# connecting (monotonic; the clock is the machine's, shared by processes),
# holds every id of the poll's ``expected``.
Status = tuple[bool, bool, "float | None", bool]
# How often a client process checks that its loop keeps time.
LAG_PROBE = 0.1


def _raise_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def run_worker(dashboards: list[Dashboard], connection: Any, in_flight: int) -> None:
    """A client process: run ``dashboards`` until told to stop, answering
    polls meanwhile; then send them back."""
    _raise_descriptor_limit()
    asyncio.run(_serve(dashboards, connection, in_flight))


async def _watch_lag(lags: list[float]) -> None:
    """The longest this loop was late for a timer (``lags[0]``, s): a client
    this late does not read its sockets, nor answer the server's pings."""
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(LAG_PROBE)
        lags[0] = max(lags[0], loop.time() - before - LAG_PROBE)


async def _serve(dashboards: list[Dashboard], connection: Any, in_flight: int) -> None:
    stop = asyncio.Event()
    gate = asyncio.Semaphore(in_flight)
    tasks = [asyncio.create_task(d.run(stop, gate)) for d in dashboards]
    lags = [0.0]
    watcher = asyncio.create_task(_watch_lag(lags))
    loop = asyncio.get_running_loop()
    while True:
        command, expected = await loop.run_in_executor(None, connection.recv)
        if command == "poll":
            connection.send(
                (
                    lags[0],
                    [
                        (
                            d.first_frame,
                            d.forbidden,
                            d.connecting,
                            expected is not None and d.holds_all(expected),
                        )
                        for d in dashboards
                    ],
                )
            )
            continue
        watcher.cancel()
        stop.set()
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            task.cancel()
        for dashboard in dashboards:
            dashboard._socket = None  # Not picklable, and closed anyway.
        connection.send((lags[0], dashboards))
        return


class Fleet:
    """``dashboards`` (mirrors, kept by the caller) run in ``processes``
    worker processes, with at most ``in_flight`` handshakes at once in all."""

    def __init__(
        self, dashboards: list[Dashboard], processes: int, in_flight: int
    ) -> None:
        self.dashboards = dashboards
        self.processes = max(1, min(processes, len(dashboards)))
        self.in_flight = max(1, in_flight // self.processes)
        self.workers: list[Any] = []
        self.connections: list[Any] = []
        self.shares: list[list[Dashboard]] = []
        # Whether each dashboard held every id of the last poll's ``expected``.
        self.holding: dict[int, bool] = {}
        # The longest each client process's loop was late (s).
        self.lags: list[float] = []
        # Client processes that died (their dashboards are marked crashed).
        self.dead: set[int] = set()

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.lags = [0.0] * self.processes
        self.shares = [
            self.dashboards[n :: self.processes] for n in range(self.processes)
        ]
        for share in self.shares:
            ours, theirs = context.Pipe()
            worker = context.Process(
                target=run_worker, args=(share, theirs, self.in_flight), daemon=True
            )
            worker.start()
            theirs.close()
            self.workers.append(worker)
            self.connections.append(ours)

    def poll(self, expected: set[int] | None = None) -> None:
        """Update the mirrors from the workers (blocking: call in a thread);
        a worker that died has its dashboards marked crashed."""
        alive = []
        for n, connection in enumerate(self.connections):
            if n in self.dead:
                continue
            try:
                connection.send(("poll", expected))
                alive.append(n)
            except OSError as failed:
                self._died(n, failed)
        for n in alive:
            share, connection = self.shares[n], self.connections[n]
            try:
                lag, statuses = connection.recv()  # (float, list[Status])
            except (OSError, EOFError) as failed:
                self._died(n, failed)
                continue
            self.lags[n] = max(self.lags[n], lag)
            for mirror, (first, forbidden, connecting, holds) in zip(
                share, statuses, strict=True
            ):
                mirror.first_frame = first
                mirror.forbidden = forbidden
                mirror.connecting = connecting
                self.holding[mirror.index] = holds

    def _died(self, n: int, failed: BaseException) -> None:
        self.dead.add(n)
        for dashboard in self.shares[n]:
            dashboard.crashed = f"its client process died: {failed!r}"[:200]

    def stop(self, timeout: float = 60) -> list[Dashboard]:
        """Stop every dashboard; all of them back, in index order (a worker
        that does not answer leaves its mirrors, marked crashed)."""
        for n, connection in enumerate(self.connections):
            try:
                connection.send(("stop", None))
            except OSError as failed:
                self._died(n, failed)
        back: dict[int, Dashboard] = {d.index: d for d in self.dashboards}
        for n, (share, connection) in enumerate(
            zip(self.shares, self.connections, strict=True)
        ):
            if n in self.dead:
                continue
            try:
                answered = connection.poll(timeout)
                lag, dashboards = connection.recv() if answered else (0.0, [])
            except (OSError, EOFError) as failed:
                self._died(n, failed)
                continue
            if answered:
                self.lags[n] = max(self.lags[n], lag)
                for dashboard in dashboards:
                    back[dashboard.index] = dashboard
            else:
                for dashboard in share:
                    dashboard.crashed = "its client process did not answer"
        for worker in self.workers:
            worker.join(5)
            if worker.is_alive():
                worker.kill()
        return [back[index] for index in sorted(back)]
