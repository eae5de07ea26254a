"""The package URLconf: ``path("", include("shop_manager.urls"))``."""

from __future__ import annotations

from django.urls import path, register_converter

from shop_manager import views
from shop_manager.converters import UnicodeSlugConverter
from shop_manager.live import views as live_views
from shop_manager.transfer import views as transfer_views

register_converter(UnicodeSlugConverter, "uslug")

app_name = "shop_manager"

urlpatterns = [
    path(
        "dashboard/products/",
        live_views.ProductDashboardView.as_view(),
        name="product-dashboard",
    ),
    path(
        "dashboard/products/events/",
        live_views.OlderEventsView.as_view(),
        name="product-dashboard-events",
    ),
    path(
        "dashboard/products/alerts/dismiss/",
        live_views.DismissAlertView.as_view(),
        name="product-dashboard-dismiss",
    ),
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/create/", views.ProductCreateView.as_view(), name="product-create"),
    path(
        "products/export.csv",
        transfer_views.ProductExportView.as_view(),
        name="product-export",
    ),
    path(
        "products/import/",
        transfer_views.ProductImportView.as_view(),
        name="product-import",
    ),
    path(
        "products/<uslug:slug>/",
        views.ProductDetailView.as_view(),
        name="product-detail",
    ),
    path(
        "products/<uslug:slug>/edit/",
        views.ProductEditView.as_view(),
        name="product-edit",
    ),
    path(
        "products/<uslug:slug>/delete",
        views.ProductDeleteView.as_view(),
        name="product-delete",
    ),
    # The slash every other page's URL ends with: the same page, redirected.
    path(
        "products/<uslug:slug>/delete/",
        views.PermanentRedirectView.as_view(pattern_name="shop_manager:product-delete"),
    ),
]
