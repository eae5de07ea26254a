"""``load_demo_data`` and the example project's environment switches."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from shop_manager.models import Product, ProductEvent

EXAMPLE_PROJECT = Path(__file__).resolve().parent.parent / "example_project"


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo_data", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_loads_products_and_logs_them():
    output = load("--products", "1500", "--seed", "1")
    assert Product.objects.count() == 1500
    assert len(set(Product.objects.values_list("slug", flat=True))) == 1500
    assert ProductEvent.objects.filter(action="created").count() == 1500
    assert "1,000 / 1,500 products" in output
    assert Product.objects.filter(expiry_date__isnull=True).exists()
    assert Product.objects.low_stock().exists()
    assert Product.objects.expired().exists()


@pytest.mark.django_db
def test_rerunning_adds_products_unless_told_if_empty():
    load("--products", "5")
    load("--products", "5")
    assert Product.objects.count() == 10
    assert "skipping" in load("--products", "5", "--if-empty")
    assert Product.objects.count() == 10


@pytest.mark.django_db
def test_negative_count_is_refused():
    with pytest.raises(CommandError, match="0 or more"):
        load("--products", "-1")


def example_settings(**env: str) -> str:
    """Import the example settings in a fresh interpreter; print what it chose."""
    code = (
        "import example_project.settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"POSTGRES_DB", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=EXAMPLE_PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + result.stderr


def test_example_project_runs_without_services():
    assert example_settings(DEBUG="true").split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
    ]


def test_example_project_uses_postgres_and_redis_when_told():
    output = example_settings(
        SECRET_KEY="s3cret", POSTGRES_DB="shop", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert output.split() == [
        "django.db.backends.postgresql",
        "channels_redis.pubsub.RedisPubSubChannelLayer",
    ]


def test_example_project_needs_a_secret_key_in_production():
    assert "Set SECRET_KEY" in example_settings(DEBUG="false")
