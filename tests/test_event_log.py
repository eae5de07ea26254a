"""The change log: one ProductEvent per change, committed with it."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from shop_manager import notifiers
from shop_manager.actors import acting_as
from shop_manager.changelog import log_created, log_event
from shop_manager.models import Product, ProductEvent
from shop_manager.payloads import describe, event_payload

LOCMEM = {
    "NOTIFIERS": {
        "default": {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}
    }
}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_outbox(settings):
    settings.SHOP_MANAGER = LOCMEM
    notifiers.outbox.clear()
    yield
    notifiers.outbox.clear()


def test_create_update_delete_each_log_one_event(make_product):
    tea = make_product(name="Tea", price=Decimal("3.5"), quantity=4)
    tea.quantity = 9
    tea.expiry_date = datetime.date(2030, 1, 2)
    tea.price = Decimal("4")
    tea.save()
    tea.delete()

    created, updated, deleted = ProductEvent.objects.order_by("id")
    assert created.action == "created"
    assert created.changes["price"] == [None, "3.50"]
    assert updated.changes == {
        "price": ["3.50", "4.00"],
        "quantity": [4, 9],
        "expiry_date": [None, "2030-01-02"],
    }
    assert describe(updated) == (
        "Product 'Tea' was updated: price 3.50 → 4.00, quantity 4 → 9, expiry date — → 2030-01-02"
    )
    assert (deleted.action, deleted.product_name, deleted.product_slug) == (
        "deleted",
        "Tea",
        "tea",
    )
    assert event_payload(deleted)["product"]["url"] is None


def test_save_without_changes_logs_nothing(make_product):
    tea = make_product()
    tea.save()
    Product.objects.get(pk=tea.pk).save()
    assert ProductEvent.objects.count() == 1


def test_update_fields_limits_the_diff(make_product):
    tea = make_product(quantity=1)
    tea.quantity = 2
    tea.name = "Green tea"
    tea.save(update_fields=["quantity"])
    assert ProductEvent.objects.last().changes == {"quantity": [1, 2]}


def test_events_are_append_only(make_product):
    event = ProductEvent.objects.get(product_pk=make_product().pk)
    event.product_name = "forged"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_rolled_back_change_logs_and_notifies_nothing(make_product):
    def create_then_fail() -> None:
        with transaction.atomic():
            make_product(name="Ghost")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert not Product.objects.exists()
    assert not ProductEvent.objects.exists()
    assert notifiers.outbox == []


@pytest.mark.django_db(transaction=True)
def test_committed_change_is_notified_once_after_commit(make_product):
    with transaction.atomic():
        tea = make_product()
        assert notifiers.outbox == []  # Not before commit.
    assert [event.product_pk for event in notifiers.outbox] == [tea.pk]


def test_actor_comes_from_acting_as(make_product, staff_user):
    with acting_as(staff_user):
        make_product()
    make_product(name="By the system")
    by_staff, by_nobody = ProductEvent.objects.order_by("id")
    assert (by_staff.actor, by_staff.actor_name) == (staff_user, "staff")
    assert (by_nobody.actor, by_nobody.actor_name) == (None, "")


def test_actor_is_the_request_user(staff_client, staff_user, make_product):
    tea = make_product(quantity=4)
    response = staff_client.post(
        tea.get_absolute_url(),
        {
            "name": "Tea",
            "price": "3.50",
            "cost_price": "0",
            "quantity": "9",
            "version": tea.version,
        },
    )
    assert response.status_code == 302
    event = ProductEvent.objects.last()
    assert (event.action, event.actor, event.changes) == (
        "updated",
        staff_user,
        {"quantity": [4, 9]},
    )


def test_admin_changes_are_attributed(admin_client, admin_user):
    response = admin_client.post(
        "/admin/shop_manager/product/add/",
        {"name": "Kettle", "price": "20.00", "cost_price": "10.00", "quantity": "3"},
    )
    assert response.status_code == 302
    assert ProductEvent.objects.get().actor == admin_user


def test_bulk_helpers_log_and_notify(make_product):
    with transaction.atomic():
        products = Product.objects.bulk_create(
            [
                Product(name=f"Bulk {n}", slug=f"bulk-{n}", price=Decimal(1))
                for n in range(3)
            ]
        )
        events = log_created(products)
    tea = make_product(quantity=4)
    Product.objects.filter(pk=tea.pk).update(quantity=9)
    updated = log_event(tea, "updated", {"quantity": (4, 9)})

    assert [event.action for event in events] == ["created"] * 3
    assert updated.changes == {"quantity": [4, 9]}
    assert ProductEvent.objects.count() == 5


def test_detail_page_shows_history(client, make_product):
    tea = make_product(quantity=4)
    tea.quantity = 9
    tea.save()
    response = client.get(tea.get_absolute_url())
    assert "History" in response.text
    assert "quantity: 4 → 9" in response.text


def test_event_admin_is_read_only(admin_client, make_product):
    event = ProductEvent.objects.get(product_pk=make_product().pk)
    changelist = admin_client.get("/admin/shop_manager/productevent/?q=Tea")
    assert changelist.status_code == 200
    assert "Product &#x27;Tea&#x27; was created" in changelist.text
    assert admin_client.get("/admin/shop_manager/productevent/add/").status_code == 403
    assert (
        admin_client.post(
            f"/admin/shop_manager/productevent/{event.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert ProductEvent.objects.filter(pk=event.pk).exists()


def test_logging_notifier_writes_the_sentence(
    settings, make_product, caplog, django_capture_on_commit_callbacks
):
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "log": {
                "BACKEND": "shop_manager.notifiers.log.LoggingNotifier",
                "OPTIONS": {"LEVEL": "WARNING"},
            }
        }
    }
    tea = make_product(quantity=4)
    with (
        caplog.at_level("INFO", logger="shop_manager.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tea.quantity = 9
        tea.save()
    assert "Product 'Tea' was updated: quantity 4 → 9 (by nobody)" in caplog.text
    assert caplog.records[-1].levelname == "WARNING"
