"""System checks for the webhook settings (docs/checks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register

from shop_manager.checks import (
    interval_errors,
    is_positive_number,
    settings_are_a_dict,
    whole_number_errors,
)
from shop_manager.conf import SETTING_NAME, get_config

__all__ = ["check_webhook_settings"]

# Whole-number settings, and the smallest value each takes.
INTEGER_SETTINGS = {
    "WEBHOOK_MAX_RESPONSE_BYTES": 1,
    "WEBHOOK_PAUSE_AFTER_FAILURES": 1,
    "WEBHOOK_BATCH_SIZE": 1,
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 0,
}
# In seconds (WEBHOOK_ATTEMPTS_KEEP_DAYS in days): any positive number.
INTERVAL_SETTINGS = (
    "WEBHOOK_TIMEOUT_SECONDS",
    "WEBHOOK_BACKOFF_SECONDS",
    "WEBHOOK_BACKOFF_MAX_SECONDS",
    "WEBHOOK_PAUSE_AFTER_SECONDS",
    "WEBHOOK_ATTEMPTS_KEEP_DAYS",
    "WEBHOOK_POLL_SECONDS",
    "WEBHOOK_LEASE_SECONDS",
)


@register(Tags.compatibility)
def check_webhook_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not settings_are_a_dict():
        return []  # E001 says so; nothing else can be read.
    config = get_config()
    errors = whole_number_errors(INTEGER_SETTINGS)
    errors.extend(interval_errors(INTERVAL_SETTINGS))
    allow = config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]
    if not isinstance(allow, bool):
        errors.append(
            Error(
                f"{SETTING_NAME}['WEBHOOK_ALLOW_PRIVATE_ADDRESSES'] must be True or "
                f"False, not {allow!r}.",
                hint="A string such as 'false' is truthy: webhooks could reach the "
                "host's internal services.",
                id="shop_manager.E013",
            )
        )
    timeout, lease = config["WEBHOOK_TIMEOUT_SECONDS"], config["WEBHOOK_LEASE_SECONDS"]
    if (
        is_positive_number(timeout)
        and is_positive_number(lease)
        and timeout * 2 > lease
    ):
        errors.append(
            Error(
                f"{SETTING_NAME}['WEBHOOK_LEASE_SECONDS'] ({lease!r}) must be at least "
                f"twice WEBHOOK_TIMEOUT_SECONDS ({timeout!r}).",
                hint="A relay renews its lease on an endpoint between requests; a "
                "request that outlived the lease would let a second relay deliver "
                "to the same endpoint at the same time.",
                id="shop_manager.E014",
            )
        )
    return errors
