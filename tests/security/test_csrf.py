"""Cross-site request forgery: every state-changing POST needs Django's token."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers.products import VALID_PRODUCT, product, product_form, snapshot
from tests.helpers.users import client_for, is_logged_in

pytestmark = pytest.mark.django_db

# A token of the right shape that this client's cookie never issued.
FORGED = {"csrfmiddlewaretoken": "x" * 64}


@pytest.mark.parametrize("token", [{}, FORGED], ids=["no-token", "forged-token"])
@pytest.mark.parametrize("action", ["create", "update", "delete"])
def test_product_changes_without_a_valid_token_are_refused(action, token):
    """Attack: a page on another site makes a logged-in staff member's browser
    POST to create, update or delete a product. Safe: 403 and the products and
    change log are exactly as before."""
    client = client_for("staff", enforce_csrf_checks=True)
    tea = product()
    # The attacker has no token, but the victim's browser does hold the cookie.
    client.get(tea.get_absolute_url())
    url, data = {
        "create": ("/products/create/", VALID_PRODUCT),
        "update": (tea.get_absolute_url(), product_form(tea, name="Pwned")),
        "delete": (f"/products/{tea.slug}/delete", {}),
    }[action]
    before = snapshot()

    response = client.post(url, {**data, **token})

    assert response.status_code == 403
    assert snapshot() == before


def test_the_same_post_with_the_token_succeeds():
    """Control for the cases above: with the page's token the update goes
    through, so the 403s really come from the missing token."""
    client = client_for("staff", enforce_csrf_checks=True)
    tea = product()
    client.get(tea.get_absolute_url())
    token = client.cookies["csrftoken"].value

    response = client.post(
        tea.get_absolute_url(),
        {**product_form(tea, name="Green tea"), "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    tea.refresh_from_db()
    assert tea.name == "Green tea"


@pytest.mark.parametrize("token", [{}, FORGED], ids=["no-token", "forged-token"])
def test_login_without_a_token_is_refused(staff_user, token):
    """Attack: login CSRF, a foreign page logs the victim into the attacker's
    account so what they type lands there. Safe: 403 and no session."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")

    response = client.post(
        "/accounts/login/", {"username": "staff", "password": "staff-pass", **token}
    )

    assert response.status_code == 403
    assert "sessionid" not in client.cookies
    assert not is_logged_in(client)


@pytest.mark.parametrize("token", [{}, FORGED], ids=["no-token", "forged-token"])
def test_logout_without_a_token_is_refused(token):
    """Attack: a foreign page logs the victim out (a nuisance, and a step in
    login CSRF). Safe: 403 and the victim is still logged in."""
    client = client_for("staff", enforce_csrf_checks=True)
    client.get("/products/")

    response = client.post("/accounts/logout/", token)

    assert response.status_code == 403
    assert is_logged_in(client)
