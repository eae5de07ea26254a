"""Closing a revoked socket whose client has already gone: uvicorn's send
raises ``ClientDisconnected`` (an ``OSError``) for the 4403 close. That is
a socket closed as asked, not an error: no traceback in the server's log
(``make chaos`` found one per such socket under load)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shop_manager.live.consumer import CLOSE_FORBIDDEN, ProductFeedConsumer

pytestmark = pytest.mark.asyncio


class ClientDisconnected(OSError):
    """What uvicorn's websocket send raises once the client is gone."""


def revoked_socket(
    close_raises: BaseException,
) -> tuple[ProductFeedConsumer, list[Any]]:
    consumer = ProductFeedConsumer()
    left: list[Any] = []

    async def disconnect(code: int) -> None:
        left.append(code)

    async def close(code: int | bool | None = None, reason: str | None = None) -> None:
        raise close_raises

    consumer.disconnect = disconnect  # type: ignore[method-assign]
    consumer.close = close  # type: ignore[method-assign]
    return consumer, left


async def test_a_client_gone_before_its_4403_is_no_error(caplog):
    consumer, left = revoked_socket(ClientDisconnected())
    with caplog.at_level(logging.DEBUG, logger="shop_manager.live.consumer"):
        await consumer._revoke_logged()
    assert left == [CLOSE_FORBIDDEN]  # It left the fan-out first.
    assert consumer.revoked
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info]


async def test_any_other_failure_to_close_is_still_logged(caplog):
    consumer, _ = revoked_socket(RuntimeError("a bug"))
    await consumer._revoke_logged()
    assert "Could not close a revoked dashboard socket." in caplog.text
    assert any(r.exc_info for r in caplog.records)
