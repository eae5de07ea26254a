"""When to try a failing endpoint again, and when to give up and pause it."""

from __future__ import annotations

import datetime
import random
import time
from typing import Any

from django.utils.http import parse_http_date

__all__ = ["backoff_seconds", "retry_after_seconds", "should_pause"]


def backoff_seconds(
    failures: int,
    config: dict[str, Any],
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Exponential: ``WEBHOOK_BACKOFF_SECONDS`` doubled per consecutive failure,
    capped at ``WEBHOOK_BACKOFF_MAX_SECONDS``, then "equal jitter" (half fixed,
    half random) so endpoints that failed together do not retry together. A
    receiver's Retry-After is honoured up to the cap."""
    base = float(config["WEBHOOK_BACKOFF_SECONDS"])
    cap = float(config["WEBHOOK_BACKOFF_MAX_SECONDS"])
    delay = min(cap, base * 2 ** min(max(failures - 1, 0), 62))
    delay = delay / 2 + (rng or random).uniform(0, delay / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return float(delay)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds (RFC 9110
    section 10.2.3): ASCII digits, or an HTTP-date. None for anything else,
    which leaves the normal backoff: ``str.isdigit()`` alone would accept
    "²", which ``float()`` then refuses."""
    if value is None:
        return None
    value = value.strip(" \t")
    if not value.isascii():
        return None
    if value.isdigit():
        return float(value)  # Not int(): a 5,000-digit value is just "long".
    try:
        when = parse_http_date(value)
    except ValueError:
        return None
    return max(0.0, when - (time.time() if now is None else now))


def should_pause(
    failures: int,
    failing_since: datetime.datetime,
    now: datetime.datetime,
    config: dict[str, Any],
) -> bool:
    most_failures: int = config["WEBHOOK_PAUSE_AFTER_FAILURES"]
    longest: float = config["WEBHOOK_PAUSE_AFTER_SECONDS"]
    return failures >= most_failures or (now - failing_since).total_seconds() >= longest
