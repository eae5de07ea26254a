"""Login and logout: ``path("accounts/", include("shop_manager.auth_urls"))``.

The names are ``login`` and ``logout``, the same as ``django.contrib.auth.urls``,
so a site that already includes those can skip this URLconf.
"""

from __future__ import annotations

from django.urls import path

from shop_manager import auth_views

urlpatterns = [
    path("login/", auth_views.ShopLoginView.as_view(), name="login"),
    path("logout/", auth_views.ShopLogoutView.as_view(), name="logout"),
]
