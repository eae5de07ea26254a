"""Hostile usernames at both login pages of the example project, served as
its container serves it (uvicorn, DEBUG off, django-axes; PostgreSQL in the
PostgreSQL envs, where django-axes' 255-character username column refused a
longer one with a 500).

Each is posted until the lockout: every attempt must get the form back (or
the 429 once locked), never a 500, and must count toward the lockout like
any wrong password, so no spelling of a username escapes it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed

from shop_manager.auth_forms import AdminLoginForm
from tests.helpers.example_site import PRODUCTION_SECRET_KEY, Visitor

FAILURE_LIMIT = 5  # The example project's default AXES_FAILURE_LIMIT.
LOCKED = [200] * (FAILURE_LIMIT - 1) + [429]

HOSTILE_USERNAMES: dict[str, str | bytes] = {
    "256 characters": "a" * 256,
    "10,000 characters": "victim" + "x" * 9_994,
    # 200 characters, 800 bytes: over the user model's 150, under axes' 255.
    "emoji": "\N{GRINNING FACE}" * 200,
    # 20 characters that Django's NFKC normalisation makes 360.
    "expanding ligatures": "\N{ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM}" * 20,
    "NUL byte": "vic\x00tim",
    "only NUL bytes": "\x00" * 3,
    # Bytes in the POST body that are not UTF-8 at all.
    "not UTF-8": b"x\xff\xfe\xfd",
    # A lone surrogate (U+D800) as UTF-8 would spell it, which is invalid.
    "lone surrogate": b"y\xed\xa0\x80",
    "unicode": "J\N{LATIN SMALL LETTER U WITH DIAERESIS}rgen-\N{LATIN SMALL LETTER SHARP S}-\u65e5\u672c",
    "right-to-left override": "\u202evictim",
}
LOGIN_PAGES = {
    "shop": "/accounts/login/",
    "admin": "/admin/login/?next=/admin/",
}


@pytest.mark.parametrize("page", sorted(LOGIN_PAGES))
def test_no_username_gets_a_500_and_every_one_counts_toward_the_lockout(
    example_server, page
):
    """Attack: post each hostile username (huge, NUL bytes, not UTF-8, lone
    surrogates, emoji, normalisation bombs) with wrong passwords, again and
    again, to flood the log with tracebacks or to guess passwords past the
    lockout. Safe: the form comes back every time, the lockout (429) comes
    at the usual count for each, and the server logs no traceback."""
    server = example_server(
        {
            "DEBUG": "false",
            "SECRET_KEY": PRODUCTION_SECRET_KEY,
            "ALLOWED_HOSTS": "localhost",
            "HTTPS": "false",
        }
    )
    path = LOGIN_PAGES[page]

    answers = {
        name: [
            Visitor(server).log_in(username, f"guess-{n}", path).status
            for n in range(FAILURE_LIMIT)
        ]
        for name, username in HOSTILE_USERNAMES.items()
    }

    assert answers == dict.fromkeys(HOSTILE_USERNAMES, LOCKED)
    assert "Traceback" not in server.log_tail(10_000)


# The package's forms, on the test project (no django-axes) -----------------

asked: list[str] = []


class AskedBackend(ModelBackend):
    """ModelBackend, noting each username it is asked about."""

    def authenticate(
        self, request: Any, username: Any = None, password: Any = None, **kw: Any
    ) -> Any:
        asked.append(username)
        return super().authenticate(request, username, password, **kw)


@pytest.fixture
def failed_logins(settings, monkeypatch) -> Iterator[list[dict[str, Any]]]:
    """The credentials of every ``user_login_failed`` sent meanwhile; the
    admin's login page uses the package's AdminLoginForm, as the example
    project's does, and every backend asked is noted in ``asked``."""
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.AskedBackend"]
    monkeypatch.setattr(admin.site, "login_form", AdminLoginForm)
    asked.clear()
    reported: list[dict[str, Any]] = []

    def receiver(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
        reported.append(credentials)

    user_login_failed.connect(receiver)
    yield reported
    user_login_failed.disconnect(receiver)


def refused_as_a_wrong_password(response: Any) -> bool:
    form = response.context["form"]
    return [error.code for error in form.non_field_errors().as_data()] == [
        "invalid_login"
    ] and not form.errors.get("username")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "stand_in"),
    [
        ("a" * 151, "a" * 150),
        ("staff\x00", "staff\N{REPLACEMENT CHARACTER}"),
        (
            "\N{ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM}" * 9,
            unicodedata.normalize(
                "NFKC", "\N{ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM}" * 9
            )[:150],
        ),
    ],
    ids=["one over the limit", "NUL byte", "longer once normalised"],
)
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_a_username_no_account_can_have_is_a_reported_failed_login(
    client, staff_user, failed_logins, path, username, stand_in
):
    """What the login forms do with a username longer than the user model
    allows or holding a NUL byte: the form's usual "correct username and
    password" error, no backend asked (a NUL would make PostgreSQL raise),
    and one ``user_login_failed`` naming a stand-in that fits a username
    column, as authenticate() reports any failure."""
    response = client.post(path, {"username": username, "password": "x"})

    assert response.status_code == 200
    assert refused_as_a_wrong_password(response)
    assert asked == []
    assert failed_logins == [{"username": stand_in}]
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_possible_username_still_goes_through_authenticate(
    client, staff_user, failed_logins
):
    """The longest name an account may have, and a wrong password for a
    real one, are asked of the backends as before (Django reports those
    failures itself, with the password masked)."""
    for username in ("b" * 150, "staff"):
        response = client.post(
            "/accounts/login/", {"username": username, "password": "wrong"}
        )
        assert refused_as_a_wrong_password(response)

    assert asked == ["b" * 150, "staff"]
    assert [c["username"] for c in failed_logins] == ["b" * 150, "staff"]
    assert all(c["password"] == "********************" for c in failed_logins)
    response = client.post(
        "/accounts/login/", {"username": "staff", "password": "staff-pass"}
    )
    assert response.status_code == 302
