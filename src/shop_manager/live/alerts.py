"""Dismissing a stock alert, for the whole site: the row
(:class:`~shop_manager.models.AlertDismissal`), then, after commit, one
``alert.dismissed`` to every server process, which takes the alert down on
every open dashboard.

A broken channel layer never undoes a dismissal: the other dashboards then
drop it at their next page load.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from shop_manager.changelog.writer import actor_name
from shop_manager.conf import get_config
from shop_manager.live import layer
from shop_manager.live.groups import DASHBOARD_GROUP
from shop_manager.live.models import AccessGeneration
from shop_manager.live.protocol import dismissed_message
from shop_manager.models import AlertDismissal, Product

__all__ = ["SEND_TIMEOUT", "AlertNotOpen", "dismiss"]

logger = logging.getLogger("shop_manager.live.alerts")

# Seconds the channel layer gets to take the notice, so a hung Redis cannot
# hold the request (the notifier's default TIMEOUT).
SEND_TIMEOUT = 2.0


class AlertNotOpen(Exception):
    """The product is gone or no longer in that condition: nothing to dismiss."""


def dismiss(product_pk: int, condition: str, user: Any) -> bool:
    """Dismiss ``condition`` of product ``product_pk`` for everyone; False
    when it already was. Raises :class:`AlertNotOpen` when the product is not
    in that condition now (a dismissal must not outlive its alert)."""
    with transaction.atomic():
        # Locked, so a change clearing the condition cannot slip in between
        # the check and the row (the log deletes dismissals it clears).
        product = Product.objects.select_for_update().filter(pk=product_pk).first()
        if product is None or condition not in product.stock_conditions():
            raise AlertNotOpen
        try:
            with transaction.atomic():
                AlertDismissal.objects.create(
                    product_pk=product_pk,
                    condition=condition,
                    dismissed_by=user if user.is_authenticated else None,
                )
        except IntegrityError:
            return False
        by = actor_name(user) if user.is_authenticated else None
        transaction.on_commit(partial(_announce, product_pk, condition, by))
    return True


def _announce(product_pk: int, condition: str, by: str | None) -> None:
    try:
        channel_layer = layer.get_layer()
        if channel_layer is None:
            return  # No live feed configured: nothing is open to tell.
        message = dismissed_message(
            product_pk, condition, by, AccessGeneration.objects.current()
        )
        layer.send(channel_layer, DASHBOARD_GROUP, [message], timeout=SEND_TIMEOUT)
    except Exception:
        logger.warning(
            "Could not tell open dashboards (channel layer %r) that an alert "
            "was dismissed; they drop it at their next page load.",
            get_config()["CHANNEL_LAYER"],
            exc_info=True,
        )
