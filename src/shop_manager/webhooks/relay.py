"""The relay: reads the change log from each endpoint's cursor and delivers
every event, in log order, at least once.

One asyncio task per endpoint this relay holds the lease on, each with its own
keep-alive connection and one request in flight, so a slow or failing endpoint
holds up nobody else. Database work runs on a few threads of the relay's own
(each with its own connection), so one endpoint's save does not wait for
another's. Progress is saved at least every ``SAVE_EVERY_SECONDS`` and
whenever a worker fails: a relay killed in between sends those few events
again, with the same ``webhook-id``, which is what receivers de-duplicate on.

Whatever goes wrong while serving an endpoint (an answer nothing expected, a
bug, a save the database refuses) ends as a recorded failure: logged once,
counted, retried after the backoff, paused after the configured limit, and
the endpoint's lease given back. A hostile receiver must never turn into a
relay that retries it in a loop without counting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from shop_manager.conf import get_config
from shop_manager.models import ProductEvent
from shop_manager.webhooks import store
from shop_manager.webhooks.delivery import EndpointClient, Outcome
from shop_manager.webhooks.errors import summary
from shop_manager.webhooks.payloads import Message, messages
from shop_manager.webhooks.signing import signature_header

__all__ = ["Relay", "Totals"]

logger = logging.getLogger("shop_manager.webhooks")

T = TypeVar("T")
# Deliveries are saved at least this often while a worker is busy.
SAVE_EVERY_SECONDS = 0.25
# Attempts are pruned this often.
PRUNE_EVERY_SECONDS = 3600.0


# Threads (so database connections) a relay uses on PostgreSQL. SQLite gets
# one: it writes one transaction at a time anyway.
DATABASE_THREADS = 4


class _DatabaseThreads:
    """A few single-thread executors: Django's connections are per thread, so
    each lane keeps one connection, and calls on one lane run in order."""

    def __init__(self, count: int) -> None:
        self._lanes = [
            ThreadPoolExecutor(1, thread_name_prefix="shop_manager_relay_db")
            for _ in range(count)
        ]

    async def run(self, lane: int, func: Callable[..., T], *args: Any) -> T:
        executor = self._lanes[lane % len(self._lanes)]
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, partial(func, *args))
        except Exception as exc:
            await loop.run_in_executor(executor, store.forget_broken_connection, exc)
            raise

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for executor in self._lanes:
            await loop.run_in_executor(executor, store.close_connection)
            executor.shutdown()


@dataclass
class Totals:
    """What a relay did since it started: the command prints it."""

    delivered: int = 0
    # The endpoints that acknowledged at least one event.
    endpoints: set[int] = field(default_factory=set)
    failed: int = 0
    paused: int = 0


def _database_outage(exc: BaseException) -> bool:
    """Not the endpoint's fault: nothing to count against it."""
    return isinstance(exc, (OperationalError, InterfaceError))


