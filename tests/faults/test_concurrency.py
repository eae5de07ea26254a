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

from shop_manager.feed import latest_event_id
from shop_manager.forms import ProductForm
from shop_manager.models import Product, ProductEvent
from tests.e2e.support import wait_until
from tests.faults.helpers import form_data, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_two_stale_edits_at_once_one_wins_the_other_gets_the_conflict_page(
    staff_user, monkeypatch
):
    """Fault: two staff members submit the product form from the same version
    at the same moment. Safe outcome: exactly one save wins; the other gets the
    409 conflict page; the winner's values are what the database holds, with
    one ``updated`` event and the version bumped once.

    Both saves are held just after their version check until the other one
    gets there too (or a second passes): without the row lock both would pass
    the check and the second would overwrite the first.
    """
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    clients = [logged_in(staff_user), logged_in(staff_user)]
    start = threading.Barrier(2)
    checked = threading.Barrier(2, timeout=1)
    save = ProductForm.save

    def save_after_the_other_checked(form: ProductForm, commit: bool = True) -> Any:
        # Broken after a second when the other request waits for the row lock.
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait()
        return save(form, commit)

    monkeypatch.setattr(ProductForm, "save", save_after_the_other_checked)

    def post(client: Client, quantity: int) -> Any:
        start.wait()
        return client.post(
            tea.get_absolute_url(), form_data(tea, quantity=str(quantity))
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
                timeout=10,
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
