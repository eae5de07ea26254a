"""When to try a failing endpoint again, and when to give up and pause it."""

from __future__ import annotations

import datetime
import random
from typing import Any

__all__ = ["backoff_seconds", "should_pause"]


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


def should_pause(
    failures: int,
    failing_since: datetime.datetime,
    now: datetime.datetime,
    config: dict[str, Any],
) -> bool:
    most_failures: int = config["WEBHOOK_PAUSE_AFTER_FAILURES"]
    longest: float = config["WEBHOOK_PAUSE_AFTER_SECONDS"]
    return failures >= most_failures or (now - failing_since).total_seconds() >= longest