class Relay:
    """``run()`` until ``stop()``; with ``once=True``, until every due
    endpoint has caught up or failed."""

    def __init__(self, *, once: bool = False, owner: str | None = None) -> None:
        self.once = once
        self.owner = (
            owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        )
        self.config = get_config()
        self._stopping: asyncio.Event | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.totals = Totals()
        self.db = _DatabaseThreads(
            DATABASE_THREADS if connection.vendor == "postgresql" else 1
        )

    def stop(self) -> None:
        """Finish the deliveries in flight, save, give the leases up, return."""
        if self._stopping is not None:
            self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping is not None and self._stopping.is_set()

    async def run(self) -> None:
        self._stopping = asyncio.Event()
        served: set[int] = set()
        pruned_at = -PRUNE_EVERY_SECONDS
        try:
            while not self.stopping:
                for pk in [pk for pk, task in self._tasks.items() if task.done()]:
                    self._tasks.pop(pk)
                # A database outage is logged and waited out, never fatal.
                try:
                    if time.monotonic() - pruned_at >= PRUNE_EVERY_SECONDS:
                        pruned_at = time.monotonic()
                        await self.db.run(
                            0,
                            store.prune_attempts,
                            self.config["WEBHOOK_ATTEMPTS_KEEP_DAYS"],
                        )
                    claimed = await self.db.run(
                        0,
                        store.claim,
                        self.owner,
                        self.config["WEBHOOK_LEASE_SECONDS"],
                        {*self._tasks, *served} if self.once else set(self._tasks),
                    )
                except Exception:
                    logger.exception("Webhook relay: database unavailable")
                    claimed = []
                for state in claimed:
                    served.add(state.pk)
                    self._tasks[state.pk] = asyncio.create_task(self._serve(state))
                if self.once:
                    if not self._tasks:
                        return
                    await asyncio.wait(list(self._tasks.values()))
                    continue
                await self._sleep(self.config["WEBHOOK_POLL_SECONDS"])
        finally:
            self._stopping.set()
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            await self.db.close()

    async def _sleep(self, seconds: float) -> None:
        assert self._stopping is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _serve(self, state: store.EndpointState) -> None:
        try:
            worker = _Worker(self, state)
        except Exception:
            # Say so, and give the lease back: a relay that cannot build its
            # HTTP client must not hold the endpoint silently.
            logger.exception("Webhook endpoint %s: relay worker failed", state.pk)
            await self._release(state.pk)
            return
        try:
            await worker.run()
        except Exception as exc:
            # A bug, or a save the database refused: the traceback once,
            # here; then it counts against the endpoint as a failed attempt
            # does, so the next try waits for the backoff.
            logger.exception("Webhook endpoint %s: relay worker failed", state.pk)
            if worker.failure is None and not _database_outage(exc):
                worker.failure = store.Failure(summary(exc))
        finally:
            await worker.client.aclose()
            if worker.holding:
                await self._hand_back(worker)

    async def _hand_back(self, worker: _Worker) -> None:
        """Save the worker's progress and the failure that stopped it (which
        schedules the retry or pauses), then give the lease back: each step
        whatever became of the one before."""
        failure = worker.failure
        saved = True
        if failure is not None or worker.unsaved:
            saved = await self._save(worker, failure)
        if not saved and failure is not None:
            # Perhaps the attempt rows are what the database refused: count
            # the failure without them (their events go again).
            worker.progress = store.Progress(cursor=worker.saved_cursor)
            saved = await self._save(worker, failure)
        if saved and failure is not None:
            self.totals.failed += 1
            self.totals.paused += failure.paused
        await self._release(worker.state.pk)

    async def _save(self, worker: _Worker, failure: store.Failure | None) -> bool:
        try:
            await worker.save(failure)
        except Exception:
            logger.exception("Webhook endpoint %s: could not save", worker.state.pk)
            return False
        return True

    async def _release(self, pk: int) -> None:
        try:
            await self.db.run(pk, store.release, pk, self.owner)
        except Exception:
            logger.exception("Webhook endpoint %s: could not release the lease", pk)


