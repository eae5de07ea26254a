"""Concurrent writers on PostgreSQL, each thread with its own connection, as
requests on a threaded or multi-process server are.

Already covered elsewhere: a stale edit made after the other one committed
(tests/test_product_pages.py::test_stale_edit_is_refused_and_the_other_change_survives)
and concurrent ORM creates getting distinct slugs
(tests/test_product_pages.py::test_concurrent_creates_get_distinct_slugs).
"""

from __future__ import annotations

import contextlib
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from shop_manager.forms import ProductForm
from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product, ProductEvent
from tests.helpers.faults import run_together
from tests.helpers.products import product_form
from tests.helpers.servers import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def saves_wait_for_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each of two form saves, after validation and the version check,
    until the other gets there too (or a second passes, when the other waits
    on a lock): the worst two requests arriving together can do."""
    both_checked = threading.Barrier(2, timeout=1)
    save = ProductForm.save

    def save_when_both_checked(form: ProductForm, commit: bool = True) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()
        return save(form, commit)

    monkeypatch.setattr(ProductForm, "save", save_when_both_checked)


def test_two_stale_edits_at_once_one_wins_the_other_gets_the_conflict_page(
    staff_user, saves_wait_for_each_other
):
    """Fault: two staff members submit the product form from the same version
    at the same moment. Safe outcome: exactly one save wins; the other gets the
    409 conflict page; the winner's values are what the database holds, with
    one ``updated`` event and the version bumped once.

    Without the row lock both would pass the version check and the second
    would overwrite the first.
    """
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    clients = [logged_in(staff_user), logged_in(staff_user)]
    start = threading.Barrier(2)

    def post(client: Client, quantity: int) -> Any:
        start.wait()
        return client.post(
            tea.get_absolute_url(), product_form(tea, quantity=str(quantity))
        )

    responses = run_together(lambda: post(clients[0], 5), lambda: post(clients[1], 6))

    assert sorted(r.status_code for r in responses) == [302, 409]
    winner = 5 if responses[0].status_code == 302 else 6
    loser = next(r for r in responses if r.status_code == 409)
    assert "Someone else changed this product" in loser.text
    assert loser.context["conflict"].quantity == winner
    saved = Product.objects.get(pk=tea.pk)
    assert (saved.quantity, saved.version) == (winner, tea.version + 1)
    updates = ProductEvent.objects.filter(action="updated")
    assert [event.changes for event in updates] == [{"quantity": [4, winner]}]


def test_same_name_created_at_once_gets_distinct_slugs_and_one_event_each(
    staff_user,
):
    """Fault: four staff members create a product called "Tea" at the same
    moment, each request reading the taken slugs before any of them inserts.
    Safe outcome: no 500; four products tea, tea-2, tea-3, tea-4; one
    ``created`` event for each, naming that product's slug."""
    count = 4
    clients = [logged_in(staff_user) for _ in range(count)]
    start = threading.Barrier(count)

    def create(client: Client) -> int:
        start.wait()
        response = client.post(
            "/products/create/",
            {"name": "Tea", "price": "3.50", "cost_price": "0", "quantity": "1"},
        )
        return response.status_code

    statuses = run_together(*(lambda c=c: create(c) for c in clients))

    assert statuses == [302] * count
    slugs = sorted(Product.objects.values_list("slug", flat=True))
    assert slugs == ["tea", "tea-2", "tea-3", "tea-4"]
    events = ProductEvent.objects.all()
    assert [event.action for event in events] == ["created"] * count
    assert sorted(event.product_slug for event in events) == slugs


