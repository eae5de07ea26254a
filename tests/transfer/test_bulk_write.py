"""The bulk write of a big import (``COPY`` on PostgreSQL, ``bulk_create()``
elsewhere) against imports of a few rows at a time: the same products, the
same change log, the same notices; nothing written when it fails midway.

On SQLite every size takes the same path and the comparison holds
trivially; the PostgreSQL envs (``DB_BACKEND=postgres``) compare ``COPY``
with the ``INSERT`` a few rows get.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection

from shop_manager import copying, notifiers
from shop_manager.changelog import writer
from shop_manager.changelog.rendering import event_payload
from shop_manager.models import Product, ProductEvent
from shop_manager.transfer import writing
from shop_manager.transfer.apply import import_table
from shop_manager.transfer.plan import CHANGED, CHECKED, CREATED, Rights
from shop_manager.transfer.reading import Table, read_file
from tests.helpers.transfer import csv_bytes

HEADER = ["sku", "name", "price", "quantity", "expiry_date"]
# New products share a few names, so most of their slugs are numbered, and
# one of them is reserved ("import").
NAMES = ("Tea", "Coffee", "Import", "Green tea")
EXISTING = 60
NEW = 180  # Above copying.COPY_MIN_ROWS: the PostgreSQL path is COPY.


def table(rows: list[list[Any]]) -> Table:
    return read_file(io.BytesIO(csv_bytes([HEADER, *rows])))


def seed() -> None:
    """The catalogue before each import: products saved one by one."""
    for n in range(EXISTING):
        Product.objects.create(
            name=NAMES[n % 2], sku=f"E-{n}", price=Decimal("2.00"), quantity=1
        )


def feed_rows() -> list[list[Any]]:
    """New and changed rows interleaved, as a supplier feed has them."""
    rows = [
        [f"N-{n}", NAMES[n % len(NAMES)], f"{n % 7}.25", n, f"2031-01-{n % 28 + 1}"]
        for n in range(NEW)
    ]
    for n in range(EXISTING):
        changed = [f"E-{n}", NAMES[n % 2], "2.00", 5 + n, ""]
        if n % 3 == 0:
            changed[2] = "2.50"  # Price and quantity; otherwise quantity alone.
        rows.insert(n * 3, changed)
    return rows


def imported(rows: list[list[Any]], chunk: int, actor: Any) -> dict[str, Any]:
    """Import ``rows`` ``chunk`` rows at a time, committing each; what the
    products, the change log and the notifier then hold (by SKU, since
    product ids differ from one run to the next)."""
    seed()
    since = ProductEvent.objects.latest_id()
    notifiers.outbox.clear()
    for start in range(0, len(rows), chunk):
        import_table(table(rows[start : start + chunk]), Rights(), actor=actor)
    sku_of = dict(Product.objects.values_list("pk", "sku"))
    log = [
        (sku_of[event.product_pk], *fields)
        for event, *fields in (
            (
                event,
                event.action,
                event.product_name,
                event.product_slug,
                event.product_version,
                event.changes,
                event.actor_id,
                event.actor_name,
            )
            for event in ProductEvent.objects.filter(id__gt=since).order_by("id")
        )
    ]
    notices = []
    for event in notifiers.outbox:
        payload = event_payload(event)
        for varies in ("id", "time", "time_display"):
            del payload[varies]
        payload["product"]["id"] = sku_of[payload["product"]["id"]]
        notices.append(payload)
    products = list(
        Product.objects.order_by("sku").values_list(
            "sku", "name", "slug", "price", "quantity", "expiry_date", "version"
        )
    )
    Product.objects.all().delete()
    return {"log": log, "notices": notices, "products": products}


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The models written with ``COPY`` during the test."""
    written: list[str] = []

    def counted(objs: Any, *, using: str) -> None:
        written.append(type(objs[0]).__name__)
        copying.copy_insert(objs, using=using)

    monkeypatch.setattr(writer, "copy_insert", counted)
    monkeypatch.setattr(writing, "copy_insert", counted)
    return written


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("locmem_outbox")
def test_a_bulk_apply_logs_and_notifies_as_imports_of_a_few_rows_do(
    staff_user: Any, copies: list[str]
) -> None:
    rows = feed_rows()
    whole = imported(rows, len(rows), staff_user)
    on_postgres = connection.vendor == "postgresql"
    assert copies == (["Product", "ProductEvent"] if on_postgres else [])
    few = imported(rows, 20, staff_user)
    assert copies == (["Product", "ProductEvent"] if on_postgres else [])

    assert whole == few
    log = whole["log"]
    assert len(log) == NEW + EXISTING  # One entry per product.
    assert [entry[1] for entry in log[:4]] == [
        "updated",
        "created",
        "created",
        "updated",
    ]
    assert log[0] == (
        "E-0", "updated", "Tea", "tea", 2, {"price": ["2.00", "2.50"], "quantity": [1, 5]},
        staff_user.pk, "staff",
    )  # fmt: skip
    assert log[1][:5] == ("N-0", "created", "Tea", "tea-31", 1)
    assert log[1][5] == {
        "sku": [None, "N-0"],
        "name": [None, "Tea"],
        "price": [None, "0.25"],
        "quantity": [None, 0],
        "cost_price": [None, "0.00"],
        "expiry_date": [None, "2031-01-01"],
    }
    assert [notice["message"] for notice in whole["notices"][:2]] == [
        "Product “Tea” was updated: price 2.00 → 2.50, quantity 1 → 5",
        "Product “Tea” was created",
    ]
    assert len(whole["notices"]) == NEW + EXISTING


