from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from shop_manager.models import Product, ProductEvent
from tests.helpers.transfer import csv_bytes, upload

pytestmark = pytest.mark.django_db

EXPORT = reverse("shop_manager:product-export")
IMPORT = reverse("shop_manager:product-import")


def exported(client: Any, query: str = "") -> tuple[bytes, list[list[str]]]:
    response = client.get(EXPORT + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    data = b"".join(response.streaming_content)
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_export_follows_the_list_search_and_sort(
    client: Any, make_product: Any
) -> None:
    make_product(name="Green tea", sku="G", price=Decimal("2"))
    make_product(name="Black tea", sku="B", price=Decimal("5"))
    make_product(name="Coffee", sku="C")
    _, rows = exported(client, "?q=tea&sort=-price")
    assert [row[0] for row in rows[1:]] == ["B", "G"]


def test_costs_are_exported_only_to_who_may_see_them(
    regular_user: Any, staff_user: Any, make_product: Any
) -> None:
    make_product(sku="T", cost_price=Decimal("1.25"), supplier_number="SUP-9")
    regular, staff_client = Client(), Client()
    regular.force_login(regular_user)
    staff_client.force_login(staff_user)
    _, hidden = exported(regular)
    assert "cost_price" not in hidden[0]
    assert "SUP-9" not in hidden[1]
    _, staff = exported(staff_client)
    assert staff[1][staff[0].index("supplier_number")] == "SUP-9"


def test_formula_like_cells_are_neutralised(client: Any, make_product: Any) -> None:
    make_product(name="=HYPERLINK(1)", sku="@x")
    _, rows = exported(client)
    assert rows[1][:2] == ["'@x", "'=HYPERLINK(1)"]


def test_export_then_import_changes_nothing_and_logs_nothing(
    staff_client: Any, make_product: Any
) -> None:
    make_product(
        name="-Tea\twith tab",
        sku="+T",
        description="two\r\nlines",
        cost_price=Decimal("1.10"),
        supplier_number="'quoted",
    )
    make_product(name="Coffee", sku="C", low_stock_threshold=3)
    make_product(name="No SKU")  # Exported; skipped on import, not refused.
    data, _ = exported(staff_client)
    events = ProductEvent.objects.count()
    preview = staff_client.post(IMPORT, {"file": upload(data)})
    counts = preview.context["plan"].counts
    assert (counts["unchanged"], counts["skipped"], counts["refused"]) == (2, 1, 0)
    applied = staff_client.post(
        IMPORT,
        {
            "apply": "1",
            "file": preview.context["sha256"],
            "plan": preview.context["plan"].digest,
        },
    )
    assert applied.status_code == 302
    assert ProductEvent.objects.count() == events


def test_preview_then_apply(
    staff_client: Any, staff_user: Any, make_product: Any
) -> None:
    make_product(name="Tea", sku="T", quantity=1)
    data = csv_bytes([["SKU", "Quantity"], ["T", "7"]], delimiter=";")
    preview = staff_client.post(IMPORT, {"file": upload(data)})
    assert preview.status_code == 200
    assert "quantity: 1 → 7" in preview.content.decode()
    assert Product.objects.get(sku="T").quantity == 1
    response = staff_client.post(
        IMPORT,
        {
            "apply": "1",
            "file": preview.context["sha256"],
            "plan": preview.context["plan"].digest,
        },
        follow=True,
    )
    assert "1 product changed" in response.content.decode()
    assert Product.objects.get(sku="T").quantity == 7
    assert ProductEvent.objects.latest("id").actor == staff_user


def test_apply_without_the_previewed_file_writes_nothing(
    staff_client: Any, make_product: Any
) -> None:
    make_product(name="Tea", sku="T", quantity=1)
    preview = staff_client.post(IMPORT, {"file": upload(b"sku,quantity\nT,7\n")})
    response = staff_client.post(
        IMPORT, {"apply": "1", "file": "0" * 64, "plan": preview.context["plan"].digest}
    )
    assert response.status_code == 400
    assert Product.objects.get(sku="T").quantity == 1


def test_a_refused_file_is_a_clear_message_not_a_server_error(
    staff_client: Any, settings: Any
) -> None:
    settings.SHOP_MANAGER = {"IMPORT_MAX_BYTES": 8}
    response = staff_client.post(IMPORT, {"file": upload(b"sku,name\nA,Tea\n")})
    assert response.status_code == 400
    assert "files over 8 bytes are refused" in response.content.decode()


def test_view_only_users_may_not_import(regular_client: Any) -> None:
    assert regular_client.get(IMPORT).status_code == 403
    response = regular_client.post(
        IMPORT, {"file": upload(b"sku,name,price\nA,Tea,1\n")}
    )
    assert response.status_code == 403
    assert not Product.objects.exists()


def test_the_list_links_to_import_only_for_managers(
    regular_client: Any, staff_user: Any
) -> None:
    list_url = reverse("shop_manager:product-list")
    assert IMPORT not in regular_client.get(list_url).content.decode()
    regular_client.force_login(staff_user)
    assert IMPORT in regular_client.get(list_url).content.decode()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_export_streams_under_asgi_without_reading_everything_first(
    async_client: Any, settings: Any
) -> None:
    from asgiref.sync import sync_to_async
    from channels.db import database_sync_to_async
    from django.db import connections

    await database_sync_to_async(Product.objects.create)(name="Tea", sku="T", price=1)
    response = await async_client.get(EXPORT)
    assert response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    # The test client keeps connections open (it unhooks request_finished);
    # close the one the export used in sync_to_async's thread.
    await sync_to_async(connections.close_all)()
    assert b"".join(chunks).decode("utf-8-sig").splitlines()[1].startswith("T,Tea")


def test_a_change_after_the_preview_shows_the_new_plan_to_apply(
    staff_client: Any, make_product: Any
) -> None:
    product = make_product(name="Tea", sku="T", quantity=1, price=Decimal("1.00"))
    preview = staff_client.post(IMPORT, {"file": upload(b"sku,quantity\nT,7\n")})
    product.price = Decimal("2.00")
    product.quantity = 3
    product.save()
    stale = staff_client.post(
        IMPORT,
        {
            "apply": "1",
            "file": preview.context["sha256"],
            "plan": preview.context["plan"].digest,
        },
    )
    assert stale.status_code == 409
    assert "quantity: 3 → 7" in stale.content.decode()
    assert Product.objects.get(sku="T").quantity == 3
    staff_client.post(
        IMPORT,
        {
            "apply": "1",
            "file": stale.context["sha256"],
            "plan": stale.context["plan"].digest,
        },
    )
    product.refresh_from_db()
    assert (product.quantity, product.price) == (7, Decimal("2.00"))
