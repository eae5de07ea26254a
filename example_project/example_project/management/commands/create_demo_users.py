"""``manage.py create_demo_users``: the example site's demo logins and the
colleagues who appear in its demo history.

Demo passwords are public, so this lives in the example project, not in the
package, and it never touches an account that already exists: a site that has
a ``staff`` user keeps it, password and all.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class DemoUser(NamedTuple):
    username: str
    # None: a colleague named in the demo history, who cannot log in.
    password: str | None
    is_staff: bool
    first_name: str
    last_name: str

    @property
    def role(self) -> str:
        return ROLES[self.is_staff]

    @property
    def short_role(self) -> str:
        return "Manages products" if self.is_staff else "Views products"


# The logins `make demo` prints and the login page lists (with DEBUG on).
DEMO_LOGINS = (
    DemoUser("staff", "staff-demo", True, "Bea", "Brunner"),
    DemoUser("shopper", "shopper-demo", False, "Sam", "Fischer"),
)
# Bea's colleagues: staff who made some of the demo history's changes.
DEMO_COLLEAGUES = (
    DemoUser("carlos", None, True, "Carlos", "Díaz"),
    DemoUser("mia", None, True, "Mia", "Keller"),
)
DEMO_USERS = DEMO_LOGINS + DEMO_COLLEAGUES
# Whose changes the demo history shows.
DEMO_STAFF = tuple(user.username for user in DEMO_USERS if user.is_staff)
ROLES = {
    True: "staff: manages products, watches the dashboard",
    False: "view only",
}


class Command(BaseCommand):
    help = (
        "Create the demo users staff/staff-demo (Bea Brunner) and "
        "shopper/shopper-demo (Sam Fischer), and two staff colleagues who cannot "
        "log in. Only with DEBUG on; an existing user is left untouched."
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
        for user in DEMO_USERS:
            if manager.filter(**{User.USERNAME_FIELD: user.username}).exists():
                self.stdout.write(
                    self.style.WARNING(
                        f"  {user.username}: a user with this name already exists; "
                        "left unchanged (password not reset)."
                    )
                )
                continue
            manager.create_user(
                **{User.USERNAME_FIELD: user.username},
                # create_user makes the password unusable when it is None.
                password=user.password,
                is_staff=user.is_staff,
                first_name=user.first_name,
                last_name=user.last_name,
            )
            if user.password is None:
                self.stdout.write(
                    f"  {user.username} ({user.first_name} {user.last_name}, "
                    f"{user.role}; cannot log in)"
                )
            else:
                self.stdout.write(
                    f"  {user.username} / {user.password}  ({user.first_name} "
                    f"{user.last_name}, {user.role})"
                )
