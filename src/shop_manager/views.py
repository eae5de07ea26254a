"""Product pages: list, detail (POST updates, as it always has), edit, create
and delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.messages.views import SuccessMessageMixin
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    ListView,
    UpdateView,
)

from shop_manager.changelog.rendering import event_payload
from shop_manager.conf import get_config
from shop_manager.conflicts import StaleEdit, find_conflict
from shop_manager.forms import ProductForm
from shop_manager.listing import SORTS, Listing
from shop_manager.live_pages import (
    LIVE_IDS_PARAM,
    live_context,
    live_ids,
    live_strings,
    page_numbers,
    positions,
)
from shop_manager.models import Product, ProductEvent, ProductQuerySet
from shop_manager.models.events import event_id
from shop_manager.refusals import PolicyMixin

if TYPE_CHECKING:
    from django.core.paginator import _SupportsPagination

    _ListView = ListView[Product]
    _DetailView = DetailView[Product]
    _UpdateView = UpdateView[Product, ProductForm]
    _CreateView = CreateView[Product, ProductForm]
    _DeleteView = DeleteView[Product, forms.Form]
    _SuccessMessageMixin = SuccessMessageMixin[forms.Form]
else:
    # Django's generic views are not subscriptable at run time; only mypy
    # needs their type arguments.
    _ListView, _DetailView, _UpdateView = ListView, DetailView, UpdateView
    _CreateView, _DeleteView = CreateView, DeleteView
    _SuccessMessageMixin = SuccessMessageMixin

__all__ = [
    "PermanentRedirectView",
    "ProductCreateView",
    "ProductDeleteView",
    "ProductDetailView",
    "ProductEditView",
    "ProductListView",
]

# Change-log entries shown on a product's page.
HISTORY_LENGTH = 20


def save_unless_taken(form: ProductForm) -> Product | None:
    """Save the form; or, when a concurrent request took one of its unique
    values (the SKU) after it was validated, add that error and return None,
    so the user gets the form back instead of a server error."""
    try:
        product: Product = form.save()
    except IntegrityError:
        form.validate_unique()  # The other row has committed: now it is seen.
        if not form.errors:
            raise
        return None
    return product


class ProductFormMixin:
    """The product form, without the cost fields for users who may not see them."""

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()  # type: ignore[misc]
        kwargs["with_costs"] = self.sees_costs()  # type: ignore[attr-defined]
        return kwargs


class LivePageMixin:
    """A page that follows product changes while open (live-pages.js): for a
    GET by a reader the dashboard's socket admits, the socket, the id to
    follow from and the script's words. A page re-rendered after a POST (an
    invalid form, the conflict page) holds typed values, not saved ones, and
    does not follow."""

    live: dict[str, Any] | None = None
    request: HttpRequest

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Read before the page reads its products (see live_context()).
        self.live = live_context(request.user)
        response: HttpResponse = super().get(  # type: ignore[misc]
            request, *args, **kwargs
        )
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        live = self.live or {"live_socket": "", "live_last_id": 0}
        context.update(live)
        if live["live_socket"]:
            context["live_strings"] = live_strings()
        return context


class ProductListView(PolicyMixin, LivePageMixin, _ListView):
    model = Product
    context_object_name = "products"
    template_name = "shop_manager/product_list.html"

    def get_paginate_by(self, queryset: QuerySet[Product]) -> int:
        return int(get_config()["PAGE_SIZE"])

    def paginate_queryset(
        self, queryset: _SupportsPagination[Product], page_size: int
    ) -> tuple[Paginator[Product], Page[Product], list[Product], bool]:
        # Out-of-range or junk ?page= shows the nearest page rather than a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, list(page.object_list), page.has_other_pages()

    def listing(self) -> Listing:
        return Listing.from_params(self.request.GET)

    def get_queryset(self) -> ProductQuerySet:
        return self.listing().products(with_costs=self.sees_costs())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        listing = self.listing()
        if context["live_socket"]:
            # Where the products a live page asks about now sit (their page).
            context["live_pages"] = page_numbers(
                positions(
                    self.get_queryset(),
                    live_ids(params),
                    ordering=SORTS[listing.sort],
                ),
                int(get_config()["PAGE_SIZE"]),
            )
        context.update(
            query=listing.query,
            sort=listing.sort,
            stock=listing.stock,
            expiry=listing.expiry,
            sorts=[
                ("name", _("Name")),
                ("price", _("Price")),
                ("quantity", _("Quantity")),
                ("expiry_date", _("Expiry date")),
                ("modified", _("Last modified")),
            ],
        )
        # Pagination links keep the current search, filters and sort; the
        # column headings' sort links keep the search and filters.
        kept = params.copy()
        kept.pop("page", None)
        kept.pop(LIVE_IDS_PARAM, None)
        context["query_string"] = kept.urlencode()
        kept.pop("sort", None)
        context["sort_query"] = kept.urlencode()
        context["filtered"] = bool(
            context["query"] or context["stock"] or context["expiry"]
        )
        context["empty_state"] = self.empty_state(context)
        return context

    def empty_state(self, context: dict[str, Any]) -> str:
        """What an empty page says: "no-products" when the shop has none,
        "no-results" when a search or filter left none out of some; ""
        when there is something to show. Asks the database only then."""
        if context["paginator"].count:
            return ""
        if context["filtered"] and Product.objects.exists():
            return "no-results"
        return "no-products"


class ProductDetailView(PolicyMixin, LivePageMixin, _DetailView):
    """GET shows a product to anyone who may view it, with an Edit button for
    those who may change it. POST updates it exactly as the edit page does:
    forms and scripts have always posted here."""

    model = Product
    context_object_name = "product"
    template_name = "shop_manager/product_detail.html"
    post_action = "change"

    def get_object(self, queryset: QuerySet[Product] | None = None) -> Product:
        return get_object_or_404(
            Product.objects.with_stock_flags(), slug=self.kwargs["slug"]
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Bounded: the newest HISTORY_LENGTH events, or those before
        # ?history_before=<id>, one row more to know whether older ones
        # remain; one query however long the history, one include to render.
        events = ProductEvent.objects.filter(product_pk=self.object.pk)
        before = event_id(self.request.GET.get("history_before", ""))
        if before is not None:
            events = events.filter(id__lt=before)
        page = list(events.order_by("-id")[: HISTORY_LENGTH + 1])
        with_costs = self.sees_costs()
        context["history"] = [
            event_payload(event, with_costs=with_costs)
            for event in page[:HISTORY_LENGTH]
        ]
        context["history_older"] = (
            page[HISTORY_LENGTH - 1].pk if len(page) > HISTORY_LENGTH else None
        )
        context["history_paged"] = before is not None
        context["default_low_stock_threshold"] = get_config()["LOW_STOCK_THRESHOLD"]
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return ProductEditView.as_view()(request, *args, **kwargs)


class ProductEditView(PolicyMixin, LivePageMixin, ProductFormMixin, _UpdateView):
    """GET shows the edit form; POST updates, refusing a save from a stale
    version with the conflict page (409)."""

    model = Product
    form_class = ProductForm
    context_object_name = "product"
    template_name = "shop_manager/product_edit.html"
    get_action = post_action = "change"

    def get_object(self, queryset: QuerySet[Product] | None = None) -> Product:
        return get_object_or_404(Product, slug=self.kwargs["slug"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Validation writes the typed values into the product; the page is
        # about the product as it was loaded (the form's initial values).
        form = context["form"]
        context["product_name"] = form.initial.get("name", self.object.name)
        return context

    def form_valid(self, form: ProductForm) -> HttpResponse:
        with transaction.atomic():
            # Lock the row so two saves from the same version cannot both win.
            current = get_object_or_404(
                Product.objects.select_for_update(), pk=form.instance.pk
            )
            if current.version != form.cleaned_data["version"]:
                stale_edit = find_conflict(form, current)
                if any(choice.you_changed for choice in stale_edit.choices):
                    return self.conflict(form, current, stale_edit)
                # Nothing the user changed was changed by others: the fields
                # only they changed take their values, the user's are kept.
                for choice in stale_edit.choices:
                    setattr(form.instance, choice.field, getattr(current, choice.field))
            form.instance.version = current.version
            product = save_unless_taken(form)
        if product is None:
            return self.form_invalid(form)
        messages.success(
            self.request, _("Product “%(name)s” was updated.") % {"name": product.name}
        )
        return HttpResponseRedirect(product.get_absolute_url())

    def conflict(
        self, form: ProductForm, current: Product, stale_edit: StaleEdit
    ) -> HttpResponse:
        """Refuse a stale save where the user and others changed the same
        field; show, field by field, what others changed next to what the
        user typed, for the user to choose."""
        # The next submit carries the choices and is checked against the
        # version now shown: a further change meanwhile conflicts again.
        # A bound form here holds request.POST, a QueryDict.
        data = cast(QueryDict, form.data).copy()
        data["version"] = str(current.version)
        form.data = data
        context = self.get_context_data(
            form=form, conflict=current, stale_edit=stale_edit
        )
        context["product_name"] = current.name
        return self.render_to_response(context, status=409)


class ProductCreateView(PolicyMixin, ProductFormMixin, _CreateView):
    model = Product
    form_class = ProductForm
    template_name = "shop_manager/product_form.html"
    get_action = post_action = "add"

    def form_valid(self, form: ProductForm) -> HttpResponse:
        product = save_unless_taken(form)
        if product is None:
            return self.form_invalid(form)
        messages.success(
            self.request, _("Product “%(name)s” was created.") % {"name": product.name}
        )
        return HttpResponseRedirect(product.get_absolute_url())


class ProductDeleteView(PolicyMixin, _SuccessMessageMixin, _DeleteView):
    model = Product
    context_object_name = "product"
    template_name = "shop_manager/product_confirm_delete.html"
    get_action = post_action = "delete"
    success_url = reverse_lazy("shop_manager:product-list")

    def get_success_message(self, cleaned_data: dict[str, Any]) -> str:
        # The deleted product, still in memory: the form has no fields.
        return _("Product “%(name)s” was deleted.") % {"name": self.object.name}


class HttpResponsePermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    """308: like 301, but the browser repeats a POST as a POST (RFC 9110)."""

    status_code = 308


class PermanentRedirectView(View):
    """Send a URL spelt the other way (``/products/<slug>/delete/``, with the
    slash every other page has) to the named page, for good: 301 for a
    GET or HEAD, 308 for anything else, so a submitted form keeps its method
    and body. The query string goes along."""

    pattern_name = ""

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        url = reverse(self.pattern_name, args=args, kwargs=kwargs)
        if query := request.META.get("QUERY_STRING", ""):
            url = f"{url}?{query}"
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(url)
        return HttpResponsePermanentRedirectKeepingMethod(url)
