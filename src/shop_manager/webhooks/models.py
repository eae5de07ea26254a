"""Webhook endpoints and the record of every delivery attempt.

Registered under the ``shop_manager`` app (migration 0005):
``ShopManagerConfig.import_models()`` imports this module when Django imports
the app's models.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shop_manager.models import ProductEvent
from shop_manager.webhooks.signing import (
    InvalidSecretError,
    generate_secret,
    secret_key,
)

__all__ = ["ACTIONS", "ALERTS", "KINDS", "WebhookAttempt", "WebhookEndpoint"]

# The change-log actions an endpoint may subscribe to (product.created, ...).
ACTIONS: tuple[str, ...] = tuple(ProductEvent.Action.values)
# The stock alerts it may subscribe to (product.low_stock, ...): each stock
# condition a change entered (shop_manager.changelog.alerts) by its kind.
ALERTS: dict[str, str] = {
    "out_of_stock": "out_of_stock",
    "expired": "expired",
    "low_stock": "low_stock",
    "expiring_soon": "expiring",
}
# Everything an endpoint's ``actions`` may list: the part of each event type
# after "product.".
KINDS: tuple[str, ...] = (*ACTIONS, *ALERTS.values())


def validate_secret(value: str) -> None:
    try:
        secret_key(value)
    except InvalidSecretError as exc:
        raise ValidationError(str(exc)) from exc


def validate_actions(value: Any) -> None:
    if not isinstance(value, list) or not set(value) <= set(KINDS):
        raise ValidationError(
            _("A list of actions among: %(actions)s (empty for all)."),
            params={"actions": ", ".join(KINDS)},
        )


class WebhookEndpoint(models.Model):
    """A URL that receives every change-log event, in log order, at least once.

    ``cursor`` is the id of the last event the endpoint acknowledged with a
    2xx (or that it does not subscribe to): the relay resumes after it. The
    lease (``lease_owner``/``lease_until``) says which relay serves the
    endpoint, so two relays never deliver to it at the same time.
    """

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(
        _("secret"),
        max_length=120,
        default=generate_secret,
        validators=[validate_secret],
        help_text=_("whsec_ followed by base64; receivers verify signatures with it."),
    )
    # Rotation: the old secret signs too until previous_secret_until.
    previous_secret = models.CharField(
        _("previous secret"), max_length=120, blank=True, editable=False
    )
    previous_secret_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    actions = models.JSONField(
        _("actions"),
        default=list,
        blank=True,
        validators=[validate_actions],
        help_text=_(
            'Subset of ["created", "updated", "deleted", "out_of_stock", '
            '"expired", "low_stock", "expiring"]; empty for all.'
        ),
    )
    with_costs = models.BooleanField(
        _("send cost fields"),
        default=False,
        help_text=_("Include cost price and supplier number changes."),
    )
    active = models.BooleanField(_("active"), default=True)
    cursor = models.BigIntegerField(
        _("delivered up to event"),
        default=0,
        help_text=_("The relay sends events after this id."),
    )
    failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    lease_owner = models.CharField(
        _("served by relay"), max_length=200, blank=True, editable=False
    )
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A new endpoint receives changes from now on, not the whole history.
        if self._state.adding and not self.cursor:
            self.cursor = ProductEvent.objects.latest_id()
        super().save(*args, **kwargs)

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def signing_secrets(self, now: datetime.datetime | None = None) -> list[str]:
        """The secrets to sign with now: the current one, and the previous one
        while its overlap lasts."""
        now = now or timezone.now()
        if (
            self.previous_secret
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            return [self.secret, self.previous_secret]
        return [self.secret]

    def rotate_secret(
        self, overlap: datetime.timedelta, new_secret: str | None = None
    ) -> str:
        """Switch to a new secret; the old one keeps signing for ``overlap``."""
        new_secret = new_secret or generate_secret()
        validate_secret(new_secret)
        self.previous_secret = self.secret
        self.previous_secret_until = timezone.now() + overlap
        self.secret = new_secret
        self.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        return new_secret

    def resume(self) -> None:
        """Unpause and forget the failures: the next attempt is due now."""
        self.paused_at = None
        self.failures = 0
        self.failing_since = None
        self.next_attempt_at = None
        self.save(
            update_fields=["paused_at", "failures", "failing_since", "next_attempt_at"]
        )

    def retry_now(self) -> None:
        """One more attempt now; the failure count stands, so a paused endpoint
        that fails again is paused again."""
        self.paused_at = None
        self.next_attempt_at = None
        self.save(update_fields=["paused_at", "next_attempt_at"])


class WebhookAttempt(models.Model):
    """One HTTP request the relay made (or failed to make). Read-only; pruned
    after ``WEBHOOK_ATTEMPTS_KEEP_DAYS``."""

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="attempts",
    )
    event_id = models.BigIntegerField(_("event id"))
    created = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    status_code = models.PositiveSmallIntegerField(
        _("HTTP status"), null=True, blank=True
    )
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    ok = models.BooleanField(_("acknowledged"), default=False)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "-id"])]

    def __str__(self) -> str:
        return (
            f"#{self.event_id} → {self.endpoint_id}: {self.status_code or self.error}"
        )
