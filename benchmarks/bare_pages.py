"""The floor the in-process pages bench compares with: bare Django views that
fetch the same rows as the package's pages and render them in a one-table
template, behind the example project's URLconf and middleware.

Each asks the user the way the package's pages do (a staff check: the session
and the user are read on every page), so only the page's own work differs.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import path

from example_project.urls import urlpatterns as example_urlpatterns
from shop_manager.models import EDITABLE_FIELDS, Product, ProductEvent

__all__ = ["urlpatterns"]

# One table, the columns the package's page shows; nothing else on the page.
_TABLE = """<!DOCTYPE html><html><head><title>{{ title }}</title></head><body>
<table>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>
</body></html>"""
_FORM = """<!DOCTYPE html><html><head><title>{{ title }}</title></head><body>
<form method="post">{% csrf_token %}{{ form }}<button>Save</button></form>
</body></html>"""
_engine = engines["django"]
TABLE = _engine.from_string(_TABLE)
FORM = _engine.from_string(_FORM)
PAGE_SIZE = 20
HISTORY = 20
EVENTS = 50


class BareProductForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Product
        fields = EDITABLE_FIELDS


def _staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied


def _table(request: HttpRequest, title: str, rows: list[tuple[Any, ...]]) -> Any:
    return HttpResponse(TABLE.render({"title": title, "rows": rows}, request))


def _product_rows(products: Any) -> list[tuple[Any, ...]]:
    return [
        (p.name, p.sku, p.price, p.quantity, p.expiry_date, p.modified)
        for p in products
    ]


def product_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    products = Product.objects.order_by("name", "pk")
    query = request.GET.get("q", "")
    if query:
        products = products.filter(
            Q(name__icontains=query)
            | Q(sku__icontains=query)
            | Q(supplier_number__icontains=query)
        )
    if request.GET.get("sort") == "-price":
        products = products.order_by("-price", "name", "pk")
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    return _table(request, f"{page.paginator.count}", _product_rows(page))


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    _staff(request)
    product = get_object_or_404(Product, slug=slug)
    events = ProductEvent.objects.filter(product_pk=product.pk).order_by("-id")
    rows = [(e.created, e.action, e.changes) for e in events[:HISTORY]]
    return _table(request, product.name, [*_product_rows([product]), *rows])


def product_edit(request: HttpRequest, slug: str) -> HttpResponse:
    _staff(request)
    product = get_object_or_404(Product, slug=slug)
    form = BareProductForm(instance=product)
    return HttpResponse(FORM.render({"title": product.name, "form": form}, request))


def dashboard(request: HttpRequest) -> HttpResponse:
    _staff(request)
    events = ProductEvent.objects.order_by("-id")[:EVENTS]
    rows = [(e.created, e.action, e.product_name, e.changes) for e in events]
    return _table(request, "dashboard", rows)


def import_preview(request: HttpRequest) -> HttpResponse:
    """Read the file, look its SKUs up in one query, keep it in the session
    for the apply, and list each row as new or changed."""
    _staff(request)
    text = request.FILES["file"].read().decode("utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text)))
    existing = {
        p.sku: p
        for p in Product.objects.filter(sku__in=[r["sku"] for r in records if r["sku"]])
    }
    request.session["bare_import"] = text
    rows = [
        (r["sku"], r["name"], "changed" if r["sku"] in existing else "new")
        for r in records
    ]
    return _table(request, "import", rows)


urlpatterns = [
    path("bare/products/", product_list),
    path("bare/products/<slug:slug>/", product_detail),
    path("bare/products/<slug:slug>/edit/", product_edit),
    path("bare/dashboard/", dashboard),
    path("bare/import/", import_preview),
    *example_urlpatterns,
]
