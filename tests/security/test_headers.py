"""Clickjacking and MIME sniffing: every page forbids framing and sniffing.

The headers come from the middleware the installation docs tell hosts to use
(``SecurityMiddleware`` and ``XFrameOptionsMiddleware``); these tests prove no
package view opts out of them.
"""

from __future__ import annotations

import pytest

from tests.helpers.products import product
from tests.helpers.users import client_for

pytestmark = pytest.mark.django_db

PAGES = [
    ("anonymous", "/accounts/login/"),
    ("anonymous", "/products/"),
    ("anonymous", "{detail}"),
    ("staff", "/products/"),
    ("staff", "/products/?q=tea&stock=low&expiry=expired&sort=-price&page=2"),
    ("staff", "{detail}"),
    ("staff", "/products/create/"),
    ("staff", "{delete}"),
    ("staff", "/dashboard/products/"),
    ("regular", "/dashboard/products/"),  # a 403 page
]


@pytest.mark.parametrize(("role", "url"), PAGES)
def test_pages_forbid_framing_and_sniffing(role, url):
    """Attack: a foreign page frames ours invisibly and tricks a staff member
    into clicking "Yes, delete it" (clickjacking), or gets a response
    interpreted as another content type. Safe: ``X-Frame-Options: DENY`` and
    ``X-Content-Type-Options: nosniff`` on every response."""
    item = product()
    client = client_for(role)

    response = client.get(
        url.format(
            detail=item.get_absolute_url(), delete=f"/products/{item.slug}/delete"
        )
    )

    assert response.status_code in {200, 403}
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
