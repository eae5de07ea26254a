"""Websocket routes for hosts: wrap them in the host's ASGI router.

URLRouter(shop_manager.routing.websocket_urlpatterns)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.urls import path

from shop_manager.conf import WEBSOCKET_ROUTE
from shop_manager.live.consumer import ProductFeedConsumer

if TYPE_CHECKING:
    from channels.routing import URLRouter, _ExtendedURLPattern

__all__ = ["websocket_urlpatterns"]

# Typed as types-channels' URLRouter wants its routes, so that a host's
# URLRouter(websocket_urlpatterns) type-checks.
websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    cast(
        "_ExtendedURLPattern",
        path(
            WEBSOCKET_ROUTE,
            # URLRouter takes ASGI apps; django-stubs' path() knows only views.
            ProductFeedConsumer.as_asgi(),  # type: ignore[arg-type]
            name="shop_manager-product-feed",
        ),
    ),
]
