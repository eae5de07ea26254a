"""Websocket routes for hosts: wrap them in the host's ASGI router.

URLRouter(shop_manager.routing.websocket_urlpatterns)
"""

from __future__ import annotations

from django.urls import path

from shop_manager.live.consumer import ProductFeedConsumer

__all__ = ["websocket_urlpatterns"]

websocket_urlpatterns = [
    path(
        "ws/products/", ProductFeedConsumer.as_asgi(), name="shop_manager-product-feed"
    ),
]
