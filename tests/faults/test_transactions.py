"""Rollbacks and savepoints: the change log and the notifiers follow what
committed, not what was attempted.

Already covered elsewhere: a create or an update inside a transaction that
then raises logs and notifies nothing
(tests/changelog/test_changelog_writer.py::test_a_rolled_back_change_logs_and_notifies_nothing,
::test_a_rolled_back_update_keeps_the_old_log).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from shop_manager.models import Product, ProductEvent
from shop_manager.models import products as models

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("locmem_outbox"),
]


class Boom(Exception):
    pass


def test_a_rolled_back_savepoint_is_neither_logged_nor_notified(locmem_outbox):
    """Fault: code saves products in a savepoint that it rolls back, inside a
    transaction that then commits. Safe outcome: the database holds only the
    outer transaction's products and events, and only those are notified, after
    the commit."""
    with transaction.atomic():
        kept = Product.objects.create(name="Kept", price=Decimal("1.00"))
        try:
            with transaction.atomic():
                Product.objects.create(name="Dropped", price=Decimal("1.00"))
                kept.quantity = 99
                kept.save()
                raise Boom
        except Boom:
            pass
        later = Product.objects.create(name="Later", price=Decimal("1.00"))
        assert locmem_outbox == []  # Nothing before the commit.

    assert list(Product.objects.values_list("name", "quantity")) == [
        ("Kept", 0),
        ("Later", 0),
    ]
    events = list(ProductEvent.objects.all())
    assert [(e.product_pk, e.action) for e in events] == [
        (kept.pk, "created"),
        (later.pk, "created"),
    ]
    assert locmem_outbox == events


def test_a_slug_race_lost_inside_a_callers_transaction_leaves_it_usable(
    locmem_outbox, monkeypatch
):
    """Fault: inside a caller's transaction, a create picks a slug another
    request took a moment earlier (its read of the taken slugs was stale), and
    the insert fails on the unique slug. Safe outcome: the create retries with
    the next free slug and the caller's transaction goes on and commits; every
    product and event is there. On PostgreSQL a failed statement outside a
    savepoint would abort the whole transaction."""
    Product.objects.create(name="Tea", price=Decimal("1.00"))
    locmem_outbox.clear()
    pick = models.next_free_slug
    stale = {"tea"}  # The first read for "tea" misses the row already there.

    def next_free_slug_from_a_stale_read(base, taken, max_length):
        if base in stale:
            stale.discard(base)
            taken = []
        return pick(base, taken, max_length)

    monkeypatch.setattr(models, "next_free_slug", next_free_slug_from_a_stale_read)

    with transaction.atomic():
        coffee = Product.objects.create(name="Coffee", price=Decimal("2.00"))
        tea = Product.objects.create(name="Tea", price=Decimal("3.00"))
        milk = Product.objects.create(name="Milk", price=Decimal("1.00"))

    assert tea.slug == "tea-2"
    assert sorted(Product.objects.values_list("slug", flat=True)) == [
        "coffee",
        "milk",
        "tea",
        "tea-2",
    ]
    logged = list(
        ProductEvent.objects.filter(product_pk__in=[coffee.pk, tea.pk, milk.pk])
    )
    assert [(e.product_slug, e.action) for e in logged] == [
        ("coffee", "created"),
        ("tea-2", "created"),
        ("milk", "created"),
    ]
    assert locmem_outbox == logged
