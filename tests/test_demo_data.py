"""``load_demo_data`` and the example project's environment switches."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

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
    # The catalogue's 45, then the rest made up, with progress batch by batch.
    assert "1,000 / 1,455 generated products" in output
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


@pytest.fixture
def demo_staff(django_user_model):
    """People to make the history: named, as the example project's are."""
    return [
        django_user_model.objects.create_user(
            username, first_name=first, last_name=last
        )
        for username, first, last in (
            ("bea", "Bea", "Brunner"),
            ("carlos", "Carlos", "Díaz"),
        )
    ]


@pytest.mark.django_db
def test_an_actor_must_exist():
    """The package never makes users: it names the missing one instead."""
    with pytest.raises(CommandError, match="No user 'nobody-here'"):
        load("--actor", "nobody-here")
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_the_history_is_made_by_the_people_named(demo_staff):
    output = load(
        "--products", "45", "--seed", "3", "--actor", "bea", "--actor", "carlos"
    )
    assert "With 40 changes over the last 14 days by bea, carlos." in output
    events = list(ProductEvent.objects.order_by("id"))
    updates = [e for e in events if e.action == "updated"]
    assert len(updates) == 40
    # Every change by one of them, by name; nothing "by nobody".
    assert {e.actor_name for e in events} == {"Bea Brunner", "Carlos Díaz"}
    # A product added during the fortnight, and one discontinued.
    assert [e.product_name for e in events if e.action == "deleted"] == [
        "Instant coffee 200 g"
    ]
    assert ProductEvent.objects.filter(
        action="created", product_name="Saffron threads 1 g"
    ).exists()


@pytest.mark.django_db
def test_the_history_spans_the_days_in_order(demo_staff):
    load("--seed", "5", "--actor", "bea", "--changes", "30", "--days", "10")
    times = list(ProductEvent.objects.order_by("id").values_list("created", flat=True))
    # The log's ids follow time, as a real log's would.
    assert times == sorted(times)
    now = timezone.now()
    assert now - times[0] >= datetime.timedelta(days=9, hours=23)
    assert now - times[-1] >= datetime.timedelta(minutes=7)
    assert times[-1].date() >= (now - datetime.timedelta(hours=4)).date()
    # Products were last changed when their last event says.
    for product in Product.objects.all():
        last = ProductEvent.objects.filter(product_pk=product.pk).latest("id")
        assert product.modified == last.created


@pytest.mark.django_db
def test_replaying_the_log_ends_in_the_products_as_they_are(demo_staff):
    """Each logged change starts from the value the previous one left: the
    history is one consistent story, not random rows."""
    load("--seed", "11", "--actor", "bea", "--actor", "carlos", "--changes", "60")
    for product in Product.objects.all():
        values: dict[str, object] = {}
        for event in ProductEvent.objects.filter(product_pk=product.pk).order_by("id"):
            for field, (old, new) in event.changes.items():
                if event.action == "updated":
                    assert values.get(field) == old, (product.name, field)
                values[field] = new
        assert values["quantity"] == product.quantity
        assert values["price"] == f"{product.price:.2f}"
        expiry = product.expiry_date.isoformat() if product.expiry_date else None
        assert values.get("expiry_date") == expiry


@pytest.mark.django_db
def test_the_shop_has_a_few_things_to_see_to(demo_staff):
    load("--seed", "2", "--actor", "bea")
    assert Product.objects.filter(quantity=0).count() >= 1
    assert 2 <= Product.objects.low_stock().count() <= 8
    assert 2 <= Product.objects.expiring_soon().count() <= 8
    assert Product.objects.expired().count() >= 1
    # Mostly a healthy shop.
    assert Product.objects.low_stock().count() < Product.objects.count() / 4


@pytest.mark.django_db
def test_without_actors_the_catalogue_comes_without_history():
    load("--products", "10")
    assert Product.objects.count() == 10
    assert set(ProductEvent.objects.values_list("action", "actor_name")) == {
        ("created", "")
    }


@pytest.mark.django_db
def test_more_than_the_catalogue_is_made_up_and_dated_with_the_history(demo_staff):
    load("--products", "60", "--seed", "1", "--actor", "bea")
    # 45 from the catalogue, 15 made up, and the one added during the history.
    assert Product.objects.count() == 61
    times = list(ProductEvent.objects.order_by("id").values_list("created", flat=True))
    assert times == sorted(times)


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
