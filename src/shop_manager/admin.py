from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from shop_manager.changelog.actors import acting_as
from shop_manager.changelog.rendering import describe, time_display
from shop_manager.models import Product, ProductEvent
from shop_manager.money import format_price
from shop_manager.permissions import get_policy
from shop_manager.readonly_admin import ReadOnlyAdminMixin
from shop_manager.transfer.views import csv_download

if TYPE_CHECKING:
    _ProductAdminBase = admin.ModelAdmin[Product]
    _ProductEventAdminBase = admin.ModelAdmin[ProductEvent]
else:
    # Django's class is not subscriptable at run time; only mypy needs the type.
    _ProductAdminBase = _ProductEventAdminBase = admin.ModelAdmin


class StockFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("low", _("Low stock"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "low":
            return queryset.filter(pk__in=Product.objects.low_stock().values("pk"))
        return queryset


class ActingUserMixin:
    """Log admin changes as the user who made them."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with acting_as(request.user):
            return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with acting_as(request.user):
            return super().delete_view(request, *args, **kwargs)  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Covers list_editable saves and the "delete selected" action.
        with acting_as(request.user):
            return super().changelist_view(request, *args, **kwargs)  # type: ignore[misc]


@admin.register(Product)
class ProductAdmin(ActingUserMixin, _ProductAdminBase):
    list_display = [
        "name",
        "sku",
        "price_shown",
        "quantity",
        "expiry_date",
        "supplier_number",
        "modified",
    ]
    list_filter = [StockFilter, "expiry_date", "modified"]
    search_fields = ["name", "sku", "supplier_number"]
    readonly_fields = ["slug", "version", "created", "modified"]
    date_hierarchy = "modified"
    actions = ["export_csv"]
    # Adds "Import CSV" and "Export CSV" (the site's pages) to the object tools.
    change_list_template = "admin/shop_manager/product/change_list.html"

    @admin.display(description=_("price"), ordering="price")
    def price_shown(self, product: Product) -> str:
        """With the site's currency, as the product pages show it."""
        return format_price(product.price)

    @admin.action(
        description=_("Export selected products as CSV"), permissions=["export"]
    )
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Product]
    ) -> StreamingHttpResponse:
        """The same file as the site's export, for the rows ticked here."""
        return csv_download(
            request,
            queryset.order_by("name", "pk"),
            get_policy().can_see_costs(request.user),
        )

    def has_export_permission(self, request: HttpRequest) -> bool:
        """The export action, for who the policy lets export (``can_export``)."""
        return get_policy().can_export(request.user)


@admin.register(ProductEvent)
class ProductEventAdmin(ReadOnlyAdminMixin, _ProductEventAdminBase):
    """The change log: browsable, never edited (it is the audit trail)."""

    list_display = ["id", "when", "action", "product_name", "actor_name", "summary"]
    list_filter = ["action", "created"]
    search_fields = ["product_name", "product_slug", "actor_name"]
    date_hierarchy = "created"
    ordering = ["-id"]

    @admin.display(description=_("time"), ordering="created")
    def when(self, event: ProductEvent) -> SafeString:
        """The time as the product history and the dashboard show it."""
        return format_html(
            '<time datetime="{}">{}</time>',
            event.created.isoformat(),
            time_display(event.created),
        )

    @admin.display(description=_("change"))
    def summary(self, event: ProductEvent) -> str:
        """The sentence the dashboard and the log notifier use."""
        return describe(event)
