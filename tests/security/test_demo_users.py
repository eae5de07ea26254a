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


# Prints the login page's status, then whether it lists the demo logins.
LOGIN_PAGE = """
from django.test import Client
page = Client().get("/accounts/login/", secure=True)
html = page.content.decode()
print(page.status_code, "Demo logins" in html, "staff-demo" in html, "Bea Brunner" in html)
"""


def test_the_demo_users_have_names_and_colleagues(example_db):
    """The demo history is made by people with names; Bea's two colleagues
    appear in it but cannot log in."""
    result = manage("create_demo_users", DEBUG="true", SQLITE_PATH=example_db)
    assert result.returncode == 0, result.stderr
    assert "staff / staff-demo  (Bea Brunner" in result.stdout
    code = (
        "from django.contrib.auth import get_user_model\n"
        "for u in get_user_model().objects.order_by('username'):\n"
        "    print(u.username, u.get_full_name(), u.is_staff, u.has_usable_password())"
    )
    assert shell(code, DEBUG="true", SQLITE_PATH=example_db).splitlines() == [
        "carlos Carlos Díaz True False",
        "mia Mia Keller True False",
        "shopper Sam Fischer False True",
        "staff Bea Brunner True True",
    ]


def test_the_login_page_lists_the_demo_logins_on_a_development_site(example_db):
    env = {"DEBUG": "true", "SQLITE_PATH": example_db, "ALLOWED_HOSTS": "testserver"}
    assert shell(LOGIN_PAGE, **env).split() == ["200", "True", "True", "True"]


def test_a_production_login_page_never_shows_demo_passwords(example_db, tmp_path):
    """Attack: read working credentials off a production site's login page.
    Safe: with DEBUG off the page has no demo logins at all (the example
    project's login template adds them only from its DEBUG-only context)."""
    env = {
        "DEBUG": "false",
        "SECRET_KEY": PRODUCTION_SECRET_KEY,
        "ALLOWED_HOSTS": "testserver",
        "SQLITE_PATH": example_db,
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collected = manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr
    assert shell(LOGIN_PAGE, **env).split() == ["200", "False", "False", "False"]


def test_the_demo_site_loads_users_then_products_with_their_history(example_db):
    result = manage(
        "load_demo_site",
        "--products",
        "12",
        "--seed",
        "4",
        DEBUG="true",
        SQLITE_PATH=example_db,
    )
    assert result.returncode == 0, result.stderr
    assert "Loaded 12 demo products." in result.stdout
    code = (
        "from shop_manager.models import ProductEvent\n"
        "print(sorted(set(ProductEvent.objects.values_list('actor_name', flat=True))))"
    )
    assert shell(code, DEBUG="true", SQLITE_PATH=example_db).strip() == (
        "['Bea Brunner', 'Carlos Díaz', 'Mia Keller']"
    )
    # Run again (every `make demo` does): nothing is added twice.
    again = manage("load_demo_site", DEBUG="true", SQLITE_PATH=example_db)
    assert "Products already loaded; skipping" in again.stdout
