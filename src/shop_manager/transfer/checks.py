"""System checks for the CSV import and export (docs/checks.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register

from shop_manager.checks import settings_are_a_dict, whole_number_errors
from shop_manager.conf import SETTING_NAME, get_config

__all__ = ["EXPORT_ALLOWED_CHOICES", "check_transfer_settings"]

# Who may export the catalogue (permissions.BasePermissionPolicy.can_export).
EXPORT_ALLOWED_CHOICES = ("managers", "viewers")


@register(Tags.compatibility)
def check_transfer_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not settings_are_a_dict():
        return []  # E001 says so; nothing else can be read.
    # IMPORT_MAX_ROWS bounds what one preview holds and how long it takes.
    errors = whole_number_errors({"IMPORT_MAX_BYTES": 1, "IMPORT_MAX_ROWS": 1})
    export = get_config()["EXPORT_ALLOWED"]
    if export not in EXPORT_ALLOWED_CHOICES:
        errors.append(
            Error(
                f"{SETTING_NAME}['EXPORT_ALLOWED'] must be one of "
                f"{', '.join(map(repr, EXPORT_ALLOWED_CHOICES))}, not {export!r}.",
                hint="'managers': who may add or change products may download the "
                "catalogue; 'viewers': whoever may see the list.",
                id="shop_manager.E017",
            )
        )
    return errors
