"""The access generation: a number every commit that may take dashboard access
away bumps before it returns, and every live event carries.

Registered under the ``shop_manager`` app (migration 0006):
``ShopManagerConfig.import_models()`` imports this module when Django imports
the app's models.

A process that has checked all its sockets after reading generation ``g``
knows that no revocation bumped to ``g`` or below went unseen by that check;
an event whose message carries a later generation (read after the event
committed) may come after a revocation the process has not checked for yet,
so it waits for the next check (:mod:`shop_manager.live.barrier`). That holds
whatever the channel layer loses or reorders: the generation travels inside
the event's own message and comes from the database the revocation committed
to.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import IntegrityError, models, transaction
from django.db.models import F, Subquery
from django.utils.translation import gettext_lazy as _

__all__ = ["AccessGeneration", "generation_subquery"]

# The one row.
ROW = 1


class AccessGenerationManager(models.Manager["AccessGeneration"]):
    def current(self) -> int:
        """The generation now: one query (0 before the first bump)."""
        value: int | None = self.filter(pk=ROW).values_list("value", flat=True).first()
        return value or 0

    def bump(self) -> None:
        """Add one, in a transaction of its own.

        Called after the revoking commit, not inside it: the row is locked
        only for this one statement, so revocations never wait on each other
        (nor deadlock) over it, and a rolled-back change bumps nothing.
        """
        with transaction.atomic(using=self.db):
            if self.filter(pk=ROW).update(value=F("value") + 1):
                return
            try:
                # The row is gone (a test database flushed): make it again.
                with transaction.atomic(using=self.db):
                    self.create(pk=ROW, value=1)
            except IntegrityError:  # Made meanwhile by another bump.
                self.filter(pk=ROW).update(value=F("value") + 1)


class AccessGeneration(models.Model):
    value = models.BigIntegerField(_("value"), default=0)

    objects: ClassVar[AccessGenerationManager] = AccessGenerationManager()

    class Meta:
        app_label = "shop_manager"
        verbose_name = _("access generation")
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.value)


def generation_subquery() -> Subquery:
    """The generation as an expression, to read it in the same statement
    (so the same snapshot) as other rows: NULL before the first bump."""
    return Subquery(AccessGeneration.objects.filter(pk=ROW).values("value")[:1])
