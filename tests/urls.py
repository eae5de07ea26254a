from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("shop_manager.auth_urls")),
    path("", include("shop_manager.urls")),
]
