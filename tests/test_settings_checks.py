"""SHOP_MANAGER settings and the system checks that guard them."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from shop_manager.conf import DEFAULTS, get_config

pytestmark = pytest.mark.django_db


def check_ids() -> set[str]:
    return {
        message.id for message in run_checks() if message.id.startswith("shop_manager")
    }


def test_defaults_and_overrides(settings):
    assert get_config() == DEFAULTS
    settings.SHOP_MANAGER = {"PAGE_SIZE": 10}
    assert get_config()["PAGE_SIZE"] == 10
    assert get_config()["LOW_STOCK_THRESHOLD"] == DEFAULTS["LOW_STOCK_THRESHOLD"]


def test_good_configuration_passes_every_check():
    assert check_ids() == set()


@pytest.mark.parametrize(
    ("config", "check_id"),
    [
        ({"PAGE_SIZ": 10}, "shop_manager.W001"),
        ({"PERMISSION_POLICY": "no.such.Policy"}, "shop_manager.E002"),
        ({"PAGE_SIZE": 0}, "shop_manager.E003"),
        ({"LOW_STOCK_THRESHOLD": "5"}, "shop_manager.E003"),
        ({"EXPIRING_SOON_DAYS": True}, "shop_manager.E003"),
        ({"HEARTBEAT_SECONDS": 0}, "shop_manager.E003"),
        ({"REVALIDATE_SECONDS": "soon"}, "shop_manager.E003"),
    ],
)
def test_bad_settings_are_reported(settings, config, check_id):
    settings.SHOP_MANAGER = config
    assert check_id in check_ids()


def test_non_dict_setting(settings):
    settings.SHOP_MANAGER = ["PAGE_SIZE"]
    assert check_ids() == {"shop_manager.E001"}
    with pytest.raises(ImproperlyConfigured, match="must be a dict"):
        get_config()


def test_missing_apps_and_middleware(settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if app != "django.contrib.messages"
    ]
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if "SessionMiddleware" not in m
    ]
    assert {"shop_manager.E004", "shop_manager.E005"} <= check_ids()
