"""Every bundled page asks the database a fixed number of queries, whatever the
size of the catalogue and the change log (issue 16): the session and the user,
then the page's own, each counted here so a query per row shows up as a
failure rather than as a slow page in production."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from shop_manager.changelog.writer import log_events
from shop_manager.models import Product
from tests.helpers.transfer import csv_bytes, upload

# The session and the user: every page a signed-in user opens reads both.
REQUEST = 2


def _grow(tea: Product) -> None:
    """200 more products (some low on stock) and 300 more logged changes."""
    Product.objects.bulk_create(
        Product(
            name=f"Bulk {n:03}",
            slug=f"bulk-{n:03}",
            sku=f"BULK-{n:03}",
            price=Decimal(n),
            quantity=n % 7,
        )
        for n in range(200)
    )
    log_events([(tea, "updated", {"quantity": (n, n + 1)}) for n in range(300)])


def _import_file() -> bytes:
    """Ten products the catalogue has (new prices) and ten new ones."""
    rows: list[list[Any]] = [["sku", "name", "price", "quantity"]]
    rows += [[f"BULK-{n:03}", f"Bulk {n:03}", f"{n}.50", n] for n in range(10)]
    rows += [[f"NEW-{n:03}", f"New {n:03}", "2.00", 1] for n in range(10)]
    return csv_bytes(rows)


def _get(path: str) -> Callable[[Any, Product], Any]:
    return lambda client, tea: client.get(path.format(slug=tea.slug))


def _preview(client: Any, tea: Product) -> Any:
    return client.post("/products/import/", {"file": upload(_import_file())})


# A live page for staff (docs/live-pages.md) also reads the newest event id,
# the point its socket follows the log from.
LIVE = 1

# Page, the request, and its own queries after the session and the user.
PAGES: list[tuple[str, Callable[[Any, Product], Any], int]] = [
    # The count and the page.
    ("list", _get("/products/"), 2 + LIVE),
    ("search + sort", _get("/products/?q=bulk&sort=-price&stock=low"), 2 + LIVE),
    # The product and one page of its history.
    ("detail", _get("/products/{slug}/"), 2 + LIVE),
    ("older history", _get("/products/{slug}/?history_before=100"), 2 + LIVE),
    # The product.
    ("edit form", _get("/products/{slug}/edit/"), 1 + LIVE),
    # The events with "are there older ones?", the tiles' counts, the alerts.
    ("dashboard", _get("/dashboard/products/"), 3),
    # The known SKUs and slugs (one query each per batch of rows) and the
    # previewed file kept in the session (its row and the save).
    ("import preview", _preview, 4),
]


@pytest.mark.parametrize(
    ("request_page", "own"),
    [pytest.param(page, own, id=name) for name, page, own in PAGES],
)
def test_a_page_asks_the_same_few_queries_however_big_the_shop(
    staff_client: Any,
    make_product: Callable[..., Product],
    django_assert_num_queries: Any,
    request_page: Callable[[Any, Product], Any],
    own: int,
) -> None:
    tea = make_product(name="Tea", sku="TEA-1")
    log_events([(tea, "updated", {"quantity": (1, 2)})])
    request_page(staff_client, tea)  # Warm caches (content types, sessions).
    with django_assert_num_queries(REQUEST + own):
        assert request_page(staff_client, tea).status_code == 200
    _grow(tea)
    with django_assert_num_queries(REQUEST + own):
        assert request_page(staff_client, tea).status_code == 200
