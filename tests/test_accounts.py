"""Login and logout through django.contrib.auth with the bundled templates."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_login_lands_on_products(client, staff_user):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'name="username"' in page.text
    response = client.post(
        "/accounts/login/", {"username": "staff", "password": "staff-pass"}
    )
    assert response.url == "/products/"
    assert "Signed in as staff" in client.get("/products/").text


def test_wrong_password_is_a_form_error(client, staff_user):
    response = client.post(
        "/accounts/login/", {"username": "staff", "password": "nope"}
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_next_only_redirects_within_the_site(client, staff_user):
    credentials = {"username": "staff", "password": "staff-pass"}
    inside = client.post("/accounts/login/?next=/products/create/", credentials)
    assert inside.url == "/products/create/"
    client.logout()
    outside = client.post("/accounts/login/?next=https://evil.example/", credentials)
    assert outside.url == "/products/"


def test_logout_is_post_only(staff_client):
    page = staff_client.get("/products/").text
    assert 'action="/accounts/logout/"' in page
    assert staff_client.get("/accounts/logout/").status_code == 405
    response = staff_client.post("/accounts/logout/")
    assert response.url == "/products/"
    assert staff_client.get("/products/create/").status_code == 302


def test_redirect_settings_are_respected(client, staff_user, settings):
    settings.LOGIN_REDIRECT_URL = "/admin/"
    response = client.post(
        "/accounts/login/", {"username": "staff", "password": "staff-pass"}
    )
    assert response.url == "/admin/"
    assert client.get("/accounts/login/").url == "/admin/"  # Already logged in.
