"""Admin pages that show records nobody may add, change or delete (the audit
trails: the change log and the webhook delivery attempts)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

__all__ = ["ReadOnlyAdminMixin"]


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
