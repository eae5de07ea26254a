"""Notifier backends: configured by alias, run after commit, never fail a save."""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from shop_manager import notifiers
from shop_manager.live.groups import DASHBOARD_GROUP
from shop_manager.live.notifier import ChannelLayerNotifier
from shop_manager.models import Product, ProductEvent
from shop_manager.notifiers import (
    BaseNotifier,
    InvalidNotifierBackendError,
)
from shop_manager.notifiers import (
    notifiers as handler,
)
from shop_manager.notifiers.checks import check_notifiers
from shop_manager.notifiers.locmem import LocmemNotifier
from shop_manager.notifiers.log import LoggingNotifier
from tests.helpers.layers import RecordingLayer
from tests.helpers.notifiers import RAISING
from tests.helpers.waiting import HANG_BOUND

pytestmark = pytest.mark.django_db

LOCMEM = {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}


@pytest.fixture(autouse=True)
def _clean() -> Any:
    notifiers.outbox.clear()
    RecordingLayer.sent.clear()
    yield
    notifiers.outbox.clear()
    RecordingLayer.sent.clear()


def make_events(count: int) -> list[ProductEvent]:
    return [
        ProductEvent.objects.create(
            action="created", product_pk=n, product_name=f"P{n}", product_slug=f"p{n}"
        )
        for n in range(1, count + 1)
    ]


@override_settings(SHOP_MANAGER={"NOTIFIERS": {"broken": RAISING, "test": LOCMEM}})
def test_a_raising_backend_fails_neither_the_save_nor_the_others(
    django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        tea = Product.objects.create(name="Tea", price=Decimal("1"), quantity=1)
    assert Product.objects.filter(pk=tea.pk).exists()
    event = ProductEvent.objects.get()
    assert notifiers.outbox == [event]
    failures = [r for r in caplog.records if r.name == "shop_manager.notifiers"]
    assert len(failures) == 1
    assert failures[0].levelno == logging.ERROR
    assert "'broken' failed" in failures[0].getMessage()
    assert "webhook is down" in caplog.text


@override_settings(SHOP_MANAGER={"NOTIFIERS": {"broken": RAISING, "test": LOCMEM}})
def test_a_raising_backend_does_not_fail_the_http_post(
    staff_client, django_capture_on_commit_callbacks, caplog
):
    tea = Product.objects.create(name="Tea", price=Decimal("1.00"), quantity=4)
    data = {
        "name": "Tea",
        "price": "1.00",
        "cost_price": "0",
        "quantity": 9,
        "version": tea.version,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/products/{tea.slug}/", data)
    assert response.status_code == 302
    tea.refresh_from_db()
    assert tea.quantity == 9
    assert [e.action for e in notifiers.outbox] == ["updated"]
    assert "'broken' failed" in caplog.text


@override_settings(
    CHANNEL_LAYERS={"default": {"BACKEND": "tests.helpers.layers.HangingLayer"}},
    SHOP_MANAGER={
        "NOTIFIERS": {
            "default": {
                "BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier",
                "OPTIONS": {"TIMEOUT": 0.3},
            },
            "test": LOCMEM,
        }
    },
)
def test_a_hanging_channel_layer_is_cut_off_by_the_timeout(caplog):
    (event,) = make_events(1)
    # The layer hangs for an hour: returning before HANG_BOUND shows the
    # timeout cut it, however slowly a loaded machine got there.
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        handler["default"].send(event)
    assert time.monotonic() - started < HANG_BOUND
    started = time.monotonic()
    notifiers.notify([event])  # Logs, never raises, still runs the others.
    assert time.monotonic() - started < HANG_BOUND
    assert notifiers.outbox == [event]
    assert "'default' failed" in caplog.text


@pytest.mark.parametrize(
    "layer",
    [
        "tests.helpers.layers.HangingLayer",
        "tests.helpers.layers.BrokenLayer",
        "tests.helpers.layers.CancelLosingLayer",
    ],
)
def test_a_redis_outage_neither_fails_nor_holds_a_save(
    settings, layer, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": layer}}
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "default": {
                "BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier",
                "OPTIONS": {"TIMEOUT": 0.3},
            }
        }
    }
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=1)
    # A hanging layer would hold the save for an hour.
    assert time.monotonic() - started < HANG_BOUND
    assert ProductEvent.objects.filter(product_pk=tea.pk).exists()
    assert "stay in the change log" in caplog.text


@override_settings(
    CHANNEL_LAYERS={"default": {"BACKEND": "tests.helpers.layers.RecordingLayer"}},
    SHOP_MANAGER={
        "NOTIFIERS": {
            "default": {
                "BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier",
                "OPTIONS": {"MAX_BATCH": 2},
            }
        }
    },
)
def test_channel_layer_sends_one_message_per_event_or_one_hint_for_a_bulk():
    events = make_events(3)
    handler["default"].send_many(events[:2])
    assert [group for group, _ in RecordingLayer.sent] == [DASHBOARD_GROUP] * 2
    first = RecordingLayer.sent[0][1]
    assert (first["type"], first["id"]) == ("product.event", events[0].pk)
    assert json.loads(first["text"])["message"] == "Product “P1” was created"

    RecordingLayer.sent.clear()
    handler["default"].send_many(events)
    assert len(RecordingLayer.sent) == 1
    group, message = RecordingLayer.sent[0]
    assert group == DASHBOARD_GROUP
    assert message["type"] == "product.event"
    assert json.loads(message["text"]) == {
        "type": "heartbeat",
        "last_id": events[-1].pk,
    }


