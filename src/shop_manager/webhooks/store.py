"""The relay's database side, all synchronous (the relay runs these on its
own database threads, one connection each): claiming endpoints under a
lease, reading the log after a cursor, and saving progress, failures and
attempts.

Leases are timed by the database's clock on PostgreSQL, so relays on hosts
whose clocks differ still agree on when one has expired.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from shop_manager.models import ProductEvent
from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from shop_manager.webhooks.retries import backoff_seconds, should_pause

__all__ = [
    "EndpointState",
    "Failure",
    "claim",
    "db_now",
    "events_after",
    "prune_attempts",
    "release",
    "save_progress",
]


@dataclass
class EndpointState:
    """What a relay's worker needs of an endpoint row, read at claim time and
    refreshed at each save (so admin edits of URL or secret take effect)."""

    pk: int
    url: str
    secrets: list[str]
    actions: list[str]
    with_costs: bool
    cursor: int
    failures: int
    failing_since: datetime.datetime | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, now: datetime.datetime) -> EndpointState:
        return cls(
            pk=endpoint.pk,
            url=endpoint.url,
            secrets=endpoint.signing_secrets(now),
            actions=list(endpoint.actions or []),
            with_costs=endpoint.with_costs,
            cursor=endpoint.cursor,
            failures=endpoint.failures,
            failing_since=endpoint.failing_since,
        )

    def wants(self, action: str) -> bool:
        return not self.actions or action in self.actions


@dataclass
class Failure:
    error: str
    retry_after: float | None = None


@dataclass
class Progress:
    """Deliveries not yet saved: the cursor they reached and their attempts."""

    cursor: int
    attempts: list[WebhookAttempt] = field(default_factory=list)
    succeeded: bool = False


def db_now() -> datetime.datetime:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            now: datetime.datetime = cursor.fetchone()[0]
            return now
    return timezone.now()


def claim(
    owner: str, lease_seconds: float, running: Collection[int], *, limit: int = 1000
) -> list[EndpointState]:
    """Take the lease on endpoints that are due and that no live relay holds.

    ``SKIP LOCKED`` lets relays claim side by side without waiting on each
    other's rows; the lease then keeps them apart between claims.
    """
    with transaction.atomic():
        now = db_now()
        rows = list(
            WebhookEndpoint.objects.select_for_update(skip_locked=True)
            .filter(active=True, paused_at__isnull=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(lease_owner="") | Q(lease_until__lt=now) | Q(lease_owner=owner))
            .exclude(pk__in=list(running))
            .order_by("pk")[:limit]
        )
        WebhookEndpoint.objects.filter(pk__in=[row.pk for row in rows]).update(
            lease_owner=owner,
            lease_until=now + datetime.timedelta(seconds=lease_seconds),
        )
    return [EndpointState.of(row, now) for row in rows]


def events_after(cursor: int, limit: int) -> list[ProductEvent]:
    return list(ProductEvent.objects.filter(id__gt=cursor).order_by("id")[:limit])


def save_progress(
    state: EndpointState,
    owner: str,
    progress: Progress,
    config: dict[str, Any],
    failure: Failure | None = None,
) -> EndpointState | None:
    """Record attempts and move the cursor; renew the lease, or on a failure
    schedule the retry (or pause) and give the lease up.

    None when this relay should stop serving the endpoint: it lost the lease,
    the endpoint is gone, inactive or paused, or the attempt failed.
    """
    with transaction.atomic():
        _no_flush_wait()
        now = db_now()
        updates: dict[str, Any] = {"cursor": progress.cursor}
        if progress.succeeded:
            updates.update(failures=0, failing_since=None, next_attempt_at=None)
        if failure is not None:
            failures = (0 if progress.succeeded else state.failures) + 1
            failing_since = (
                now
                if progress.succeeded or state.failing_since is None
                else state.failing_since
            )
            delay = backoff_seconds(failures, config, retry_after=failure.retry_after)
            updates.update(
                failures=failures,
                failing_since=failing_since,
                next_attempt_at=now + datetime.timedelta(seconds=delay),
                last_error=failure.error,
                lease_owner="",
                lease_until=None,
            )
            if should_pause(failures, failing_since, now, config):
                updates["paused_at"] = now
        else:
            updates["lease_until"] = now + datetime.timedelta(
                seconds=config["WEBHOOK_LEASE_SECONDS"]
            )
        held = WebhookEndpoint.objects.filter(pk=state.pk, lease_owner=owner).update(
            **updates
        )
        if progress.attempts and (
            held or WebhookEndpoint.objects.filter(pk=state.pk).exists()
        ):
            WebhookAttempt.objects.bulk_create(progress.attempts)
        progress.attempts = []
        progress.succeeded = False
        if not held or failure is not None:
            return None
        endpoint = WebhookEndpoint.objects.get(pk=state.pk)
    if not endpoint.active or endpoint.is_paused:
        release(state.pk, owner)
        return None
    return EndpointState.of(endpoint, now)


def _no_flush_wait() -> None:
    """On PostgreSQL, commit progress without waiting for the WAL flush.

    A database crash can then lose the last fraction of a second of saves,
    which only moves a cursor back: those events are sent again with their
    same webhook-id, which at-least-once delivery allows. In exchange the
    relay does not stall on a disk flush several times a second per endpoint.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def release(pk: int, owner: str) -> None:
    WebhookEndpoint.objects.filter(pk=pk, lease_owner=owner).update(
        lease_owner="", lease_until=None
    )


def prune_attempts(keep_days: float) -> int:
    cutoff = timezone.now() - datetime.timedelta(days=keep_days)
    deleted, _ = WebhookAttempt.objects.filter(created__lt=cutoff).delete()
    return int(deleted)


def close_connection() -> None:
    connection.close()


def forget_broken_connection(exc: BaseException) -> None:
    """After a database error, drop the thread's connection so the next call
    reconnects (the server may have restarted)."""
    if isinstance(exc, DatabaseError):
        connection.close_if_unusable_or_obsolete()


def attempt(
    state: EndpointState, event_id: int, outcome: Any, created: datetime.datetime
) -> WebhookAttempt:
    return WebhookAttempt(
        endpoint_id=state.pk,
        event_id=event_id,
        created=created,
        status_code=outcome.status,
        duration_ms=outcome.duration_ms,
        ok=outcome.ok,
        error=outcome.error,
    )
