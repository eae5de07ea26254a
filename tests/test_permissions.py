"""Roles: who may view, manage and watch, through the one permission policy."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from shop_manager.models import Product
from shop_manager.permissions import get_policy

pytestmark = pytest.mark.django_db

VALID = {"name": "Kettle", "price": "20.00", "cost_price": "9", "quantity": "2"}


def management_requests(product: Product) -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("get", "/products/create/", {}),
        ("post", "/products/create/", VALID),
        ("post", product.get_absolute_url(), {**VALID, "version": product.version}),
        ("get", f"/products/{product.slug}/delete", {}),
        ("post", f"/products/{product.slug}/delete", {}),
        ("get", "/dashboard/products/", {}),
    ]


def snapshot() -> list[dict[str, object]]:
    return list(Product.objects.values())


def test_regular_user_gets_403_everywhere_and_nothing_changes(
    regular_client, make_product
):
    tea = make_product()
    before = snapshot()
    for method, url, data in management_requests(tea):
        response = getattr(regular_client, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert snapshot() == before
    assert regular_client.get("/products/").status_code == 200
    assert regular_client.get(tea.get_absolute_url()).status_code == 200


def test_anonymous_is_sent_to_login(client, make_product):
    tea = make_product()
    before = snapshot()
    for method, url, data in management_requests(tea):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=")
    assert snapshot() == before


def test_inactive_staff_may_do_nothing(make_product, django_user_model):
    user = django_user_model(username="old", is_staff=True, is_active=False)
    policy = get_policy()
    assert not policy.can_view(user)
    assert not policy.can_manage(user, "add")
    assert not policy.can_watch(user)


def test_staff_and_superuser_manage(client, staff_user, admin_user, make_product):
    for user in (staff_user, admin_user):
        client.force_login(user)
        tea = make_product()
        for method, url, data in (
            management_requests(tea)[:1] + management_requests(tea)[-1:]
        ):
            assert getattr(client, method)(url, data).status_code == 200
        assert client.post(f"/products/{tea.slug}/delete").status_code == 302


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_nav_shows_only_what_the_user_may_do(regular_user, staff_user):
    page = client_for(regular_user).get("/products/").text
    assert "New product" not in page
    assert "Live dashboard" not in page
    page = client_for(staff_user).get("/products/").text
    assert "New product" in page
    assert "Live dashboard" in page
    assert "Log in" in client_for(None).get("/products/").text


def test_login_required_setting(regular_user, settings, make_product):
    tea = make_product()
    settings.SHOP_MANAGER = {"LOGIN_REQUIRED": True}
    for url in ("/products/", tea.get_absolute_url()):
        assert client_for(None).get(url).url.startswith("/accounts/login/")
        assert client_for(regular_user).get(url).status_code == 200


def test_model_permissions_policy_uses_groups(
    client, regular_user, settings, make_product
):
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    tea = make_product()
    client.force_login(regular_user)
    assert client.get("/products/create/").status_code == 403

    editors = Group.objects.create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="change_product"))
    regular_user.groups.add(editors)
    response = client.post(tea.get_absolute_url(), {**VALID, "version": tea.version})
    assert response.status_code == 302
    assert client.get("/products/create/").status_code == 403
    assert client.get("/dashboard/products/").status_code == 403

    editors.permissions.add(
        Permission.objects.get(codename="add_product"),
        Permission.objects.get(codename="watch_dashboard"),
    )
    client.force_login(type(regular_user).objects.get(pk=regular_user.pk))
    assert client.get("/products/create/").status_code == 200
    assert client.get("/dashboard/products/").status_code == 200


def test_bad_policy_path_names_the_setting(settings):
    settings.SHOP_MANAGER = {"PERMISSION_POLICY": "shop_manager.nope.Policy"}
    with pytest.raises(
        ImproperlyConfigured,
        match=r"'shop_manager.nope.Policy'.*SHOP_MANAGER\['PERMISSION_POLICY'\]",
    ):
        get_policy()


def test_unknown_action_in_template_filter_is_refused(staff_user):
    from shop_manager.templatetags.shop_manager import can_manage

    assert can_manage(staff_user, "add")
    assert not can_manage(staff_user, "launch")
