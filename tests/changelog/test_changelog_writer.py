"""The change log: one append-only event per product change, committed with it,
announced only after commit."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.db import transaction
from django.test import RequestFactory

from shop_manager.changelog import announced_together, log_created, log_event
from shop_manager.changelog.actors import acting_as
from shop_manager.changelog.rendering import describe
from shop_manager.changelog.writer import logged_value
from shop_manager.models import Product, ProductEvent
from tests.helpers.products import product_form

LOCMEM = {
    "NOTIFIERS": {
        "default": {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}
    }
}

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("locmem_outbox")]


class Boom(Exception):
    pass


def test_create_update_delete_each_log_one_event(make_product):
    tea = make_product(name="Tea", quantity=4)
    assert list(ProductEvent.objects.values_list("action", flat=True)) == ["created"]
    tea.quantity = 9
    tea.save()
    tea.delete()
    events = list(ProductEvent.objects.all())
    assert [e.action for e in events] == ["created", "updated", "deleted"]
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    assert events[1].changes == {"quantity": [4, 9]}


def test_update_changes_are_json_safe(make_product):
    tea = make_product(price=Decimal("3.5"), expiry_date=datetime.date(2030, 1, 2))
    created = ProductEvent.objects.get()
    assert created.changes["price"] == [None, "3.50"]
    assert created.changes["expiry_date"] == [None, "2030-01-02"]

    tea.price = Decimal("4.25")
    tea.expiry_date = datetime.date(2031, 5, 6)
    tea.save()
    event = ProductEvent.objects.latest("id")
    event.refresh_from_db()  # As stored, after the JSON round trip.
    assert event.changes == {
        "price": ["3.50", "4.25"],
        "expiry_date": ["2030-01-02", "2031-05-06"],
    }


def test_the_sentence_names_each_change_old_to_new(make_product):
    tea = make_product(name="Tea", price=Decimal("3.5"), quantity=4)
    tea.quantity = 9
    tea.expiry_date = datetime.date(2030, 1, 2)
    tea.price = Decimal("4")
    tea.save()
    assert describe(ProductEvent.objects.latest("id")) == (
        "Product “Tea” was updated: price 3.50 → 4.00, quantity 4 → 9, "
        "expiry date — → 2030-01-02"
    )


def test_update_fields_limits_the_diff(make_product):
    tea = make_product(quantity=1)
    tea.quantity = 2
    tea.name = "Green tea"
    tea.save(update_fields=["quantity"])
    assert ProductEvent.objects.latest("id").changes == {"quantity": [1, 2]}


def test_a_save_that_changes_nothing_logs_nothing(make_product, locmem_outbox):
    tea = make_product()
    locmem_outbox.clear()
    tea.save()
    Product.objects.get(pk=tea.pk).save()
    assert ProductEvent.objects.count() == 1
    assert locmem_outbox == []


def test_staff_post_records_the_actor(staff_client, staff_user, make_product):
    tea = make_product(quantity=4)
    response = staff_client.post(
        f"/products/{tea.slug}/", product_form(tea, quantity=9)
    )
    assert response.status_code == 302
    event = ProductEvent.objects.latest("id")
    assert event.action == "updated"
    assert event.changes == {"quantity": [4, 9]}
    assert (event.actor, event.actor_name) == (staff_user, "staff")


def test_admin_change_form_records_the_actor(client, django_user_model, make_product):
    admin = django_user_model.objects.create_superuser("boss", password="pw")
    client.force_login(admin)
    tea = make_product(quantity=4)
    data = product_form(tea, quantity=7)
    del data["version"]
    response = client.post(f"/admin/shop_manager/product/{tea.pk}/change/", data)
    assert response.status_code == 302, response.content
    event = ProductEvent.objects.latest("id")
    assert event.changes == {"quantity": [4, 7]}
    assert (event.actor, event.actor_name) == (admin, "boss")


def test_plain_orm_code_has_no_actor(make_product):
    make_product()
    event = ProductEvent.objects.get()
    assert (event.actor, event.actor_name) == (None, "")


def test_code_acting_for_a_user_records_them(make_product, staff_user):
    with acting_as(staff_user):
        make_product()
    event = ProductEvent.objects.get()
    assert (event.actor, event.actor_name) == (staff_user, "staff")


def test_a_deleted_products_event_keeps_its_name_and_slug(make_product):
    tea = make_product(name="Green Tea")
    pk = tea.pk
    tea.delete()
    event = ProductEvent.objects.latest("id")
    assert (event.action, event.product_pk) == ("deleted", pk)
    assert (event.product_name, event.product_slug) == ("Green Tea", "green-tea")
    assert str(event) == f"#{event.pk} Green Tea deleted"


def test_events_are_append_only(make_product):
    make_product()
    event = ProductEvent.objects.get()
    event.product_name = "Forged"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert ProductEvent.objects.get().product_name == "Tea"


def test_the_event_admin_is_read_only(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    event_admin = site._registry[ProductEvent]
    assert not event_admin.has_add_permission(request)
    assert not event_admin.has_change_permission(request)
    assert not event_admin.has_delete_permission(request)


def test_the_event_admin_lists_events(admin_client, make_product):
    make_product(name="Tea")
    response = admin_client.get("/admin/shop_manager/productevent/")
    assert response.status_code == 200
    assert "Product “Tea” was created" in response.content.decode()
    event = ProductEvent.objects.get()
    change = admin_client.post(
        f"/admin/shop_manager/productevent/{event.pk}/change/",
        {"product_name": "Forged"},
    )
    assert change.status_code == 403
    assert ProductEvent.objects.get().product_name == "Tea"


def test_the_detail_page_shows_the_products_history(client, make_product):
    tea = make_product(quantity=4)
    tea.quantity = 9
    tea.save()
    make_product(name="Coffee")
    response = client.get(f"/products/{tea.slug}/")
    assert response.status_code == 200
    history = list(response.context["history"])
    assert [e["action"] for e in history] == ["updated", "created"]
    html = response.content.decode()
    assert 'id="sm-history-title"' in html
    assert "quantity: 4 → 9" in html


def test_log_created_after_bulk_create_logs_and_notifies(
    django_capture_on_commit_callbacks, locmem_outbox
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        products = Product.objects.bulk_create(
            [
                Product(name="A", slug="a", price=Decimal("1.00"), quantity=1),
                Product(name="B", slug="b", price=Decimal("2"), quantity=2),
            ]
        )
        if products[0].pk is None:  # Backends that cannot return ids.
            products = list(Product.objects.order_by("pk"))
        events = log_created(products)
    assert [e.action for e in events] == ["created", "created"]
    assert ProductEvent.objects.count() == 2
    assert ProductEvent.objects.get(product_slug="b").changes["price"] == [
        None,
        "2.00",
    ]
    assert [e.pk for e in locmem_outbox] == [e.pk for e in events]


def test_log_event_after_queryset_update(
    make_product, django_capture_on_commit_callbacks, locmem_outbox
):
    tea = make_product(quantity=4)
    locmem_outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Product.objects.filter(pk=tea.pk).update(quantity=0)
        event = log_event(tea, ProductEvent.Action.UPDATED, {"quantity": (4, 0)})
    assert ProductEvent.objects.latest("id") == event
    assert event.changes == {"quantity": [4, 0]}
    assert locmem_outbox == [event]


def test_committed_changes_notify_after_commit(
    django_capture_on_commit_callbacks, locmem_outbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Product.objects.create(name="Tea", price=Decimal("1"), quantity=1)
        assert locmem_outbox == []  # Not before commit.
    assert len(callbacks) == 1
    assert [e.action for e in locmem_outbox] == ["created"]


def test_a_rolled_back_change_logs_and_notifies_nothing(
    django_capture_on_commit_callbacks, locmem_outbox
):
    def create_then_fail() -> None:
        with transaction.atomic():
            Product.objects.create(name="Tea", price=Decimal("1"), quantity=1)
            raise Boom

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
    ):
        create_then_fail()
    assert callbacks == []
    assert not ProductEvent.objects.exists()
    assert not Product.objects.exists()
    assert locmem_outbox == []


def test_a_rolled_back_update_keeps_the_old_log(
    make_product, django_capture_on_commit_callbacks, locmem_outbox
):
    tea = make_product(quantity=4)
    locmem_outbox.clear()

    def update_then_fail() -> None:
        with transaction.atomic():
            tea.quantity = 9
            tea.save()
            raise Boom

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        update_then_fail()
    assert list(ProductEvent.objects.values_list("action", flat=True)) == ["created"]
    assert locmem_outbox == []


@pytest.mark.parametrize(
    ("field", "value", "logged"),
    [
        ("price", Decimal("3.5"), "3.50"),
        ("price", Decimal("3.50"), "3.50"),
        ("price", Decimal("0"), "0.00"),
        ("expiry_date", datetime.date(2027, 1, 31), "2027-01-31"),
        ("expiry_date", None, None),
        ("quantity", 9, 9),
        ("name", "Tée", "Tée"),
        ("sku", "", ""),
    ],
)
def test_a_value_is_logged_as_the_user_typed_it(field, value, logged):
    """Money keeps its places, dates are ISO 8601, the rest stays as it is."""
    assert logged_value(field, value) == logged
    assert type(logged_value(field, value)) is type(logged)


def test_changes_announced_together_wait_for_commit_and_go_once(
    locmem_outbox: list[ProductEvent], django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks() as callbacks,
        transaction.atomic(),
        announced_together() as held,
    ):
        Product.objects.create(name="Tea", price=Decimal("1"))
        Product.objects.create(name="Coffee", price=Decimal("2"))
    assert len(callbacks) == 1
    callbacks[0]()
    assert locmem_outbox == held
    assert [event.product_name for event in held] == ["Tea", "Coffee"]


def test_changes_announced_together_are_not_announced_on_rollback(
    locmem_outbox: list[ProductEvent], django_capture_on_commit_callbacks: Any
) -> None:
    def create_then_fail() -> None:
        with transaction.atomic(), announced_together():
            Product.objects.create(name="Tea", price=Decimal("1"))
            raise Boom

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Boom):
        create_then_fail()
    assert callbacks == []
    assert not ProductEvent.objects.exists()
