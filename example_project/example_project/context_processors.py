"""The example site's template context."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from example_project.management.commands.create_demo_users import DEMO_LOGINS


def demo_logins(request: HttpRequest) -> dict[str, Any]:
    """``demo_logins`` for the login page, on a development site only: the
    passwords are public, and a production site must never print them."""
    if not settings.DEBUG:
        return {}
    return {"demo_logins": DEMO_LOGINS}