def test_log_ids_become_visible_in_commit_order(staff_user):
    """Fault: two transactions log changes at once, and the one that took the
    smaller id commits last. A dashboard reading in between would hold the
    larger id, replay from it after a reconnect and never see the smaller one.
    Safe outcome: while the first writer's transaction is open, the second
    writer waits, so nothing later than an uncommitted id is ever visible; both
    events end up logged, in commit order."""
    first_logged = threading.Event()
    first_may_commit = threading.Event()

    second_done = threading.Event()

    def first_writer() -> int:
        with transaction.atomic():
            product = Product.objects.create(name="First", price=Decimal("1.00"))
            first_logged.set()
            assert first_may_commit.wait(timeout=30)
        return event_id_of(product)

    def second_writer() -> int:
        try:
            assert first_logged.wait(timeout=30)
            product = Product.objects.create(name="Second", price=Decimal("1.00"))
            return event_id_of(product)
        finally:
            second_done.set()

    def check_while_the_first_is_open() -> None:
        try:
            assert first_logged.wait(timeout=30)
            wait_until(
                lambda: second_done.is_set() or waiting_for_the_log_lock() > 0,
                what="the second writer to commit or wait",
            )
            visible = latest_event_id()
            assert visible == 0, (
                f"event #{visible} became visible while an earlier one was "
                "still uncommitted"
            )
        finally:
            first_may_commit.set()

    first_id, second_id, _ = run_together(
        first_writer, second_writer, check_while_the_first_is_open
    )

    events = list(ProductEvent.objects.order_by("id"))
    assert [event.product_name for event in events] == ["First", "Second"]
    assert [event.pk for event in events] == [first_id, second_id]


def event_id_of(product: Product) -> int:
    return ProductEvent.objects.get(product_pk=product.pk).pk


def waiting_for_the_log_lock() -> int:
    """Sessions of this database waiting for an advisory lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND NOT granted AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        (count,) = cursor.fetchone()
    return int(count)


def test_the_same_sku_created_at_once_is_a_form_error_not_a_500(
    staff_user, saves_wait_for_each_other
):
    """Fault: two staff members create products with the same SKU at the same
    moment; both forms pass the uniqueness check before either is saved.
    Safe outcome: one product is created; the other request gets the form back
    with the SKU error (status 200, as for any invalid form), not a 500, and
    the database holds one product and one event for that SKU."""
    clients = [logged_in(staff_user), logged_in(staff_user)]
    start = threading.Barrier(2)

    def create(client: Client, name: str) -> Any:
        start.wait()
        return client.post(
            "/products/create/",
            {
                "name": name,
                "sku": "TEA-1",
                "price": "3.50",
                "cost_price": "0",
                "quantity": "1",
            },
        )

    responses = run_together(
        lambda: create(clients[0], "Green tea"), lambda: create(clients[1], "Black tea")
    )

    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert "already exists" in refused.context["form"].errors["sku"][0]
    (product,) = Product.objects.filter(sku="TEA-1")
    assert [(e.action, e.product_pk) for e in ProductEvent.objects.all()] == [
        ("created", product.pk)
    ]


def test_the_same_sku_given_to_two_products_at_once_is_a_form_error_not_a_500(
    staff_user, saves_wait_for_each_other
):
    """Fault: two staff members give two different products the same SKU at
    the same moment (different rows, so the row lock does not order them).
    Safe outcome: one edit is saved; the other gets its form back with the SKU
    error, not a 500, and its product keeps its old values and version."""
    green = Product.objects.create(name="Green tea", price=Decimal("3.50"))
    black = Product.objects.create(name="Black tea", price=Decimal("3.50"))
    clients = [logged_in(staff_user), logged_in(staff_user)]
    start = threading.Barrier(2)

    def edit(client: Client, product: Product) -> Any:
        start.wait()
        return client.post(
            product.get_absolute_url(), product_form(product, sku="TEA-1")
        )

    responses = run_together(
        lambda: edit(clients[0], green), lambda: edit(clients[1], black)
    )

    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert "already exists" in refused.context["form"].errors["sku"][0]
    loser = Product.objects.get(pk=refused.context["product"].pk)
    assert (loser.sku, loser.version) == (None, 1)
    assert ProductEvent.objects.filter(action="updated").count() == 1
