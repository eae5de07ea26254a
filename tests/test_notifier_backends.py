"""Notifier backends: configured like CHANNEL_LAYERS, isolated from saves."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.checks import run_checks

from shop_manager import notifiers
from shop_manager.groups import DASHBOARD_GROUP
from shop_manager.models import Product, ProductEvent
from shop_manager.notifiers import InvalidNotifierBackendError

LOCMEM = {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}
CHANNEL = "shop_manager.notifiers.channel_layer.ChannelLayerNotifier"

pytestmark = pytest.mark.django_db


class ExplodingNotifier(notifiers.BaseNotifier):
    def send(self, event: ProductEvent) -> None:
        raise RuntimeError("webhook timed out")


@pytest.fixture(autouse=True)
def _clear_outbox():
    notifiers.outbox.clear()
    yield
    notifiers.outbox.clear()


def save_tea(commit_callbacks, **fields):
    with commit_callbacks(execute=True):
        return Product.objects.create(name="Tea", price=Decimal("3.50"), **fields)


def test_failing_backend_is_logged_and_others_still_run(
    settings, staff_client, caplog, django_capture_on_commit_callbacks
):
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {
            "webhook": {"BACKEND": "tests.test_notifier_backends.ExplodingNotifier"},
            "outbox": LOCMEM,
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/products/create/",
            {"name": "Tea", "price": "3.50", "cost_price": "1", "quantity": "4"},
        )
    assert response.status_code == 302
    assert Product.objects.filter(name="Tea").exists()
    assert [event.product_name for event in notifiers.outbox] == ["Tea"]
    assert "Notifier 'webhook' failed" in caplog.text


@pytest.mark.parametrize(
    "layer", ["tests.layers.HangingLayer", "tests.layers.BrokenLayer"]
)
def test_channel_layer_outage_never_fails_or_holds_a_save(
    settings, layer, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": layer}}
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {"default": {"BACKEND": CHANNEL, "OPTIONS": {"TIMEOUT": 0.3}}}
    }
    started = time.monotonic()
    tea = save_tea(django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 2
    assert ProductEvent.objects.filter(product_pk=tea.pk).exists()
    assert "stay in the change log" in caplog.text


def test_channel_layer_sends_one_serialised_message_per_event(
    settings, django_capture_on_commit_callbacks
):
    settings.SHOP_MANAGER = {"NOTIFIERS": {"default": {"BACKEND": CHANNEL}}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(DASHBOARD_GROUP, channel)
    tea = save_tea(django_capture_on_commit_callbacks, quantity=4)
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "product.event"
    payload = json.loads(message["text"])
    assert payload["product"] == {
        "id": tea.pk,
        "name": "Tea",
        "slug": "tea",
        "url": "/products/tea/",
    }
    assert payload["message"] == "Product 'Tea' was created"


def test_bulk_batches_are_announced_with_one_hint(
    settings, django_capture_on_commit_callbacks
):
    from shop_manager.changelog import log_created

    settings.SHOP_MANAGER = {
        "NOTIFIERS": {"default": {"BACKEND": CHANNEL, "OPTIONS": {"MAX_BATCH": 2}}}
    }
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(DASHBOARD_GROUP, channel)
    with django_capture_on_commit_callbacks(execute=True):
        products = Product.objects.bulk_create(
            [Product(name=f"P{n}", slug=f"p{n}", price=Decimal(1)) for n in range(5)]
        )
        events = log_created(products)
    message = async_to_sync(layer.receive)(channel)
    assert json.loads(message["text"]) == {
        "type": "heartbeat",
        "last_id": events[-1].pk,
    }


def test_missing_layer_is_reported(
    settings, caplog, django_capture_on_commit_callbacks
):
    settings.SHOP_MANAGER = {
        "NOTIFIERS": {"default": {"BACKEND": CHANNEL, "OPTIONS": {"LAYER": "nope"}}}
    }
    save_tea(django_capture_on_commit_callbacks)
    assert "CHANNEL_LAYERS has no 'nope' layer" in caplog.text


def test_bad_backend_path_names_the_alias(settings):
    settings.SHOP_MANAGER = {"NOTIFIERS": {"audit": {"BACKEND": "nowhere.Notifier"}}}
    with pytest.raises(InvalidNotifierBackendError, match="notifier 'audit'"):
        notifiers.notifiers["audit"]
    with pytest.raises(InvalidNotifierBackendError, match="Could not find config"):
        notifiers.notifiers["other"]
    errors = [e for e in run_checks() if e.id == "shop_manager.E006"]
    assert len(errors) == 1
    assert "'audit'" in errors[0].msg


def test_backend_must_subclass_base(settings):
    settings.SHOP_MANAGER = {"NOTIFIERS": {"default": {"BACKEND": "decimal.Decimal"}}}
    with pytest.raises(InvalidNotifierBackendError, match="not a BaseNotifier"):
        notifiers.notifiers["default"]


def test_unbuildable_backends_do_not_fail_saves(
    settings, caplog, django_capture_on_commit_callbacks
):
    settings.SHOP_MANAGER = {"NOTIFIERS": {"default": {"BACKEND": "nowhere.Notifier"}}}
    tea = save_tea(django_capture_on_commit_callbacks)
    assert ProductEvent.objects.filter(product_pk=tea.pk).exists()
    assert "could not be built" in caplog.text


def test_settings_change_rebuilds_backends(
    settings, django_capture_on_commit_callbacks
):
    settings.SHOP_MANAGER = {"NOTIFIERS": {"default": LOCMEM}}
    first = notifiers.notifiers["default"]
    settings.SHOP_MANAGER = {"NOTIFIERS": {"default": LOCMEM}}
    assert notifiers.notifiers["default"] is not first


def test_notifiers_check_rejects_non_dict(settings):
    settings.SHOP_MANAGER = {
        "NOTIFIERS": ["shop_manager.notifiers.log.LoggingNotifier"]
    }
    assert "shop_manager.E006" in {e.id for e in run_checks()}


def test_channel_layer_checks(settings):
    settings.CHANNEL_LAYERS = {}
    assert "shop_manager.E007" in {e.id for e in run_checks()}
    redis = "channels_redis.core.RedisChannelLayer"
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": redis, "CONFIG": {"hosts": ["redis://h:6379"]}}
    }
    assert "shop_manager.W002" in {e.id for e in run_checks()}
    for hosts in (
        [{"address": "redis://h:6379", "socket_timeout": 30}],
        ["redis://h:6379/0?socket_timeout=30"],
    ):
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": redis, "CONFIG": {"hosts": hosts}}
        }
        ids = {e.id for e in run_checks()}
        assert not ids & {"shop_manager.W002", "shop_manager.E007"}
