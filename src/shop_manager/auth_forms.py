"""Login forms for which every username is an ordinary failed login.

Django's ``AuthenticationForm`` declares the user model's username length
but does not enforce it, and refuses a NUL byte before ``authenticate()``
runs. So a username no account can have either reached the authentication
backends and signal receivers (django-axes then stored it in a
255-character column: a 500 on PostgreSQL, with a traceback, for anyone who
posts one), or was refused without being counted as an attempt. These forms
answer such a username as any wrong password, and report it with
``user_login_failed``, as ``authenticate()`` reports a failure, with a
stand-in any receiver can store, so it counts toward a lockout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.validators import ProhibitNullCharactersValidator

__all__ = ["AdminLoginForm", "LoginAttemptMixin", "LoginForm"]

if TYPE_CHECKING:
    _FormBase = AuthenticationForm
else:
    _FormBase = object


class LoginAttemptMixin(_FormBase):
    """Put it before ``AuthenticationForm`` or a subclass of it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        # A NUL byte is decided in clean(), with the other impossible names,
        # instead of as a field error that no lockout would ever count.
        username.validators = [
            validator
            for validator in username.validators
            if not isinstance(validator, ProhibitNullCharactersValidator)
        ]

    @property
    def username_max_length(self) -> int:
        # AuthenticationForm sets it from the user model (254 when unset).
        field = cast(forms.CharField, self.fields["username"])
        return int(field.max_length or 254)

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        # Only what AuthenticationForm would pass to authenticate() is an
        # attempt: both fields filled in.
        if username and password and not self.could_be_a_username(username):
            self.report_failed_login(username)
            raise self.get_invalid_login_error()
        return super().clean()

    def could_be_a_username(self, username: str) -> bool:
        """Whether an account could have ``username``: no longer than the
        user model's field (AuthenticationForm's ``max_length``, taken after
        normalisation, which can make a name longer), and no NUL byte, which
        no text column holds (PostgreSQL refuses it)."""
        return len(username) <= self.username_max_length and "\x00" not in username

    def report_failed_login(self, username: str) -> None:
        """Tell ``user_login_failed``'s receivers (django-axes counts it) of
        a failed attempt, naming a stand-in for ``username`` that fits where
        a username fits: NUL bytes replaced, cut to the field's length."""
        stand_in = username.replace("\x00", "\N{REPLACEMENT CHARACTER}")
        stand_in = stand_in[: self.username_max_length]
        user_login_failed.send(
            sender=__name__, credentials={"username": stand_in}, request=self.request
        )


class LoginForm(LoginAttemptMixin, AuthenticationForm):
    """The package's login page form (``shop_manager.auth_views``)."""


class AdminLoginForm(LoginAttemptMixin, AdminAuthenticationForm):
    """For the admin's login page: ``admin.site.login_form = AdminLoginForm``."""
