from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path(
        "", RedirectView.as_view(pattern_name="shop_manager:product-list"), name="home"
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("shop_manager.auth_urls")),
    path("", include("shop_manager.urls")),
]
