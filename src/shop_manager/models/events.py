"""The change log's rows: one ``ProductEvent`` per product change."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ID_LIMIT", "ProductEvent", "ProductEventQuerySet", "event_id"]

# Ids are 64-bit (BigAutoField): below 2**63, so at most 19 digits. Checked
# before int(), which refuses strings past 4,300 digits with an exception.
MAX_ID_DIGITS = 19
ID_LIMIT = 2**63


def event_id(value: Any) -> int | None:
    """An event id from a JSON integer or a string of ASCII digits, else None.

    For ids that come from outside (a query string, a client's frame): it
    never raises, whatever the input.
    """
    if isinstance(value, str):
        if len(value) > MAX_ID_DIGITS or not (value.isascii() and value.isdigit()):
            return None
        value = int(value)
    # bool is an int subclass: true is not an id.
    if type(value) is not int:
        return None
    return value if 0 <= value < ID_LIMIT else None


class ProductEventQuerySet(models.QuerySet["ProductEvent"]):
    def latest_id(self) -> int:
        """The newest logged id (0 for an empty log), in one query: where a
        new dashboard or a new webhook endpoint starts from."""
        latest: int | None = self.aggregate(latest=Max("id"))["latest"]
        return latest or 0


class ProductEvent(models.Model):
    """One append-only row per product create, update or delete.

    Its id is the global order of changes: dashboards replay from it after a
    reconnect, and it doubles as the audit trail. It keeps the product's name
    and slug so a deleted product still renders.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        DELETED = "deleted", _("deleted")

    id = models.BigAutoField(primary_key=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # Not a foreign key: the log outlives the products it describes.
    product_pk = models.BigIntegerField(_("product id"))
    product_name = models.CharField(_("product name"), max_length=200)
    product_slug = models.CharField(_("product slug"), max_length=220)
    # The product's version after this change: a stale edit's conflict page
    # finds the changes made since the version its form started from. Empty
    # for events logged before migration 0004.
    product_version = models.PositiveIntegerField(
        _("product version"), null=True, blank=True
    )
    # {"field": [old, new]}, JSON-safe: decimals and dates as strings.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # The stock alerts this change raised or cleared, decided when it was
    # logged (shop_manager.changelog.alerts): {"entered": [...], "cleared":
    # [...], "conditions": [...after...], "quantity": n, "expiry_date": ...};
    # empty when it raised and cleared none, and for events logged before
    # migration 0007.
    alerts = models.JSONField(_("alerts"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too, so the log still says who after the user is deleted.
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    created = models.DateTimeField(_("time"), default=timezone.now)

    objects = ProductEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("product event")
        verbose_name_plural = _("product events")
        ordering = ["id"]
        indexes = [models.Index(fields=["product_pk", "id"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.product_name} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Product events are append-only and cannot be changed.")
        super().save(*args, **kwargs)
