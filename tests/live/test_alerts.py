"""The dashboard's alerts on page load (computed from the data) and their
dismissal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop_manager.live.protocol import event_frame
from shop_manager.models import AlertDismissal, ProductEvent
from tests.helpers.page_text import plain

pytestmark = pytest.mark.django_db

URL = "/dashboard/products/"
DISMISS = "/dashboard/products/alerts/dismiss/"
JSON = {"HTTP_ACCEPT": "application/json"}


def panel(client) -> str:
    html = client.get(URL).text
    return plain(
        html[html.index('id="sm-alerts-title"') : html.index('id="sm-activity-title"')]
    )


def test_alerts_raised_while_nobody_watched_are_listed_on_load(
    staff_client, make_product
):
    tea = make_product(name="Tea", quantity=9)
    tea.quantity = 0  # No dashboard open: nothing missed.
    tea.save()
    assert "Tea Out of stock Dismiss" in panel(staff_client)


def test_a_dismissed_alert_stays_down_until_it_clears_and_comes_back(
    staff_client, make_product
):
    tea = make_product(name="Tea", quantity=2)
    answer = staff_client.post(
        DISMISS, {"product": tea.pk, "condition": "low_stock"}, **JSON
    )
    assert answer.json() == {"dismissed": True}
    assert "Tea Low stock" not in panel(staff_client)

    tea.quantity = 3  # Still low: still dismissed.
    tea.save()
    assert "Tea Low stock" not in panel(staff_client)

    tea.quantity = 20
    tea.save()
    tea.quantity = 1
    tea.save()
    assert "Tea Low stock: 1 left" in panel(staff_client)


def test_the_form_without_script_returns_to_the_dashboard(staff_client, make_product):
    tea = make_product(quantity=0)
    answer = staff_client.post(
        DISMISS, {"product": tea.pk, "condition": "out_of_stock"}
    )
    assert (answer.status_code, answer["Location"]) == (302, URL)
    assert AlertDismissal.objects.filter(product_pk=tea.pk).exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"product": "x", "condition": "low_stock"},
        {"product": "1", "condition": "cost_price"},
        {"product": ["1", "2"], "condition": "low_stock"},
    ],
)
def test_bad_input_is_a_400(staff_client, data):
    assert staff_client.post(DISMISS, data, **JSON).status_code == 400


def test_an_alert_that_is_not_open_cannot_be_dismissed(staff_client, make_product):
    tea = make_product(quantity=50)
    answer = staff_client.post(
        DISMISS, {"product": tea.pk, "condition": "low_stock"}, **JSON
    )
    assert answer.status_code == 409
    assert not AlertDismissal.objects.exists()


def test_who_may_not_watch_may_not_dismiss(regular_client, make_product):
    tea = make_product(quantity=0)
    answer = regular_client.post(
        DISMISS, {"product": tea.pk, "condition": "out_of_stock"}, **JSON
    )
    assert answer.status_code == 403
    assert not AlertDismissal.objects.exists()


def test_a_broken_channel_layer_never_undoes_a_dismissal(
    staff_client, make_product, monkeypatch, django_capture_on_commit_callbacks
):
    from shop_manager.live import alerts

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(alerts.layer, "send", down)
    tea = make_product(quantity=0)
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff_client.post(
            DISMISS, {"product": tea.pk, "condition": "out_of_stock"}, **JSON
        )
    assert answer.status_code == 200
    assert AlertDismissal.objects.filter(product_pk=tea.pk).exists()


def test_an_alert_in_a_frame_carries_no_cost(make_product):
    tea = make_product(quantity=9, cost_price=Decimal("1.00"))
    tea.quantity = 0
    tea.cost_price = Decimal("1.50")
    tea.save()
    frame = event_frame(ProductEvent.objects.latest("id"), with_costs=False)
    assert frame["alerts"]["entered"] == ["out_of_stock"]
    assert "1.50" not in str(frame)
    assert "cost_price" not in str(frame)
