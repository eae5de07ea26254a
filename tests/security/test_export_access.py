"""Who may download the catalogue, and what one download costs (issue 13,
hole 11).

Anyone, logged in or not, could export every product on demand: 50,000
products took about a second per request, and four at once slowed the list
page sevenfold. Now the policy's ``can_export`` decides, by default for who
may manage products (staff under the default policy); ``EXPORT_ALLOWED =
"viewers"`` keeps "whoever may see the list may export it". A download costs
the same number of queries whatever the catalogue's size.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shop_manager.models import Product
from shop_manager.transfer import export
from tests.helpers.users import client_for

pytestmark = pytest.mark.django_db

EXPORT = reverse("shop_manager:product-export")
LIST = reverse("shop_manager:product-list")
ADMIN_LIST = reverse("admin:shop_manager_product_changelist")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),  # To the login page.
        ("regular", 403),
        ("inactive", 302),
        ("staff", 200),
        ("superuser", 200),
    ],
)
def test_only_managers_may_export_by_default(
    role: str, status: int, make_product: Any
) -> None:
    make_product(name="Tea", sku="T")
    client = client_for(role)
    response = client.get(EXPORT)
    assert response.status_code == status
    if status != 200:
        assert b"T,Tea" not in response.content
    assert (EXPORT in client.get(LIST).text) == (status == 200)


@pytest.mark.parametrize("role", ["anonymous", "regular"])
def test_viewers_may_export_when_the_site_says_so(
    role: str, settings: Any, make_product: Any
) -> None:
    settings.SHOP_MANAGER = {"EXPORT_ALLOWED": "viewers"}
    make_product(name="Tea", sku="T", cost_price=1, supplier_number="SUP-1")
    client = client_for(role)
    response = client.get(EXPORT)
    assert response.status_code == 200
    data = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "T,Tea" in data
    assert "SUP-1" not in data  # Costs still only for who may see them.
    assert EXPORT in client.get(LIST).text


def test_viewers_still_need_to_see_the_list(settings: Any) -> None:
    settings.SHOP_MANAGER = {"EXPORT_ALLOWED": "viewers", "LOGIN_REQUIRED": True}
    assert Client().get(EXPORT).status_code == 302


def test_the_admin_offers_the_export_only_to_who_may_export(
    client: Client, django_user_model: Any, settings: Any, make_product: Any
) -> None:
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_product"))
    client.force_login(viewer)
    tea = make_product(name="Tea", sku="T")
    page = client.get(ADMIN_LIST).text
    assert EXPORT not in page
    assert "export_csv" not in page
    response = client.post(
        ADMIN_LIST, {"action": "export_csv", "_selected_action": [tea.pk]}
    )
    assert not response.get("Content-Type", "").startswith("text/csv")


def export_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(EXPORT)
        assert response.status_code == 200
        b"".join(response.streaming_content)
    return len(queries)


def test_an_export_costs_the_same_queries_at_any_size(
    staff_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamed in chunks of CHUNK_ROWS (made small here) from one query:
    no query per product and none per chunk."""
    monkeypatch.setattr(export, "CHUNK_ROWS", 3)
    Product.objects.bulk_create(
        Product(name=f"P{n}", slug=f"p{n}", sku=f"S{n}", price=1) for n in range(2)
    )
    few = export_queries(staff_client)
    Product.objects.bulk_create(
        Product(name=f"P{n}", slug=f"p{n}", sku=f"S{n}", price=1) for n in range(2, 40)
    )
    assert export_queries(staff_client) == few