class _Worker:
    """Serves one endpoint for a relay: its events in log order, one request
    at a time, saving progress as it goes."""

    def __init__(self, relay: Relay, state: store.EndpointState) -> None:
        self.relay = relay
        self.config = relay.config
        self.state = state
        self.progress = store.Progress(cursor=state.cursor)
        self.client = EndpointClient(
            timeout=float(self.config["WEBHOOK_TIMEOUT_SECONDS"]),
            max_response_bytes=self.config["WEBHOOK_MAX_RESPONSE_BYTES"],
            allow_private=self.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"],
        )
        # A request must end well inside the lease, or another relay could
        # take the endpoint over while it is still in flight: renew it (by
        # saving) at least this often.
        self.renew_every = (
            float(self.config["WEBHOOK_LEASE_SECONDS"]) / 2 - self.client.timeout
        )
        self.saved_at = time.monotonic()
        self.saved_cursor = state.cursor
        # False once a save found the endpoint no longer this relay's.
        self.holding = True
        # What stopped the deliveries; the relay records it.
        self.failure: store.Failure | None = None

    async def save(self, failure: store.Failure | None = None) -> bool:
        """Save progress and renew the lease; False when the endpoint is no
        longer this relay's to serve (or the attempt failed: saving the
        failure gives the lease up)."""
        self.saved_at = time.monotonic()
        state = await self.relay.db.run(
            self.state.pk,
            store.save_progress,
            self.state,
            self.relay.owner,
            self.progress,
            self.config,
            failure,
        )
        if state is None:
            self.holding = False
            return False
        self.state = state
        self.saved_cursor = self.progress.cursor
        return True

    @property
    def unsaved(self) -> bool:
        return bool(self.progress.attempts) or self.progress.cursor != self.saved_cursor

    async def run(self) -> None:
        """Until stopped, caught up (``once``), failed (``failure``) or no
        longer ours (``holding``)."""
        batch = self.config["WEBHOOK_BATCH_SIZE"]
        # The next batch is read while this one is sent: a database round
        # trip would otherwise stall the endpoint once per batch.
        prefetch: asyncio.Future[list[ProductEvent]] | None = None
        try:
            while not self.relay.stopping:
                if prefetch is not None:
                    events, prefetch = await prefetch, None
                else:
                    events = await self.relay.db.run(
                        self.state.pk, store.events_after, self.progress.cursor, batch
                    )
                if len(events) == batch:
                    prefetch = asyncio.ensure_future(
                        self.relay.db.run(
                            self.state.pk, store.events_after, events[-1].pk, batch
                        )
                    )
                if events:
                    if not await self.send(events):
                        return
                    continue
                if self.relay.once:
                    return
                # Caught up: save what was sent (now and then, not after every
                # small batch), renew the lease, and wait for more.
                since = time.monotonic() - self.saved_at
                if (
                    (self.unsaved and since > SAVE_EVERY_SECONDS)
                    or since > self.renew_every
                ) and not await self.save():
                    return
                await self.relay._sleep(self.config["WEBHOOK_POLL_SECONDS"])
        finally:
            if prefetch is not None:
                prefetch.cancel()

    async def send(self, events: list[ProductEvent]) -> bool:
        """Deliver ``events`` in order; False when one failed (``failure``
        says why) or the endpoint is no longer ours."""
        save_every = min(self.renew_every, SAVE_EVERY_SECONDS)
        for event in events:
            if self.relay.stopping:
                return True
            # The event's message, then its alerts': the cursor passes the
            # event once each one it wants is acknowledged (a failure sends
            # the acknowledged ones again, with their same webhook-id).
            for message in messages(event):
                if not self.state.wants(message.kind):
                    continue
                if (
                    time.monotonic() - self.saved_at > save_every
                    and not await self.save()
                ):
                    return False
                outcome = await self.post(message)
                if not outcome.ok:
                    self.failure = store.Failure(outcome.error, outcome.retry_after)
                    return False
                self.progress.succeeded = True
                self.relay.totals.delivered += 1
                self.relay.totals.endpoints.add(self.state.pk)
            self.progress.cursor = event.pk
        return True

    async def post(self, message: Message) -> Outcome:
        """One attempt, recorded whatever happens on the way."""
        event = message.event
        sent_at = timezone.now()
        started = time.monotonic()
        try:
            outcome = await self._post(message)
        except Exception as exc:
            # A bug, or an answer or URL nothing here expected: the traceback
            # in the log, a short summary in the attempt.
            logger.exception(
                "Webhook endpoint %s: event %s could not be sent",
                self.state.pk,
                event.pk,
            )
            duration_ms = round((time.monotonic() - started) * 1000)
            outcome = Outcome(
                ok=False, status=None, duration_ms=duration_ms, error=summary(exc)
            )
        else:
            if not outcome.ok:
                logger.warning(
                    "Webhook endpoint %s: event %s failed: %s",
                    self.state.pk,
                    event.pk,
                    outcome.error,
                )
        self.progress.attempts.append(
            store.attempt(self.state, event.pk, outcome, sent_at)
        )
        return outcome

    async def _post(self, message: Message) -> Outcome:
        body = message.body(with_costs=self.state.with_costs)
        msg_id = message.id
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                self.state.secrets, msg_id, timestamp, body
            ),
        }
        return await self.client.post(self.state.url, headers, body)
