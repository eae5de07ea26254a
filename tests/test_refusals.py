"""What a signed-in user the permission policy refuses sees."""

from __future__ import annotations

import re

import pytest

from shop_manager.permissions import StaffPolicy

pytestmark = pytest.mark.django_db

DASHBOARD = "/dashboard/products/"
BACK_LINK = '<a class="sm-button" href="/products/">Back to the products</a>'


class ViewNothingPolicy(StaffPolicy):
    """Lets staff manage and watch, but nobody browse (a closed back office)."""

    def can_view(self, user):
        return False


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", DASHBOARD),
        ("get", "/products/create/"),
        ("post", "/products/create/"),
        ("get", "/products/tea/delete"),
    ],
)
def test_a_refused_user_gets_the_shops_page_with_a_way_back(
    regular_client, make_product, method, url
):
    """It used to be a bare "403 Forbidden" with no layout and no link."""
    make_product(name="Tea")
    response = getattr(regular_client, method)(url)
    assert response.status_code == 403
    html = response.content.decode()
    assert "<title>Not allowed · Shop manager</title>" in html
    assert "You are signed in as shopper" in html
    assert BACK_LINK in html
    # And a way to switch accounts, back to the page they wanted.
    assert re.search(
        r'<form method="post" action="/accounts/logout/".*?name="next" '
        rf'value="/accounts/login/\?next={re.escape(url)}"',
        html,
        re.S,
    )


def test_log_in_as_someone_else_leads_back_to_the_page(regular_client):
    html = regular_client.get(DASHBOARD).content.decode()
    [next_url] = re.findall(r'name="next" value="([^"]+)"', html)
    response = regular_client.post("/accounts/logout/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/products/"
    assert regular_client.get(DASHBOARD)["Location"].startswith("/accounts/login/")


def test_no_link_back_to_products_the_user_may_not_see(regular_client, settings):
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "tests.test_refusals.ViewNothingPolicy"
    }
    response = regular_client.get("/products/")
    assert response.status_code == 403
    assert "You are signed in as shopper" in response.content.decode()
    assert BACK_LINK not in response.content.decode()


def test_anonymous_users_are_still_sent_to_log_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/products/"
