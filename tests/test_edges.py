"""Edges users still notice: admin deletes, fixtures, broken layers, base policy."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import serializers
from django.urls import path

from shop_manager.changelog.rendering import event_payload
from shop_manager.models import Product, ProductEvent
from shop_manager.permissions import BasePermissionPolicy

pytestmark = pytest.mark.django_db

# A host that mounts only the admin: payloads must not fail without product pages.
urlpatterns = [path("nothing/", lambda request: None)]


def test_admin_delete_is_logged_as_the_admin(admin_client, admin_user, make_product):
    tea = make_product()
    response = admin_client.post(
        f"/admin/shop_manager/product/{tea.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    deleted = ProductEvent.objects.get(action="deleted")
    assert (deleted.actor, deleted.product_name) == (admin_user, "Tea")
    assert str(deleted) == f"#{deleted.pk} Tea deleted"


def test_admin_changelist_without_filter_lists_everything(admin_client, make_product):
    make_product(name="Green tea", quantity=100)
    assert "Green tea" in admin_client.get("/admin/shop_manager/product/").text


def test_loading_fixtures_is_not_a_change():
    product = Product(pk=99, name="Fixture", slug="fixture", price=Decimal(1))
    for obj in serializers.deserialize(
        "json", serializers.serialize("json", [product])
    ):
        obj.save()
    assert Product.objects.filter(slug="fixture").exists()
    assert not ProductEvent.objects.exists()


def test_logging_nothing_is_a_no_op():
    from shop_manager.changelog.writer import log_events

    assert log_events([]) == []


def test_event_without_product_pages_has_no_url(settings, make_product):
    tea = make_product()
    settings.ROOT_URLCONF = "tests.test_edges"
    assert (
        event_payload(ProductEvent.objects.get(product_pk=tea.pk))["product"]["url"]
        is None
    )


def test_expiring_soon_queryset(make_product):
    import datetime

    from django.utils import timezone

    soon = make_product(
        name="Soon", expiry_date=timezone.localdate() + datetime.timedelta(3)
    )
    make_product(name="Never")
    assert list(Product.objects.expiring_soon()) == [soon]


def test_base_policy_lets_people_view_and_nobody_manage(staff_user):
    policy = BasePermissionPolicy()
    assert policy.can_view(AnonymousUser())
    assert policy.can_view(staff_user)
    assert not policy.can_manage(staff_user, "add")
    assert not policy.can_watch(staff_user)


def test_revocation_with_a_broken_layer_is_logged(
    settings, staff_user, caplog, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "tests.helpers.layers.BrokenLayer"}
    }
    staff_user.is_staff = False
    with django_capture_on_commit_callbacks(execute=True):
        staff_user.save()
    assert "Could not send access.recheck" in caplog.text


def test_revocation_without_a_layer_is_skipped(
    settings, staff_user, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = {}
    settings.SILENCED_SYSTEM_CHECKS = ["shop_manager.E007"]
    staff_user.is_active = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        staff_user.save()
    assert len(callbacks) == 1
