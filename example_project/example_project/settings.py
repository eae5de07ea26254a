"""Example site for django-shop-manager.

With no environment variables it runs on SQLite and the in-memory channel
layer (one process, no services). Set ``POSTGRES_DB`` (and ``POSTGRES_USER``,
``POSTGRES_PASSWORD``, ``DB_HOST``, ``DB_PORT``) for PostgreSQL and
``REDIS_URL`` for channels-redis, as in production.

With ``DEBUG`` off it is served over HTTPS only (``HTTPS`` defaults to on),
with WhiteNoise for static files and django-axes throttling logins; every
variable is listed in docs/deployment.md ("Production settings").
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import django
from django.core.exceptions import ImproperlyConfigured

from shop_manager.pool_check import check_pooled_connection

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_flag("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set SECRET_KEY (or DEBUG=true for local development)."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS only, unless told otherwise; on by default whenever DEBUG is off, so a
# production site is never plain HTTP by omission. `make demo` (DEBUG=true)
# runs over http://127.0.0.1.
HTTPS = env_flag("HTTPS", not DEBUG)
# A reverse proxy terminates TLS, overwrites X-Forwarded-Proto and appends the
# address it saw to X-Forwarded-For. Only set it when every request comes
# through the proxy: clients can send both headers too.
BEHIND_PROXY = env_flag("BEHIND_PROXY", False)
# How many proxies in a row append to X-Forwarded-For (a CDN in front of the
# TLS proxy makes two); 0 without a proxy, when the header is never read.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "1")) if BEHIND_PROXY else 0
if BEHIND_PROXY:
    if PROXY_COUNT < 1:
        raise ImproperlyConfigured("PROXY_COUNT must be 1 or more with BEHIND_PROXY.")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Browsers remember HSTS for this long: start small, raise once all is well.
    SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "3600"))
    # Both commit more than this site (every subdomain; browsers' preload
    # lists), so each is the host's explicit choice.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_flag("HSTS_PRELOAD", False)
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "daphne",  # First, so `runserver` serves ASGI: HTTP, websockets and static files.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # Above shop_manager: its login template (with the demo logins) is found
    # first; and its create_demo_users and load_demo_site commands.
    "example_project",
    "shop_manager",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files, right after the HTTPS redirect and before anything that
    # would touch a session for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last but the pass-through below, as django-axes asks: it turns a
    # locked-out login into a 429.
    "axes.middleware.AxesMiddleware",
    # Last: the chain above runs in one thread under ASGI, not a round trip
    # to the event loop per middleware method (docs/deployment.md).
    "shop_manager.middleware.SyncChainMiddleware",
]

# django-axes first: it refuses a locked-out login before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
# Locked out for this long after the last failure (a timedelta or hours).
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15"))
)
# Lock the username from that address: guessing one account's password is
# stopped, yet nobody can lock a user out from elsewhere, nor lock out a whole
# office behind one NAT address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client address: the TCP peer, or behind the proxy the X-Forwarded-For
# entry it appended; never a header a client wrote (client_address.py). Set
# in both cases, so installing django-ipware later changes nothing.
AXES_CLIENT_IP_CALLABLE = "example_project.client_address.client_address"

ROOT_URLCONF = "example_project.urls"
ASGI_APPLICATION = "example_project.asgi.application"

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
                # The demo logins on the login page, with DEBUG on only.
                "example_project.context_processors.demo_logins",
            ],
        },
    }
]


def pool_options() -> dict[str, Any]:
    """psycopg's pool, made to get over a database outage (docs/deployment.md,
    "After a database outage")."""
    # Django before 6.1 passes the pool's check itself (psycopg's, as
    # CONN_HEALTH_CHECKS asks), which after an outage waits 0, 1, 2, 4 s
    # between the four dead connections it finds: give it the time.
    custom_check = django.VERSION >= (6, 1)
    # Seconds a request waits for a healthy connection: it rides out a
    # database restart shorter than this, and bounds how long a page takes
    # to fail in a longer outage (psycopg's default, 30 s, made every page
    # hang that long).
    timeout = float(os.environ.get("DB_POOL_TIMEOUT", "5" if custom_check else "10"))
    options: dict[str, Any] = {
        "timeout": timeout,
        # How long the pool retries one lost connection, backing off 1, 2,
        # 4, ... s, before giving it up; a request that then finds no
        # connection opens one at once. psycopg's default (5 minutes) kept
        # the pool waiting out its backoff after the database was back, each
        # request meanwhile failing after `timeout`.
        "reconnect_timeout": timeout,
        # psycopg's default, four: more serve a loaded process better, but
        # before Django 6.1 the pool's own check backs off once more for each
        # connection that died in an outage, and with 16 the first socket
        # after one failed (docs/deployment.md).
        "min_size": 4,
        "max_size": int(os.environ.get("DB_POOL_MAX_SIZE", "4")),
    }
    if custom_check:
        # At the first dead connection, drop every dead one at once.
        options["check"] = check_pooled_connection
    return options


if os.environ.get("POSTGRES_DB"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["POSTGRES_DB"],
            "USER": os.environ.get("POSTGRES_USER", "postgres"),
            "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
            "HOST": os.environ.get("DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DB_PORT", "5432"),
            # Seconds a connection is kept for reuse; only when DB_POOL is off.
            # Under ASGI each request and socket hop may run in its own thread,
            # and a thread's kept connection is not reused by the next one
            # (benchmarks/README.md).
            "CONN_MAX_AGE": int(os.environ.get("DB_CONN_MAX_AGE", "0")),
            # Check a kept connection before reusing it: without the pool, a
            # `SELECT 1` before a thread's persistent connection's first
            # query; with it, psycopg's check on every connection handed out
            # (unless pool_options() names a better one). Otherwise a
            # connection that died in a database outage is handed out after
            # it, and its request fails.
            "CONN_HEALTH_CHECKS": True,
        }
    }
    if env_flag("DB_POOL", True):
        # psycopg's connection pool (Django 5.1+, psycopg[pool]): connections
        # are reused across threads; without it every request and every
        # socket's database hop opens a new PostgreSQL connection, which made
        # 1,000 dashboards take 24 s instead of 5-7 s to connect.
        DATABASES["default"]["OPTIONS"] = {"pool": pool_options()}
        DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH") or BASE_DIR / "db.sqlite3",
            # Take the write lock at BEGIN, so concurrent writers queue up
            # instead of failing with "database is locked".
            "OPTIONS": {"transaction_mode": "IMMEDIATE"},
        }
    }

REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # One PUBLISH per event, fanned out inside each process: the fastest
            # channels-redis layer. What it drops in a Redis blip, dashboards
            # recover from the change log (replay + heartbeat).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # redis-py 8 defaults socket_timeout to 5 s; give reads room.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

SHOP_MANAGER = {
    "PAGE_SIZE": 20,
    # Prices on every page: "€6.90" (docs/configuration.md).
    "CURRENCY": {"CODE": "EUR", "SYMBOL": "€"},
    # "LOGIN_REQUIRED": True,
    # "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy",
    "NOTIFIERS": {
        "default": {"BACKEND": "shop_manager.live.notifier.ChannelLayerNotifier"},
        "log": {"BACKEND": "shop_manager.notifiers.log.LoggingNotifier"},
    },
}
if os.environ.get("SOCKETS_PER_USER"):
    # Dashboard sockets one account may hold open (20 by default). A load
    # test that shares a few accounts among many sockets raises it.
    SHOP_MANAGER["SOCKETS_PER_USER"] = int(os.environ["SOCKETS_PER_USER"])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production `collectstatic` writes hashed, compressed files that
    # WhiteNoise serves with far-future cache headers.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "shop_manager": {"handlers": ["console"], "level": "INFO"},
        # Server errors (500s) to stderr: with DEBUG off Django would only mail them.
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}