@override_settings(
    CHANNEL_LAYERS={},
    SHOP_MANAGER={
        "NOTIFIERS": {
            "default": {"BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier"}
        }
    },
)
def test_channel_layer_without_a_layer_says_so():
    (event,) = make_events(1)
    with pytest.raises(Exception, match="no 'default' layer"):
        handler["default"].send(event)


@override_settings(
    SHOP_MANAGER={"NOTIFIERS": {"audit": {"BACKEND": "no.such.Backend"}}}
)
def test_a_bad_backend_path_names_the_alias():
    with pytest.raises(InvalidNotifierBackendError, match="'audit'"):
        handler["audit"]
    errors = check_notifiers()
    assert [e.id for e in errors] == ["shop_manager.E006"]
    assert "'audit'" in errors[0].msg
    notifiers.notify(make_events(1))  # Logged, not raised.


@override_settings(
    SHOP_MANAGER={
        "NOTIFIERS": {"audit": {"BACKEND": "no.such.Backend"}, "test": LOCMEM}
    }
)
def test_a_backend_that_cannot_be_built_does_not_silence_the_others(caplog):
    events = make_events(1)
    notifiers.notify(events)
    assert notifiers.outbox == events
    assert "Notifier 'audit' could not be built" in caplog.text


@override_settings(
    SHOP_MANAGER={"NOTIFIERS": {"odd": {"BACKEND": "shop_manager.models.Product"}}}
)
def test_a_backend_that_is_not_a_notifier_is_refused():
    with pytest.raises(InvalidNotifierBackendError, match=r"'odd'"):
        handler["odd"]
    assert [e.id for e in check_notifiers()] == ["shop_manager.E006"]


@override_settings(SHOP_MANAGER={"NOTIFIERS": {"default": LOCMEM}})
def test_an_unknown_alias_is_a_typed_error():
    with pytest.raises(InvalidNotifierBackendError, match="'nope'"):
        handler["nope"]


def test_override_settings_resets_the_handler():
    with override_settings(SHOP_MANAGER={"NOTIFIERS": {"default": LOCMEM}}):
        assert isinstance(handler["default"], LocmemNotifier)
    log = {"BACKEND": "shop_manager.notifiers.log.LoggingNotifier"}
    with override_settings(SHOP_MANAGER={"NOTIFIERS": {"default": log}}):
        assert isinstance(handler["default"], LoggingNotifier)
    assert isinstance(handler["default"], ChannelLayerNotifier)


@override_settings(
    SHOP_MANAGER={
        "NOTIFIERS": {
            "log": {
                "BACKEND": "shop_manager.notifiers.log.LoggingNotifier",
                "OPTIONS": {"LOGGER": "shop.audit", "LEVEL": "WARNING"},
            }
        }
    }
)
def test_logging_notifier_writes_the_sentence(
    make_product, django_capture_on_commit_callbacks, caplog
):
    tea = make_product(name="Tea", quantity=4)
    with (
        caplog.at_level(logging.INFO, logger="shop.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tea.quantity = 9
        tea.save()
    (record,) = [r for r in caplog.records if r.name == "shop.audit"]
    assert record.levelno == logging.WARNING
    assert "Product “Tea” was updated: quantity 4 → 9" in record.getMessage()
    assert "(by nobody)" in record.getMessage()


@override_settings(
    SHOP_MANAGER={
        "NOTIFIERS": {
            "log": {
                "BACKEND": "shop_manager.notifiers.log.LoggingNotifier",
                "OPTIONS": {"MAX_BATCH": 1},
            }
        }
    }
)
def test_logging_notifier_summarises_a_bulk(caplog):
    events = make_events(3)
    with caplog.at_level(logging.INFO, logger="shop_manager.events"):
        notifiers.notify(events)
    messages = [
        r.getMessage() for r in caplog.records if r.name == "shop_manager.events"
    ]
    assert messages == [f"#{events[0].pk}-#{events[-1].pk} 3 products created in bulk"]


def test_the_base_class_must_be_subclassed():
    with pytest.raises(NotImplementedError):
        BaseNotifier().send(ProductEvent())


def test_the_old_channel_layer_notifier_path_still_works_with_a_warning():
    from django.utils.module_loading import import_string

    with pytest.warns(DeprecationWarning, match="shop_manager.live.notifier"):
        old = import_string("shop_manager.notifiers.channel_layer.ChannelLayerNotifier")
    assert old is ChannelLayerNotifier


def test_logging_notifier_words_a_bulk_in_the_sites_language(settings, caplog):
    """Not in the language of the request that made the changes."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "de"
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "log": {
                "BACKEND": "shop_manager.notifiers.log.LoggingNotifier",
                "OPTIONS": {"MAX_BATCH": 1},
            }
        }
    }
    events = [
        ProductEvent(id=pk, action=action)
        for pk, action in ((1, "created"), (2, "created"), (3, "updated"))
    ]
    with (
        caplog.at_level(logging.INFO, logger="shop_manager.events"),
        translation.override("en"),
    ):
        notifiers.notify(events)
    messages = [
        r.getMessage() for r in caplog.records if r.name == "shop_manager.events"
    ]
    assert messages == ["#1-#3 3 Produktänderungen (2 erstellt, 1 geändert) auf einmal"]
