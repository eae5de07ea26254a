"""Demo accounts: the package never touches a host's users; the example
project's ``create_demo_users`` never takes over an existing account."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.helpers.example_site import PRODUCTION_SECRET_KEY, manage, shell

# Prints "<is_staff> <password matches>" for each username given.
CHECK_USERS = """
from django.contrib.auth import get_user_model
User = get_user_model()
for name, password in {pairs!r}:
    user = User.objects.filter(username=name).first()
    print(name, user and user.is_staff, user and user.check_password(password))
"""


def users(db: str, *pairs: tuple[str, str]) -> list[str]:
    code = CHECK_USERS.format(pairs=list(pairs))
    return shell(code, DEBUG="true", SQLITE_PATH=db).splitlines()


@pytest.mark.django_db
def test_package_demo_command_leaves_existing_accounts_alone(django_user_model):
    """Attack: a site has a real `staff` account; someone runs the package's
    `load_demo_data`, which used to reset its password to the public
    `staff-demo`. Safe: the account keeps its password and role, and the
    command creates no users at all."""
    django_user_model.objects.create_user(
        username="staff", password="the-owners-secret"
    )
    call_command("load_demo_data", "--products", "3", stdout=io.StringIO())

    staff = django_user_model.objects.get(username="staff")
    assert staff.check_password("the-owners-secret")
    assert not staff.check_password("staff-demo")
    assert not staff.is_staff
    assert list(django_user_model.objects.values_list("username", flat=True)) == [
        "staff"
    ]


def test_demo_users_are_created_on_a_fresh_development_site(example_db):
    """The example project's command makes both demo logins when none exist."""
    result = manage("create_demo_users", DEBUG="true", SQLITE_PATH=example_db)

    assert result.returncode == 0, result.stderr
    assert "staff / staff-demo" in result.stdout
    assert "shopper / shopper-demo" in result.stdout
    assert users(example_db, ("staff", "staff-demo"), ("shopper", "shopper-demo")) == [
        "staff True True",
        "shopper False True",
    ]


def test_demo_users_never_take_over_an_existing_account(example_db):
    """Attack: the demo command runs on a site where `staff` is a real user.
    Safe: it says so and skips it (password and role untouched); only the
    missing `shopper` is created."""
    shell(
        "from django.contrib.auth import get_user_model;"
        "get_user_model().objects.create_user('staff', password='the-owners-secret')",
        DEBUG="true",
        SQLITE_PATH=example_db,
    )

    result = manage("create_demo_users", DEBUG="true", SQLITE_PATH=example_db)

    assert result.returncode == 0, result.stderr
    assert "staff: a user with this name already exists" in result.stdout
    assert "staff / staff-demo" not in result.stdout
    assert users(
        example_db, ("staff", "the-owners-secret"), ("shopper", "shopper-demo")
    ) == ["staff False True", "shopper False True"]


def test_demo_users_are_refused_when_debug_is_off(example_db):
    """Attack: the demo command runs on a production site (DEBUG off).
    Safe: it refuses with a clear error and creates no account."""
    result = manage(
        "create_demo_users",
        DEBUG="false",
        SECRET_KEY=PRODUCTION_SECRET_KEY,
        SQLITE_PATH=example_db,
    )

    assert result.returncode != 0
    assert "Refusing to create demo users" in result.stderr
    assert users(example_db, ("staff", "staff-demo"), ("shopper", "shopper-demo")) == [
        "staff None None",
        "shopper None None",
    ]
