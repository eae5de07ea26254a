"""``events_committed``: the one way the change log tells its listeners (the
notifiers, a host's own receivers) about committed changes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from shop_manager.changelog import announced_together
from shop_manager.changelog.signals import events_committed
from shop_manager.models import Product, ProductEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("locmem_outbox")]


@pytest.fixture
def heard() -> Iterator[list[dict[str, Any]]]:
    """What a host's receiver of ``events_committed`` is sent."""
    calls: list[dict[str, Any]] = []

    def listen(**kwargs: Any) -> None:
        calls.append(kwargs)

    events_committed.connect(listen, dispatch_uid="test-listener")
    yield calls
    events_committed.disconnect(dispatch_uid="test-listener")


def test_a_receiver_hears_each_committed_change_after_commit(
    heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tea = Product.objects.create(name="Tea", price=Decimal("3.50"))
        assert heard == []  # Not before commit.
    assert len(heard) == 1
    assert heard[0]["sender"] is ProductEvent
    assert heard[0]["bulk"] is False
    assert [(e.action, e.product_pk) for e in heard[0]["events"]] == [
        ("created", tea.pk)
    ]


def create_then_roll_back() -> None:
    with transaction.atomic():
        Product.objects.create(name="Tea", price=Decimal("3.50"))
        raise RuntimeError("rolled back")


def test_a_rolled_back_change_sends_nothing(heard, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        create_then_roll_back()
    assert heard == []


def test_changes_announced_together_are_one_bulk_signal(
    heard, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
        announced_together(),
    ):
        Product.objects.create(name="Tea", price=Decimal("3.50"))
        Product.objects.create(name="Jam", price=Decimal("2.00"))
    assert [call["bulk"] for call in heard] == [True]
    assert len(heard[0]["events"]) == 2


def test_a_raising_receiver_neither_fails_the_save_nor_silences_the_notifiers(
    locmem_outbox, caplog, django_capture_on_commit_callbacks
):
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("receiver broke")

    events_committed.connect(broken, dispatch_uid="test-broken")
    try:
        with (
            caplog.at_level(logging.ERROR, "shop_manager.changelog"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            Product.objects.create(name="Tea", price=Decimal("3.50"))
    finally:
        events_committed.disconnect(dispatch_uid="test-broken")
    assert Product.objects.filter(name="Tea").exists()
    assert [event.action for event in locmem_outbox] == ["created"]
    assert "receiver broke" in caplog.text
