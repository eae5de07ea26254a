"""Stock alerts someone dismissed: one row per product and condition, for the
whole site (every dashboard hides it).

A dismissal lasts while the condition does: the change log deletes it, in
the change's transaction, when a change takes the product out of that
condition or into it again (``shop_manager.changelog.alerts``), so an alert
that clears and comes back is raised again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["AlertDismissal"]


class AlertDismissal(models.Model):
    class Condition(models.TextChoices):
        OUT_OF_STOCK = "out_of_stock", _("out of stock")
        EXPIRED = "expired", _("expired")
        LOW_STOCK = "low_stock", _("low stock")
        EXPIRING_SOON = "expiring_soon", _("expiring soon")

    # Not a foreign key, as in the change log: the row outlives nothing it
    # needs, and the log deletes it with the product's last alert anyway.
    product_pk = models.BigIntegerField(_("product id"))
    condition = models.CharField(
        _("condition"), max_length=16, choices=Condition.choices
    )
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dismissed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("dismissed alert")
        verbose_name_plural = _("dismissed alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["product_pk", "condition"],
                name="shop_manager_alert_dismissal_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_pk}: {self.condition}"
