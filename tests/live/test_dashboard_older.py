""" "Load older changes": the dashboard's JSON page of events before an id."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from shop_manager.models import Product, ProductEvent

pytestmark = pytest.mark.django_db

URL = "/dashboard/products/events/"


def make_events(count: int) -> list[int]:
    """``count`` creations; their event ids, oldest first."""
    for n in range(count):
        Product.objects.create(name=f"P{n}", price=Decimal("1"), quantity=n)
    return list(ProductEvent.objects.order_by("id").values_list("id", flat=True))


def test_pages_back_to_the_beginning_each_event_once_oldest_first(
    staff_client, settings
):
    settings.SHOP_MANAGER = {"DASHBOARD_EVENTS": 3}
    ids = make_events(7)

    first = staff_client.get(URL, {"before": ids[-1]}).json()
    assert [event["id"] for event in first["events"]] == ids[3:6]
    assert first["more"] is True
    assert first["before"] == ids[-1]
    assert first["events"][0]["message"] == "Product “P3” was created"

    second = staff_client.get(URL, {"before": ids[3]}).json()
    assert [event["id"] for event in second["events"]] == ids[0:3]
    assert second["more"] is False

    third = staff_client.get(URL, {"before": ids[0]}).json()
    assert third == {"before": ids[0], "more": False, "events": []}


def test_an_id_past_the_newest_gives_the_newest_page(staff_client, settings):
    settings.SHOP_MANAGER = {"DASHBOARD_EVENTS": 2}
    ids = make_events(3)
    page = staff_client.get(URL, {"before": str(2**63 - 1)}).json()
    assert [event["id"] for event in page["events"]] == ids[1:]
    assert page["more"] is True


def test_the_page_is_not_cached(staff_client):
    response = staff_client.get(URL, {"before": "1"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_regular_user_is_refused_with_json(regular_client):
    make_events(2)
    response = regular_client.get(URL, {"before": "100"})
    assert response.status_code == 403
    assert "events" not in response.json()


def test_an_anonymous_visitor_is_refused_not_redirected(client):
    """A script asks: a login page behind a redirect would read as broken JSON."""
    make_events(2)
    response = client.get(URL, {"before": "100"})
    assert response.status_code == 403
    assert "events" not in response.json()


def test_an_inactive_staff_session_is_refused(client, staff_user):
    make_events(1)
    client.force_login(staff_user)
    staff_user.is_active = False
    staff_user.save()
    assert client.get(URL, {"before": "100"}).status_code == 403


def test_only_get(staff_client):
    assert staff_client.post(URL, {"before": "1"}).status_code == 405


# The page tells the script whether there is anything older -----------------


def has_older(html: str) -> str:
    match = re.search(r'data-has-older="(\w+)"', html)
    assert match
    return match.group(1)


def test_the_dashboard_says_when_older_events_exist(staff_client, settings):
    settings.SHOP_MANAGER = {"DASHBOARD_EVENTS": 3}
    make_events(3)
    html = staff_client.get("/dashboard/products/").content.decode()
    assert has_older(html) == "false"
    assert 'data-older-url="/dashboard/products/events/"' in html

    make_events(1)
    html = staff_client.get("/dashboard/products/").content.decode()
    assert has_older(html) == "true"
    assert "Load older changes" in html


def test_an_empty_log_has_nothing_older(staff_client):
    html = staff_client.get("/dashboard/products/").content.decode()
    assert has_older(html) == "false"
