"""URLs spelt the other way: the delete page with the trailing slash every
other page's URL has."""

from __future__ import annotations

import pytest
from django.test import Client

from shop_manager.models import Product

pytestmark = pytest.mark.django_db


def test_the_delete_url_with_a_slash_redirects_for_good(staff_client, make_product):
    """Every other page's URL ends with "/"; this one answered 404."""
    tea = make_product()
    response = staff_client.get(f"/products/{tea.slug}/delete/?from=list")
    assert response.status_code == 301
    assert response["Location"] == f"/products/{tea.slug}/delete?from=list"
    assert "Delete “Tea”?" in staff_client.get(response["Location"]).text


def test_a_post_to_the_delete_url_with_a_slash_keeps_its_method(
    make_product, staff_user
):
    """308, not 301: a browser repeats the POST (with its CSRF token) to the
    real URL, so a form that posted to the slashed URL still deletes."""
    tea = make_product()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    client.get(f"/products/{tea.slug}/delete")  # Sets the CSRF cookie.
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/products/{tea.slug}/delete/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 308
    assert response["Location"] == f"/products/{tea.slug}/delete"
    assert Product.objects.filter(pk=tea.pk).exists()  # Only redirected.
    deleted = client.post(response["Location"], {"csrfmiddlewaretoken": token})
    assert deleted.status_code == 302
    assert not Product.objects.filter(pk=tea.pk).exists()


def test_the_redirect_needs_no_product_and_leads_to_the_usual_404(staff_client):
    response = staff_client.get("/products/no-such-thing/delete/", follow=True)
    assert response.redirect_chain == [("/products/no-such-thing/delete", 301)]
    assert response.status_code == 404
