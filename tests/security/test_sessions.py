"""Sessions: logout needs a POST, and logging in issues a new session and a
new CSRF token (no session fixation)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers.users import client_for, is_logged_in, session_exists

pytestmark = pytest.mark.django_db


def test_logout_by_get_is_refused_and_keeps_the_session():
    """Attack: an <img src="/accounts/logout/"> on any page logs visitors out.
    Safe: GET is 405 and the user stays logged in."""
    client = client_for("staff")

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert is_logged_in(client)


def test_login_replaces_a_session_key_planted_before_it(staff_user):
    """Attack: session fixation, the attacker plants a session cookie in the
    victim's browser, waits for them to log in and then uses the same key.
    Safe: login issues a new key and the planted one is deleted, so it
    authenticates nobody."""
    client = Client(enforce_csrf_checks=True)
    planted = client.session
    planted["planted"] = True
    planted.save()
    client.cookies["sessionid"] = planted.session_key
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/accounts/login/",
        {"username": "staff", "password": "staff-pass", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert client.cookies["sessionid"].value != planted.session_key
    assert not session_exists(planted.session_key)
    attacker = Client()
    attacker.cookies["sessionid"] = planted.session_key
    assert not is_logged_in(attacker)
    assert is_logged_in(client)


def test_login_rotates_the_csrf_token(staff_user):
    """Attack: a CSRF token learned before login (say, from a shared computer's
    login page) is replayed against the logged-in session. Safe: login rotates
    the token, and the old one is refused afterwards."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    before = client.cookies["csrftoken"].value

    client.post(
        "/accounts/login/",
        {"username": "staff", "password": "staff-pass", "csrfmiddlewaretoken": before},
    )

    after = client.cookies["csrftoken"].value
    assert after != before
    # The pre-login token no longer matches the victim's cookie.
    stale = client.post("/accounts/logout/", {"csrfmiddlewaretoken": before})
    assert stale.status_code == 403
    assert is_logged_in(client)
    fresh = client.post("/accounts/logout/", {"csrfmiddlewaretoken": after})
    assert fresh.status_code == 302
