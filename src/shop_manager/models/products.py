"""Products: the catalogue the pages, the import and the admin edit."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from model_utils import FieldTracker
from model_utils.models import TimeStampedModel

from shop_manager.conf import get_config
from shop_manager.links import product_detail_url
from shop_manager.slugs import (
    SLUG_MAX_LENGTH,
    collision_pattern,
    next_free_slug,
    slug_base,
)
from shop_manager.storable import is_storable

__all__ = [
    "COST_FIELDS",
    "EDITABLE_FIELDS",
    "MAX_QUANTITY",
    "STOCK_CONDITIONS",
    "Product",
    "ProductQuerySet",
    "stock_conditions",
]

# The largest value every supported database stores in an integer column.
MAX_QUANTITY = 2_147_483_647
# The fields people edit: the product form shows them, the change log diffs
# them. Slug, version and timestamps are bookkeeping.
EDITABLE_FIELDS = (
    "name",
    "sku",
    "description",
    "price",
    "cost_price",
    "quantity",
    "low_stock_threshold",
    "expiry_date",
    "supplier_number",
)
# What a product costs the shop and who supplies it: shown, searched and sent
# only to users the permission policy lets see costs (``can_see_costs``).
COST_FIELDS = ("cost_price", "supplier_number")
# Fields whose check constraints (>= 0) their own validators already state.
CHECKED_FIELDS = ("price", "cost_price")
# Collisions under concurrent creates are retried this many times.
SLUG_ATTEMPTS = 10
# Products' names: the longest field a search looks in, so a longer term
# cannot match (and SQLite refuses LIKE patterns past 50,000 bytes).
NAME_MAX_LENGTH = 200
# What can be wrong with a product's stock, most urgent first: the dashboard's
# alerts and tiles, the webhooks' alert types and the list's badges all use
# these rules, in Python (stock_conditions) and in SQL (with_stock_flags).
STOCK_CONDITIONS = ("out_of_stock", "expired", "low_stock", "expiring_soon")


def stock_conditions(
    quantity: int,
    low_stock_threshold: int | None,
    expiry_date: datetime.date | None,
    today: datetime.date | None = None,
) -> tuple[str, ...]:
    """The ``STOCK_CONDITIONS`` these values meet, in that order.

    Out of stock is not also "low": each product counts once per tile. The
    same rules as :meth:`ProductQuerySet.with_stock_flags`, which the lists
    and the tiles filter with in SQL (tests/test_stock_conditions.py holds
    the two to each other).
    """
    today = today or timezone.localdate()
    config = get_config()
    threshold = (
        config["LOW_STOCK_THRESHOLD"]
        if low_stock_threshold is None
        else low_stock_threshold
    )
    soon = today + datetime.timedelta(days=config["EXPIRING_SOON_DAYS"])
    found = {
        "out_of_stock": quantity == 0,
        "expired": expiry_date is not None and expiry_date < today,
        "low_stock": 0 < quantity <= threshold,
        "expiring_soon": expiry_date is not None and today <= expiry_date <= soon,
    }
    return tuple(name for name in STOCK_CONDITIONS if found[name])


class ProductQuerySet(models.QuerySet["Product"]):
    def search(self, query: str, *, with_costs: bool = False) -> ProductQuerySet:
        """Match name or SKU; with ``with_costs`` the supplier number too.

        Searching a hidden field would let anyone probe its values, so only
        pass ``with_costs`` for a user who may see costs. Any string is safe
        here, on every database: a term no searched field can contain matches
        nothing without reaching the database.
        """
        query = query.strip()
        if not query:
            return self
        if not is_storable(query, NAME_MAX_LENGTH):
            return self.none()
        match = Q(name__icontains=query) | Q(sku__icontains=query)
        if with_costs:
            match |= Q(supplier_number__icontains=query)
        return self.filter(match)

    def with_stock_flags(self, today: datetime.date | None = None) -> ProductQuerySet:
        """Annotate ``is_low_stock``, ``is_expired`` and ``is_expiring_soon``.

        Done in SQL so the list needs the same number of queries for any size.
        """
        today = today or timezone.localdate()
        config = get_config()
        soon = today + datetime.timedelta(days=config["EXPIRING_SOON_DAYS"])
        threshold = Coalesce("low_stock_threshold", config["LOW_STOCK_THRESHOLD"])
        return self.annotate(
            is_low_stock=models.ExpressionWrapper(
                Q(quantity__lte=threshold), output_field=models.BooleanField()
            ),
            is_expired=models.ExpressionWrapper(
                Q(expiry_date__lt=today), output_field=models.BooleanField()
            ),
            is_expiring_soon=models.ExpressionWrapper(
                Q(expiry_date__gte=today, expiry_date__lte=soon),
                output_field=models.BooleanField(),
            ),
        )

    def flagged(self, today: datetime.date | None = None) -> ProductQuerySet:
        """This queryset with the stock flags, annotated once (a queryset
        that has them keeps its own, whatever ``today`` says)."""
        if "is_low_stock" in self.query.annotations:
            return self
        return self.with_stock_flags(today)

    # The flags are with_stock_flags()' annotations, which django-stubs does
    # not follow through a method of our own: hence the ignores.
    def low_stock(self) -> ProductQuerySet:
        return self.flagged().filter(is_low_stock=True)  # type: ignore[misc]

    def expired(self, today: datetime.date | None = None) -> ProductQuerySet:
        return self.flagged(today).filter(is_expired=True)  # type: ignore[misc]

    def expiring_soon(self, today: datetime.date | None = None) -> ProductQuerySet:
        return self.flagged(today).filter(is_expiring_soon=True)  # type: ignore[misc]


class Product(TimeStampedModel):
    name = models.CharField(_("name"), max_length=NAME_MAX_LENGTH)
    slug = models.SlugField(
        _("slug"),
        max_length=SLUG_MAX_LENGTH,
        unique=True,
        allow_unicode=True,
        editable=False,
    )
    sku = models.CharField(
        _("SKU"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Stock keeping unit; optional, unique when given."),
    )
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    cost_price = models.DecimalField(
        _("cost price"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    quantity = models.PositiveIntegerField(
        _("quantity"), default=0, validators=[MaxValueValidator(MAX_QUANTITY)]
    )
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    supplier_number = models.CharField(_("supplier number"), max_length=64, blank=True)
    low_stock_threshold = models.PositiveIntegerField(
        _("low-stock threshold"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_QUANTITY)],
        help_text=_("Leave empty to use the site-wide default."),
    )
    # Bumped on every save so a form holding an older number can be refused.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    # Only what the change log diffs: the tracker copies each tracked value
    # on every instance loaded, so a page of products pays for each field.
    tracker = FieldTracker(fields=EDITABLE_FIELDS)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["modified"]),
            models.Index(fields=["expiry_date"]),
            # The dashboard's counts (shop_manager.stock_statements): out of
            # stock and low at the default threshold are ranges of the first,
            # low at a product's own threshold the few rows of the second.
            models.Index(
                fields=["quantity", "low_stock_threshold"],
                name="shop_manager_stock_idx",
            ),
            models.Index(
                fields=["low_stock_threshold", "quantity"],
                condition=Q(low_stock_threshold__isnull=False),
                name="shop_manager_own_threshold_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="shop_manager_product_price_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(cost_price__gte=0),
                name="shop_manager_product_cost_price_gte_0",
            ),
        ]
        permissions = [
            ("watch_dashboard", _("Can watch the live product dashboard")),
            (
                "view_product_costs",
                _("Can see product cost prices and supplier numbers"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def stock_conditions(self, today: datetime.date | None = None) -> tuple[str, ...]:
        """What is wrong with this product's stock now (``STOCK_CONDITIONS``)."""
        return stock_conditions(
            self.quantity, self.low_stock_threshold, self.expiry_date, today
        )

    def get_absolute_url(self) -> str:
        # Cached per slug: a list page asks for one per row. Unmounted, the
        # uncached reverse() raises NoReverseMatch as it always did.
        return product_detail_url(self.slug) or reverse(
            "shop_manager:product-detail", kwargs={"slug": self.slug}
        )

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        # The two check constraints restate the fields' MinValueValidator(0),
        # which full_clean() has already run (a field it excluded is excluded
        # here too); checking them again costs a query each on every save
        # through a form. The database still enforces them.
        super().validate_constraints(exclude={*(exclude or ()), *CHECKED_FIELDS})

    def save(self, *args: Any, **kwargs: Any) -> None:
        # One transaction for the row and its change-log entry (written by the
        # post_save receiver in shop_manager.changelog).
        with transaction.atomic(using=kwargs.get("using")):
            self._save(*args, **kwargs)

    def _save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and not self.slug:
            self._insert_with_unique_slug(*args, **kwargs)
            return
        if not self._state.adding:
            self.version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "modified"}
        super().save(*args, **kwargs)

    def _insert_with_unique_slug(self, *args: Any, **kwargs: Any) -> None:
        max_length = Product._meta.get_field("slug").max_length or 50
        base = slug_base(self.name, max_length)
        for _attempt in range(SLUG_ATTEMPTS):
            taken = Product.objects.filter(
                slug__regex=collision_pattern(base)
            ).values_list("slug", flat=True)
            self.slug = next_free_slug(base, taken, max_length)
            try:
                # A savepoint, so losing a race leaves the outer transaction usable.
                with transaction.atomic(using=kwargs.get("using")):
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                if not Product.objects.filter(slug=self.slug).exists():
                    raise  # Not our slug: a duplicate SKU or a check constraint.
                self._state.adding = True
        raise IntegrityError(
            f"No free slug for {self.name!r} after {SLUG_ATTEMPTS} tries."
        )
