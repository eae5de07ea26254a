"""Test settings: SQLite and the in-memory channel layer unless told otherwise.

``DB_BACKEND=postgres`` switches to PostgreSQL (``POSTGRES_*``, ``DB_HOST``,
``DB_PORT``); ``CHANNEL_BACKEND=redis`` (or ``redis-pubsub``) to channels-redis
at ``REDIS_URL``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "shop_manager",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # As a multilingual host would: the browser's Accept-Language picks the
    # language (the e2e tests load the dashboard in German this way).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # As docs/installation.md asks of hosts: no framing (clickjacking).
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.urls"
ASGI_APPLICATION = "tests.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def postgres_test_db(name: str | None) -> str | None:
    """``POSTGRES_TEST_DB`` as a plain PostgreSQL name: lower case, underscores
    for the dashes in tox env names, and no longer than PostgreSQL keeps (it
    cuts longer names silently, which could make two runs share a database)."""
    if not name:
        return None
    cleaned = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if len(cleaned) > 63:
        raise ImproperlyConfigured(f"POSTGRES_TEST_DB {name!r} is over 63 characters.")
    return cleaned


DB_BACKEND = os.environ.get("DB_BACKEND", "sqlite")
if DB_BACKEND == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("POSTGRES_DB", "shop_manager"),
            "USER": os.environ.get("POSTGRES_USER", "postgres"),
            "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
            "HOST": os.environ.get("DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DB_PORT", "5432"),
            # Each tox env of each run gets its own test database (tox.ini), so
            # envs and checkouts sharing one server can run side by side.
            "TEST": {"NAME": postgres_test_db(os.environ.get("POSTGRES_TEST_DB"))},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_NAME", ":memory:"),
        }
    }

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_BACKEND = os.environ.get("CHANNEL_BACKEND", "memory")
# "redis": channels-redis' list-based layer; "redis-pubsub": its pub/sub layer
# (what the example project and the deployment docs recommend).
REDIS_LAYERS = {
    "redis": "channels_redis.core.RedisChannelLayer",
    "redis-pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}
# tox envs running side by side on one Redis must not hear each other, nor
# pytest-xdist's workers within one run (the e2e servers, started with the
# worker's environment, read the same name).
CHANNEL_PREFIX = os.environ.get("CHANNEL_PREFIX", "asgi") + os.environ.get(
    "PYTEST_XDIST_WORKER", ""
)
CHANNEL_LAYERS: dict[str, dict[str, Any]]
if CHANNEL_BACKEND in REDIS_LAYERS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": REDIS_LAYERS[CHANNEL_BACKEND],
            # redis-py 8's 5 s default socket_timeout would cut channels-redis'
            # 5 s blocking reads and drop idle sockets (shop_manager.W002).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": CHANNEL_PREFIX,
            },
        }
    }
    if CHANNEL_BACKEND == "redis":
        # Messages per channel before the list layer drops (benchmarks raise it).
        CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = int(
            os.environ.get("CHANNEL_CAPACITY", "100")
        )
        # redis-py 8 caps a pool at 100 connections and raises beyond it; the
        # list layer takes one per command in flight (shop_manager.W003).
        CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["max_connections"] = int(
            os.environ.get("REDIS_MAX_CONNECTIONS", "1000")
        )
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
