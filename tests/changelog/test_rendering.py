"""One rendering of a logged change: the product history, the dashboard
without its script and the admin word and date an event the same way."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from shop_manager.changelog.rendering import describe, event_payload
from shop_manager.models import Product, ProductEvent
from tests.helpers.page_text import plain

pytestmark = pytest.mark.django_db

# 03:04 UTC is 08:49 in Kathmandu (UTC+5:45): a site time zone no test
# machine's clock happens to share.
LOGGED_AT = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)
SHOWN_AT = "2026-01-02 08:49"


@pytest.fixture
def updated_tea(settings) -> Product:
    """Tea, then an update of its SKU and low-stock threshold, logged at
    ``LOGGED_AT``, in a site whose time zone is Kathmandu."""
    settings.TIME_ZONE = "Asia/Kathmandu"
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    tea.sku = "T-1"
    tea.low_stock_threshold = 5
    tea.save()
    # The log is append-only through save(); a test may move its clock.
    ProductEvent.objects.update(created=LOGGED_AT)
    return tea


def latest_update() -> ProductEvent:
    return ProductEvent.objects.filter(action="updated").latest("id")


def test_the_payload_labels_each_change_and_dates_the_event(updated_tea):
    payload = event_payload(latest_update())
    assert payload["changes"] == {
        "sku": {"old": None, "new": "T-1", "label": "SKU"},
        "low_stock_threshold": {"old": None, "new": 5, "label": "low-stock threshold"},
    }
    assert payload["time"] == "2026-01-02T03:04:00+00:00"
    assert payload["time_display"] == SHOWN_AT
    assert describe(latest_update()) == (
        "Product “Tea” was updated: SKU — → T-1, low-stock threshold — → 5"
    )


def rendered_event(html: str, event_id: int) -> str:
    """One feed row of a page."""
    match = re.search(
        rf'<li class="sm-feed-item" data-id="{event_id}".*?</li>\s*'
        r'(?=<li class="sm-feed-item"|</ol>)',
        html,
        re.S,
    )
    assert match, f"event {event_id} is not on the page"
    return match.group(0)


def parts(row: str) -> tuple[str, str]:
    """A row's time element and its list of changes."""
    time = re.search(r"<time [^>]*>[^<]*</time>", row)
    changes = re.search(r'<ul class="sm-feed-changes">.*?</ul>', row, re.S)
    assert time
    assert changes
    return time.group(0), " ".join(changes.group(0).split())


def change_lines(changes: str) -> list[str]:
    """Each change of a row's list as a reader sees it."""
    return [plain(line) for line in re.findall(r"<li>.*?</li>", changes)]


def test_history_dashboard_and_admin_show_an_event_alike(
    updated_tea, staff_client, admin_client
):
    event = latest_update()
    history = staff_client.get(updated_tea.get_absolute_url()).text
    dashboard = staff_client.get("/dashboard/products/").text

    on_history = parts(rendered_event(history, event.pk))
    on_dashboard = parts(rendered_event(dashboard, event.pk))
    assert on_history == on_dashboard
    time, changes = on_history
    assert time == f'<time datetime="2026-01-02T03:04:00+00:00">{SHOWN_AT}</time>'
    # Each label capitalised; the old value struck through, the new one marked.
    assert change_lines(changes) == ["SKU: — → T-1", "Low-stock threshold: — → 5"]
    assert '<del class="sm-diff-old">—</del>' in changes
    assert '<ins class="sm-diff-new">T-1</ins>' in changes

    admin = admin_client.get("/admin/shop_manager/productevent/").text
    assert time in admin
    assert "SKU — → T-1, low-stock threshold — → 5" in admin


def test_the_history_is_bounded_and_costs_no_query_per_row(
    client, make_product, django_assert_max_num_queries
):
    tea = make_product(quantity=0)
    for quantity in range(1, 30):
        tea.quantity = quantity
        tea.save()
    client.get(tea.get_absolute_url())  # Warm caches (content types, sessions).
    with django_assert_max_num_queries(3):
        page = client.get(tea.get_absolute_url())
    rows = re.findall(r'<li class="sm-feed-item"', page.text)
    assert len(rows) == 20
    # Newest first, each with the field's label.
    assert "Quantity: 28 → 29" in plain(
        rendered_event(page.text, ProductEvent.objects.latest("id").pk)
    )


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 12, 3, 14, 5, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 1, 9, 0, 0, tzinfo=datetime.timezone.utc),
        datetime.datetime(999, 3, 4, 23, 59, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 6, 30, 22, 30),  # Naive: as it is.
    ],
)
def test_times_and_dates_read_as_the_one_format_says(settings, moment):
    # Written without dateformat.format() for speed: the same text.
    from django.utils import dateformat, timezone

    from shop_manager.changelog.rendering import (
        DATE_FORMAT,
        EVENT_TIME_FORMAT,
        time_display,
    )
    from shop_manager.templatetags.shop_manager import sm_date

    settings.TIME_ZONE = "Europe/Berlin"
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    assert time_display(moment) == dateformat.format(local, EVENT_TIME_FORMAT)
    assert sm_date(moment.date()) == dateformat.format(moment.date(), DATE_FORMAT)
