"""CSV import and export from the admin's product list."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:shop_manager_product_changelist")


def exported_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    data = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data)))


def export_action(client: Any, *products: Any) -> list[list[str]]:
    return exported_rows(
        client.post(
            CHANGELIST,
            {"action": "export_csv", "_selected_action": [p.pk for p in products]},
        )
    )


def test_the_product_list_links_to_import_and_export(admin_client: Any) -> None:
    page = admin_client.get(CHANGELIST).text
    assert f'href="{reverse("shop_manager:product-import")}"' in page
    assert f'href="{reverse("shop_manager:product-export")}"' in page


def test_the_export_action_exports_the_ticked_products(
    admin_client: Any, make_product: Any
) -> None:
    tea = make_product(name="Tea", sku="T-1")
    make_product(name="Coffee", sku="C-1")
    header, *rows = export_action(admin_client, tea)
    assert [row[header.index("sku")] for row in rows] == ["T-1"]
    assert "cost_price" in header


@override_settings(
    SHOP_MANAGER={
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
)
def test_the_export_action_leaves_costs_out_for_who_may_not_see_them(
    client: Any, django_user_model: Any, make_product: Any
) -> None:
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.set(
        Permission.objects.filter(codename__in=["view_product", "change_product"])
    )
    client.force_login(clerk)
    header, *rows = export_action(client, make_product(name="Tea", sku="T-1"))
    assert len(rows) == 1
    assert "cost_price" not in header
    assert "supplier_number" not in header
