"""The live dashboard page and its nav link."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from shop_manager.models import Product, ProductEvent
from tests.helpers.page_text import plain

pytestmark = pytest.mark.django_db

URL = "/dashboard/products/"
NAV_LINK = f'href="{URL}">Live dashboard</a>'


def initial_events(html: str) -> list[dict]:
    match = re.search(
        r'<script id="sm-initial-events" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert match, "the page carries its events in json_script"
    return json.loads(match.group(1))


def last_id(html: str) -> int:
    match = re.search(r'data-last-id="(\d+)"', html)
    assert match
    return int(match.group(1))


def test_staff_gets_the_latest_events(staff_client, settings):
    settings.SHOP_MANAGER = {"DASHBOARD_EVENTS": 3}
    for n in range(4):
        Product.objects.create(name=f"P{n}", price=Decimal("1"), quantity=n)
    ids = list(ProductEvent.objects.values_list("id", flat=True).order_by("id"))
    response = staff_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    events = initial_events(html)
    assert [e["id"] for e in events] == ids[-3:]  # The newest, oldest first.
    assert events[-1]["message"] == "Product “P3” was created"
    assert events[-1]["product"]["url"] == "/products/p3/"
    assert last_id(html) == ids[-1]
    assert 'data-socket-path="/ws/products/"' in html
    assert "shop_manager/js/dashboard.js" in html


def test_an_empty_log_renders_with_last_id_zero(staff_client):
    html = staff_client.get(URL).content.decode()
    assert initial_events(html) == []
    assert last_id(html) == 0


def test_event_text_cannot_break_out_of_the_json_script(staff_client):
    Product.objects.create(
        name="</script><img src=x onerror=alert(1)>", price=Decimal("1"), quantity=1
    )
    html = staff_client.get(URL).content.decode()
    assert "<img src=x" not in html
    assert initial_events(html)[0]["product"]["name"].startswith("</script>")


def test_a_regular_user_is_forbidden(regular_client):
    assert regular_client.get(URL).status_code == 403


def test_an_anonymous_user_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


def test_an_inactive_staff_session_is_refused(client, staff_user):
    client.force_login(staff_user)
    staff_user.is_active = False
    staff_user.save()
    assert client.get(URL).status_code in (302, 403)


def test_the_nav_links_the_dashboard_for_staff_only(client, staff_client):
    assert NAV_LINK in staff_client.get("/products/").content.decode()
    staff_client.logout()
    assert NAV_LINK not in client.get("/products/").content.decode()


def test_the_nav_hides_the_dashboard_from_regular_users(regular_client):
    html = regular_client.get("/products/").content.decode()
    assert "Live dashboard" not in html


# Before (or without) the script ---------------------------------------------


def feed_rows(html: str) -> list[str]:
    """The server-rendered rows of the feed, newest first, as text."""
    feed = re.search(r"<ol [^>]*data-feed[^>]*>(.*?)</ol>", html, re.S)
    assert feed
    rows = re.split(r'<li class="sm-feed-item"', feed.group(1))[1:]
    return [plain("<li" + row) for row in rows]


def status(html: str) -> str:
    match = re.search(r"<p [^>]*data-connection[^>]*>(.*?)</p>", html, re.S)
    assert match
    return plain(match.group(1))


def test_without_javascript_the_page_shows_recent_changes_and_says_so(
    staff_client, staff_user
):
    """Under a server that 404s the static files (uvicorn without
    ASGIStaticFilesHandler) the page used to say "Connecting…" forever and
    "No changes yet" while changes existed."""
    from shop_manager.changelog.actors import acting_as

    with acting_as(staff_user):
        tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
        tea.quantity = 9
        tea.save()
        Product.objects.create(name="Jam", price=Decimal("2"), quantity=1).delete()

    html = staff_client.get(URL).content.decode()

    assert (
        status(html)
        == "Live updates need JavaScript; showing the 4 most recent changes."
    )
    # Only the script's own strings (its json_script) may say so.
    assert "Connecting" not in re.sub(r"<script.*?</script>", "", html, flags=re.S)
    rows = feed_rows(html)
    assert [row.split()[0] for row in rows] == [
        "Deleted",
        "Created",
        "Updated",
        "Created",
    ]
    assert "by staff" in rows[0]
    assert rows[0].endswith("Product “Jam” was deleted")
    assert rows[2].endswith("Product “Tea” was updated Quantity: 4 → 9")
    assert '<a href="/products/tea/">Product “Tea” was updated</a>' in html
    assert re.search(r"<p [^>]*data-feed-empty[^>]* hidden>", html)


def test_without_javascript_an_empty_log_says_so(staff_client):
    html = staff_client.get(URL).content.decode()
    assert status(html) == "Live updates need JavaScript."
    assert feed_rows(html) == []
    assert not re.search(r"<p [^>]*data-feed-empty[^>]* hidden>", html)
    assert "No changes yet." in html


def test_one_event_is_one_change(staff_client):
    Product.objects.create(name="Tea", price=Decimal("1"), quantity=1)
    html = staff_client.get(URL).content.decode()
    assert (
        status(html) == "Live updates need JavaScript; showing the most recent change."
    )