@pytest.mark.django_db
def test_new_products_written_in_bulk_get_the_slugs_a_save_would_give(
    make_product: Any, copies: list[str]
) -> None:
    make_product(name="Tea", sku="T-0")
    make_product(name="Import 2", sku="I-0")  # Takes "import-2".
    rows = [[f"T-{n}", "Tea", "1", "1", ""] for n in range(1, 121)]
    rows += [[f"I-{n}", "Import", "1", "1", ""] for n in range(1, 3)]
    import_table(table(rows), Rights(), actor=None)
    if connection.vendor == "postgresql":
        assert copies == ["Product", "ProductEvent"]
    slugs = dict(Product.objects.values_list("sku", "slug"))
    assert [slugs[f"T-{n}"] for n in range(121)] == [
        "tea",
        *(f"tea-{n}" for n in range(2, 122)),
    ]
    assert [slugs["I-1"], slugs["I-2"]] == ["import-3", "import-4"]
    # The next product saved one by one carries on from them.
    assert make_product(name="Tea", sku="T-next").slug == "tea-122"
    # Each product's log entry names it by its slug.
    logged = dict(ProductEvent.objects.values_list("product_pk", "product_slug"))
    assert logged == dict(Product.objects.values_list("pk", "slug"))


def refuse_boom(table_name: str, column: str) -> None:
    """Make the database refuse a row named "Boom" on ``table_name``: a
    failure in the middle of the write, past every check in Python."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION refuse_boom() RETURNS trigger AS $$ "
            f"BEGIN IF NEW.{column} = 'Boom' THEN "
            "RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_boom BEFORE INSERT OR UPDATE ON {table_name} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
        )


def drop_boom(table_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS refuse_boom ON {table_name}")
        cursor.execute("DROP FUNCTION IF EXISTS refuse_boom()")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("locmem_outbox")
@pytest.mark.parametrize(
    ("table_name", "column"),
    [
        ("shop_manager_product", "name"),
        ("shop_manager_productevent", "product_name"),
    ],
)
def test_a_failure_midway_through_the_write_leaves_nothing_written(
    table_name: str, column: str, copies: list[str]
) -> None:
    seed()
    before = list(Product.objects.order_by("pk").values_list())
    logged = ProductEvent.objects.latest_id()
    rows = feed_rows()
    rows.insert(len(rows) // 2, ["N-boom", "Boom", "1", "1", ""])
    notifiers.outbox.clear()
    refuse_boom(table_name, column)
    try:
        with pytest.raises(DatabaseError, match="refused by the test"):
            import_table(table(rows), Rights(), actor=None)
    finally:
        drop_boom(table_name)
    assert copies  # It failed inside a COPY.
    assert list(Product.objects.order_by("pk").values_list()) == before
    assert ProductEvent.objects.latest_id() == logged
    assert notifiers.outbox == []
    # The connection is fine afterwards, and the same file goes in whole.
    rows.remove(["N-boom", "Boom", "1", "1", ""])
    result = import_table(table(rows), Rights(), actor=None)
    assert len(result.events) == NEW + EXISTING
    assert len(notifiers.outbox) == NEW + EXISTING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sku_taken_during_the_check_is_seen_when_copy_refuses_it(
    make_product: Any, copies: list[str]
) -> None:
    rows = [[f"N-{n}", "Tea", "1", "1", ""] for n in range(NEW)]
    taken: list[Product] = []

    def progress(stage: str, done: int, total: int) -> None:
        # Saved (and committed) after the check, before the write.
        if stage == CHECKED and done == total and not taken:
            taken.append(make_product(name="Theirs", sku="N-99", quantity=7))

    result = import_table(table(rows), Rights(), actor=None, progress=progress)
    # The COPY hit the unique SKU, rolled back, and the file was checked
    # again: N-99 is now a change to their product.
    assert copies == ["Product", "Product", "ProductEvent"]
    assert result.plan.counts[CREATED] == NEW - 1
    assert result.plan.counts[CHANGED] == 1
    theirs = Product.objects.get(sku="N-99")
    assert (theirs.pk, theirs.name, theirs.quantity) == (taken[0].pk, "Tea", 1)
    assert Product.objects.count() == NEW
    assert len(set(Product.objects.values_list("slug", flat=True))) == NEW
