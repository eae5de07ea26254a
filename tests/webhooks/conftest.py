from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.webhooks import Receiver, fast_settings, receiving


@pytest.fixture
def fast() -> Iterator[None]:
    with fast_settings():
        yield


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def endpoint(receiver: Receiver, fast: None, transactional_db: Any) -> Any:
    from shop_manager.webhooks.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(url=receiver.url)
