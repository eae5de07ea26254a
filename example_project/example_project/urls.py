from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from shop_manager.auth_forms import AdminLoginForm

# Any username is an ordinary, counted failed login at the admin's login too
# (docs/security.md, "Login views and django-axes").
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path(
        "", RedirectView.as_view(pattern_name="shop_manager:product-list"), name="home"
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("shop_manager.auth_urls")),
    path("", include("shop_manager.urls")),
]
