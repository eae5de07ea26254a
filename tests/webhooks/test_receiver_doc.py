"""docs/webhooks.md's receiver, run as a reader would copy it, against what
the relay really sends."""

from __future__ import annotations

import time
from typing import Any

from django.test import RequestFactory

from shop_manager.models import ProductEvent
from shop_manager.webhooks.payloads import message_body, message_id
from shop_manager.webhooks.signing import generate_secret, signature_header
from tests.helpers.doc_snippets import ROOT, python_blocks


def receiver_view(secret: str) -> Any:
    [snippet] = python_blocks(ROOT / "docs" / "webhooks.md")
    namespace: dict[str, Any] = {}
    exec(snippet.replace('"whsec_..."', repr(secret)), namespace)
    return namespace["product_hook"]


def test_the_documented_receiver_accepts_a_real_delivery_and_nothing_forged(
    make_product: Any, capsys: Any
) -> None:
    secret = generate_secret()
    view = receiver_view(secret)
    make_product(name="Tea")
    event = ProductEvent.objects.latest("id")
    body = message_body(event, with_costs=False)
    timestamp = int(time.time())
    headers = {
        "HTTP_WEBHOOK_ID": message_id(event),
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": signature_header(
            [secret], message_id(event), timestamp, body
        ),
    }
    post = RequestFactory().post

    accepted = view(post("/hook", body, "application/json", **headers))
    forged = view(
        post("/hook", body.replace(b"Tea", b"Tee"), "application/json", **headers)
    )

    assert accepted.status_code == 204
    assert forged.status_code == 400
    assert capsys.readouterr().out.startswith("product.created ")
