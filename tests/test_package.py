"""What ships: templates, static files, migrations and type information."""

from __future__ import annotations

from importlib import resources

import pytest
from django.core.management import call_command

import shop_manager


@pytest.mark.parametrize(
    "path",
    [
        "py.typed",
        "templates/shop_manager/base.html",
        "templates/shop_manager/dashboard.html",
        "templates/shop_manager/403.html",
        "templates/shop_manager/registration/login.html",
        "static/shop_manager/css/shop_manager.css",
        "static/shop_manager/js/dashboard.js",
        "static/shop_manager/js/live-socket.js",
        "migrations/0001_initial.py",
        "migrations/0002_product_event.py",
    ],
)
def test_package_ships(path):
    assert resources.files(shop_manager).joinpath(path).is_file()


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "shop_manager", "--check", "--dry-run", verbosity=0)
