"""``manage.py create_demo_users``: the example site's two demo logins.

Demo passwords are public, so this lives in the example project, not in the
package, and it never touches an account that already exists: a site that has
a ``staff`` user keeps it, password and all.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

# (username, password, is_staff): the logins `make demo` prints.
DEMO_USERS = (
    ("staff", "staff-demo", True),
    ("shopper", "shopper-demo", False),
)
ROLES = {
    True: "staff: manages products, watches the dashboard",
    False: "view only",
}


class Command(BaseCommand):
    help = (
        "Create the demo users staff/staff-demo and shopper/shopper-demo. "
        "Only with DEBUG on; an existing user is left untouched."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "Refusing to create demo users with public passwords while DEBUG "
                "is off. Run it on a development site (DEBUG=true) only."
            )
        User = get_user_model()
        manager = User._default_manager
        self.stdout.write("Demo logins:")
        for username, password, is_staff in DEMO_USERS:
            if manager.filter(**{User.USERNAME_FIELD: username}).exists():
                self.stdout.write(
                    self.style.WARNING(
                        f"  {username}: a user with this name already exists; "
                        "left unchanged (password not reset)."
                    )
                )
                continue
            manager.create_user(
                **{User.USERNAME_FIELD: username},
                password=password,
                is_staff=is_staff,
            )
            self.stdout.write(f"  {username} / {password}  ({ROLES[is_staff]})")
