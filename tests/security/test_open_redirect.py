"""Open redirects through ``?next=`` at login and logout.

The hostile forms are those Django's own tests feed
``url_has_allowed_host_and_scheme`` (tests/utils_tests/test_http.py), plus
look-alike hosts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.helpers.users import client_for

pytestmark = pytest.mark.django_db

HOSTILE_NEXT = [
    "http://evil.com",
    "https://evil.com",
    "ftp://evil.com",
    "//evil.com",
    "///evil.com",
    "////evil.com",
    "\\\\evil.com",
    "\\\\\\evil.com",
    "/\\evil.com",
    "/\\\\/evil.com",
    "\\/evil.com",
    "\\//evil.com",
    "/\\/evil.com",
    "http:///evil.com",
    "http:/\\//evil.com",
    "http:\\/evil.com",
    "http:/\\evil.com",
    "https:evil.com",
    "http:evil.com",
    "http:999999999",
    "javascript:alert(1)",
    'javascript:alert("XSS")',
    "\njavascript:alert(x)",
    "java\nscript:alert(x)",
    "\x08//evil.com",
    "  //evil.com",
    "\t//evil.com",
    "http://testserver@evil.com",
    "http://testserver\\@evil.com",
    "http:\\\\testserver\\@evil.com",
    "http://testserver\\me:pass@evil.com",
    "http://otherserver\\@evil.com",
    "http://testserver.evil.com",
    "http://evil-testserver/",
    "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
    "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
]


def assert_on_site(location: str) -> None:
    """A browser following ``location`` stays on this site."""
    parts = urlsplit(location)
    assert not parts.scheme, location
    assert not parts.netloc, location
    assert location.startswith("/"), location
    assert not location.startswith(("//", "/\\")), location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_never_redirects_off_site(staff_user, target):
    """Attack: a phishing link to the real login page with ``?next=`` pointing
    at the attacker's site, so the victim lands there right after logging in.
    Safe: the login succeeds and the redirect stays on this site."""
    client = Client()

    response = client.post(
        "/accounts/login/",
        {"username": "staff", "password": "staff-pass", "next": target},
    )

    assert response.status_code == 302
    assert response.url == "/products/"
    assert_on_site(response.url)


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_logout_never_redirects_off_site(target):
    """Attack: the same trick on logout's ``next``. Safe: the user is logged
    out and sent to a page on this site."""
    client = client_for("staff")

    response = client.post("/accounts/logout/", {"next": target})

    assert response.status_code == 302
    assert response.url == "/products/"


def test_next_within_the_site_is_kept(staff_user):
    """Control: a same-site ``next`` is honoured, so the cases above prove the
    hostile forms are rejected rather than ``next`` being ignored."""
    client = Client()
    login = client.post(
        "/accounts/login/?next=/products/create/",
        {"username": "staff", "password": "staff-pass"},
    )
    assert login.url == "/products/create/"
    logout = client.post("/accounts/logout/", {"next": "/products/?q=tea"})
    assert logout.url == "/products/?q=tea"
