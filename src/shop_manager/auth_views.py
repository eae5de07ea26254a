"""``django.contrib.auth``'s login and logout with bundled templates.

LoginView already refuses a ``?next=`` that leaves the site; these pick a
sensible landing page when the project has not set one, and log in through
:class:`~shop_manager.auth_forms.LoginForm`, for which any username is an
ordinary, counted failed login.
"""

from __future__ import annotations

from django.conf import global_settings, settings
from django.contrib.auth import views as auth
from django.urls import reverse

from shop_manager.auth_forms import LoginForm

__all__ = ["ShopLoginView", "ShopLogoutView"]


def _products_or(setting: str) -> str:
    configured = getattr(settings, setting)
    if configured and configured != getattr(global_settings, setting):
        return str(configured)
    return reverse("shop_manager:product-list")


class ShopLoginView(auth.LoginView):
    template_name = "shop_manager/registration/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm

    def get_default_redirect_url(self) -> str:
        return _products_or("LOGIN_REDIRECT_URL")


class ShopLogoutView(auth.LogoutView):
    def get_default_redirect_url(self) -> str:
        return _products_or("LOGOUT_REDIRECT_URL")
