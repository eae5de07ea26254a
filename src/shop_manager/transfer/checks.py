"""System checks for the CSV import and export (docs/checks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Tags, register

from shop_manager.checks import settings_are_a_dict, whole_number_errors

__all__ = ["check_transfer_settings"]


@register(Tags.compatibility)
def check_transfer_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not settings_are_a_dict():
        return []  # E001 says so; nothing else can be read.
    return whole_number_errors({"IMPORT_MAX_BYTES": 1})
