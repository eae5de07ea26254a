from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from shop_manager import notifiers
from shop_manager.models import Product, ProductEvent
from shop_manager.transfer.apply import ImportRefused, import_table
from shop_manager.transfer.plan import CHANGED, CREATED, REFUSED, Rights, plan_import
from shop_manager.transfer.reading import FileRefused, Table, read_file
from tests.helpers.notifiers import RECORDING, RecordingNotifier
from tests.helpers.transfer import csv_bytes

pytestmark = pytest.mark.django_db


def table(rows: list[list[Any]]) -> Table:
    return read_file(io.BytesIO(csv_bytes(rows)))


def test_the_preview_lists_created_changed_and_refused_rows_and_writes_nothing(
    make_product: Any,
) -> None:
    make_product(name="Tea", sku="T-1", price=Decimal("3.50"))
    before = ProductEvent.objects.count()
    plan = plan_import(
        table(
            [
                ["sku", "name", "price"],
                ["T-1", "Tea", "4.00"],
                ["C-1", "Coffee", "7"],
                ["X-1", "Broken", "-1"],
            ]
        ),
        Rights(),
    )
    changed, created, refused = plan.rows
    assert (changed.line, changed.outcome, changed.changes) == (
        2,
        CHANGED,
        {"price": ("3.50", "4.00")},
    )
    assert (created.line, created.outcome) == (3, CREATED)
    assert refused.line == 4
    assert refused.outcome == REFUSED
    assert "greater than or equal to 0" in refused.reasons[0]
    assert Product.objects.count() == 1
    assert ProductEvent.objects.count() == before


def test_duplicate_skus_in_the_file_are_refused_with_both_lines() -> None:
    plan = plan_import(
        table([["sku", "name", "price"], ["A", "x", "1"], ["A", "y", "2"]]), Rights()
    )
    assert [row.outcome for row in plan.rows] == [REFUSED, REFUSED]
    assert "line 3" in plan.rows[0].reasons[0]


def test_a_bad_row_means_nothing_is_written(make_product: Any) -> None:
    make_product(name="Tea", sku="T-1", quantity=1)
    rows = [["sku", "name", "price", "quantity"], ["T-1", "Tea", "3.50", "9"]]
    rows += [[f"N-{n}", "New", "1", "1"] for n in range(5)]
    rows.append(["BAD", "", "1", "1"])  # The form requires a name.
    with pytest.raises(ImportRefused) as refused:
        import_table(table(rows), Rights(), actor=None)
    assert refused.value.plan.refused[0].line == 8
    assert Product.objects.get(sku="T-1").quantity == 1
    assert Product.objects.count() == 1


def test_apply_logs_each_change_with_the_importing_user(
    make_product: Any, staff_user: Any
) -> None:
    make_product(name="Tea", sku="T-1", quantity=1)
    result = import_table(
        table(
            [
                ["sku", "name", "price", "quantity"],
                ["T-1", "Tea", "3.50", "9"],
                ["C-1", "Coffee", "2", "0"],
            ]
        ),
        Rights(),
        actor=staff_user,
    )
    events = list(ProductEvent.objects.filter(pk__in=[e.pk for e in result.events]))
    assert [(e.action, e.actor, e.product_name) for e in events] == [
        ("updated", staff_user, "Tea"),
        ("created", staff_user, "Coffee"),
    ]
    assert events[0].changes == {"quantity": [1, 9]}


def test_a_plan_that_changed_since_the_preview_is_not_applied(
    make_product: Any,
) -> None:
    product = make_product(name="Tea", sku="T-1", quantity=1)
    data = table([["sku", "quantity"], ["T-1", "5"]])
    digest = plan_import(data, Rights()).digest
    product.quantity = 2
    product.save()
    with pytest.raises(ImportRefused) as refused:
        import_table(data, Rights(), actor=None, expected_digest=digest)
    assert refused.value.changed
    assert Product.objects.get(pk=product.pk).quantity == 2


def test_rights_limit_what_a_row_may_do(make_product: Any) -> None:
    make_product(name="Tea", sku="T-1")
    plan = plan_import(
        table([["sku", "name", "price"], ["T-1", "Tea", "9"], ["N", "New", "1"]]),
        Rights(add=False),
    )
    assert [row.outcome for row in plan.rows] == [CHANGED, REFUSED]
    with pytest.raises(FileRefused, match="cost_price"):
        plan_import(
            table([["sku", "cost_price"], ["T-1", "1"]]), Rights(see_costs=False)
        )


@override_settings(SHOP_MANAGER={"NOTIFIERS": {"recording": RECORDING}})
def test_an_import_is_announced_once_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    RecordingNotifier.calls.clear()
    rows = [["sku", "name", "price"]] + [[f"S-{n}", "x", "1"] for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        result = import_table(table(rows), Rights(), actor=None)
    assert RecordingNotifier.calls == [
        ("send_bulk", [event.pk for event in result.events])
    ]


@override_settings(
    SHOP_MANAGER={
        "NOTIFIERS": {
            "test": {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}
        }
    }
)
def test_the_locmem_outbox_gets_every_imported_event(
    django_capture_on_commit_callbacks: Any,
) -> None:
    notifiers.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = import_table(
            table([["sku", "name", "price"], ["A", "x", "1"], ["B", "y", "1"]]),
            Rights(),
            actor=None,
        )
    assert notifiers.outbox == result.events


def test_new_products_get_the_slugs_a_save_would_give(make_product: Any) -> None:
    make_product(name="Tea", sku="T-0")
    make_product(name="Import 2", sku="I-0")  # Takes "import-2".
    result = import_table(
        table(
            [
                ["sku", "name", "price"],
                ["T-1", "Tea", "1"],
                ["T-2", "Tea", "1"],
                ["I-1", "Import", "1"],
            ]
        ),
        Rights(),
        actor=None,
    )
    slugs = dict(Product.objects.values_list("sku", "slug"))
    assert [slugs["T-0"], slugs["T-1"], slugs["T-2"], slugs["I-1"]] == [
        "tea",
        "tea-2",
        "tea-3",
        "import-3",
    ]
    created = {event.product_pk for event in result.events}
    assert created == set(
        Product.objects.exclude(sku__in=["T-0", "I-0"]).values_list("pk", flat=True)
    )


def test_a_change_bumps_the_version_and_keeps_other_fields(make_product: Any) -> None:
    product = make_product(name="Tea", sku="T", quantity=1, description="kept")
    import_table(table([["sku", "quantity"], ["T", "2"]]), Rights(), actor=None)
    product.refresh_from_db()
    assert (product.quantity, product.description, product.version) == (2, "kept", 2)
    assert ProductEvent.objects.latest("id").product_version == 2
