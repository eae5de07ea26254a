"""An event is worded for its reader: a page in the reader's language; what
goes to many readers (socket frames, the log, webhook bodies) in the site's
``LANGUAGE_CODE``; never in the language of whoever saved the change, and
never half in one language and half in another."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from shop_manager.live.feed import batch_after
from shop_manager.models import Product, ProductEvent
from shop_manager.webhooks.payloads import message_body
from tests.helpers.layers import RecordingLayer
from tests.helpers.products import product_form

pytestmark = pytest.mark.django_db

WORDS = {
    "en": {
        "headline": "Product “Tea” was updated",
        "quantity": "quantity",
        "by": "(by staff)",
    },
    "de": {
        "headline": "Produkt „Tea“ wurde geändert",
        "quantity": "Menge",
        "by": "(von staff)",
    },
}
NOTIFIERS = {
    "live": {"BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier"},
    "log": {
        "BACKEND": "shop_manager.notifiers.log.LoggingNotifier",
        "OPTIONS": {"LOGGER": "shop.audit"},
    },
}


def sentence(language: str) -> str:
    words = WORDS[language]
    return f"{words['headline']}: {words['quantity']} 4 → 9"


@pytest.fixture
def recorded(settings: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    # Through the settings fixture, as the test's other overrides: overrides
    # undone out of order would leave one in force for the next tests.
    RecordingLayer.sent.clear()
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "tests.helpers.layers.RecordingLayer"}
    }
    yield RecordingLayer.sent
    RecordingLayer.sent.clear()


@pytest.mark.parametrize(("site", "saver"), [("en", "de"), ("de", "en")])
def test_a_change_saved_in_one_language_reads_in_each_readers(
    site,
    saver,
    settings,
    staff_client,
    recorded,
    caplog,
    django_capture_on_commit_callbacks,
):
    settings.LANGUAGE_CODE = site
    settings.SHOP_MANAGER = {"NOTIFIERS": NOTIFIERS}
    tea = Product.objects.create(name="Tea", price=Decimal("3.50"), quantity=4)
    recorded.clear()

    with (
        caplog.at_level(logging.INFO, logger="shop.audit"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = staff_client.post(
            f"/products/{tea.slug}/edit/",
            product_form(tea, quantity=9),
            HTTP_ACCEPT_LANGUAGE=saver,
        )
    assert response.status_code == 302
    event = ProductEvent.objects.latest("id")

    # The socket's frame: the site's language, whole.
    ((_, message),) = recorded
    frame = json.loads(message["text"])
    assert frame["headline"] == WORDS[site]["headline"]
    assert frame["changes"]["quantity"]["label"] == WORDS[site]["quantity"]
    assert frame["message"] == sentence(site)
    # A replay, read while the saver's language is still active in the thread.
    with translation.override(saver):
        (replayed,) = batch_after(event.pk - 1)["events"]
    assert replayed["message"] == sentence(site)

    # The log line.
    (record,) = [r for r in caplog.records if r.name == "shop.audit"]
    assert record.getMessage().endswith(f"{sentence(site)} {WORDS[site]['by']}")

    # A webhook body, built wherever the relay runs.
    with translation.override(saver):
        data = json.loads(message_body(event, with_costs=False))["data"]
    assert data["message"] == sentence(site)

    # Pages: each reader's own language, for the event and the script's words.
    for reader in ("en", "de"):
        page = staff_client.get("/dashboard/products/", HTTP_ACCEPT_LANGUAGE=reader)
        html = page.content.decode()
        assert f"{WORDS[reader]['headline']}</a>" in html
        assert f"<li>{WORDS[reader]['quantity']}: 4 → 9</li>" in html
        other = "de" if reader == "en" else "en"
        assert f"{WORDS[other]['headline']}</a>" not in html
        strings = page.context["strings"]
        assert strings["fields"]["quantity"] == WORDS[reader]["quantity"]
        history = staff_client.get(tea.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=reader)
        assert f"<li>{WORDS[reader]['quantity']}: 4 → 9</li>" in history.text
