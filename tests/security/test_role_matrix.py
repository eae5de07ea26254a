"""Every role against every product URL and method, under both view settings.

The policy (``shop_manager.permissions.StaffPolicy``): anyone views unless
``LOGIN_REQUIRED``; active staff and superusers manage and watch; inactive
users nothing. Refused anonymous requests go to the login page, refused
logged-in ones get 403, and a refused request changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from shop_manager.models import Product
from tests.helpers.products import VALID_PRODUCT, product, product_form, snapshot
from tests.helpers.users import ROLES, client_for

pytestmark = pytest.mark.django_db

LOGIN = "login"  # 302 to /accounts/login/?next=…
ADMIN_LOGIN = "admin-login"  # 302 to /admin/login/?next=…

REQUESTS = [
    "list GET",
    "list POST",
    "detail GET",
    "detail POST",
    "create GET",
    "create POST",
    "delete GET",
    "delete POST",
    "dashboard GET",
    "dashboard POST",
    "admin changelist GET",
]
# Requests that change products when they succeed.
WRITES = {"detail POST", "create POST", "delete POST"}


def expected_for(role: str, login_required: bool) -> dict[str, Any]:
    # An inactive user's live session no longer authenticates: Django's
    # ModelBackend.get_user() refuses inactive users, so the request is
    # anonymous.
    anonymous = role in {"anonymous", "inactive"}
    managers = role in {"staff", "superuser"}
    refused = LOGIN if anonymous else 403
    if managers:
        return {
            "list GET": 200,
            "list POST": 405,
            "detail GET": 200,
            "detail POST": 302,
            "create GET": 200,
            "create POST": 302,
            "delete GET": 200,
            "delete POST": 302,
            "dashboard GET": 200,
            "dashboard POST": 405,
            # Staff without model permissions may enter the admin but not
            # this changelist; the superuser has every permission.
            "admin changelist GET": 200 if role == "superuser" else 403,
        }
    viewer = LOGIN if anonymous and login_required else None
    return {
        "list GET": viewer or 200,
        "list POST": viewer or 405,
        "detail GET": viewer or 200,
        "detail POST": refused,
        "create GET": refused,
        "create POST": refused,
        "delete GET": refused,
        "delete POST": refused,
        "dashboard GET": refused,
        "dashboard POST": refused,
        "admin changelist GET": ADMIN_LOGIN,
    }


def send(client: Client, request: str, item: Product) -> Any:
    detail = item.get_absolute_url()
    delete = f"/products/{item.slug}/delete"
    return {
        "list GET": lambda: client.get("/products/?q=tea&sort=-price"),
        "list POST": lambda: client.post("/products/", VALID_PRODUCT),
        "detail GET": lambda: client.get(detail),
        "detail POST": lambda: client.post(detail, product_form(item, name="Pwned")),
        "create GET": lambda: client.get("/products/create/"),
        "create POST": lambda: client.post("/products/create/", VALID_PRODUCT),
        "delete GET": lambda: client.get(delete),
        "delete POST": lambda: client.post(delete),
        "dashboard GET": lambda: client.get("/dashboard/products/"),
        "dashboard POST": lambda: client.post("/dashboard/products/", {}),
        "admin changelist GET": lambda: client.get("/admin/shop_manager/product/"),
    }[request]()


def check(role: str, request: str, login_required: bool) -> None:
    client = client_for(role)
    item = product()
    before = snapshot()

    response = send(client, request, item)

    expected = expected_for(role, login_required)[request]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=/")
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/?next=/admin/")
    else:
        assert response.status_code == expected
    if expected == 302 and request in WRITES:
        assert snapshot() != before
    else:  # Refused or read-only.
        assert snapshot() == before


@pytest.mark.parametrize("request_", REQUESTS)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role, request_):
    """Attack: each role tries every page and every change (anonymous
    visitors, shoppers, a deactivated staff member whose session cookie is
    still alive). Safe: only active staff and superusers change anything;
    the rest get the login page or 403 and the database is unchanged."""
    check(role, request_, login_required=False)


@pytest.mark.parametrize("request_", REQUESTS)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_with_login_required(role, request_):
    """The same with ``SHOP_MANAGER["LOGIN_REQUIRED"]``: anonymous visitors
    (and inactive users) are sent to log in even to read."""
    with override_settings(SHOP_MANAGER={"LOGIN_REQUIRED": True}):
        check(role, request_, login_required=True)


def test_get_on_delete_never_deletes():
    """Attack: a link or prefetch of the delete URL (GET) removes a product.
    Safe: GET only shows the confirmation; the product is still there."""
    client = client_for("staff")
    item = product()
    before = snapshot()

    response = client.get(f"/products/{item.slug}/delete")

    assert response.status_code == 200
    assert "Yes, delete it" in response.text
    assert snapshot() == before
