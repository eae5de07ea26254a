"""Run the example project's ``manage.py`` in a fresh interpreter.

The example project has its own settings (and apps the test settings do not
install), so tests drive it as a host would: a subprocess on a throwaway
SQLite file, with only the environment variables the test names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "example_project"
# The example settings read these; a test's own environment must not leak in.
EXAMPLE_ENV_VARS = {
    "ALLOWED_HOSTS",
    "AXES_COOLOFF_MINUTES",
    "AXES_FAILURE_LIMIT",
    "BEHIND_PROXY",
    "CSRF_TRUSTED_ORIGINS",
    "DB_CONN_MAX_AGE",
    "DB_HOST",
    "DB_POOL",
    "DB_PORT",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "HSTS_INCLUDE_SUBDOMAINS",
    "HSTS_PRELOAD",
    "HSTS_SECONDS",
    "HTTPS",
    "POSTGRES_DB",
    "POSTGRES_PASSWORD",
    "POSTGRES_USER",
    "REDIS_URL",
    "SECRET_KEY",
    "SQLITE_PATH",
}
# Long, varied and not "django-insecure-": what check --deploy asks of a key.
PRODUCTION_SECRET_KEY = "x7#Qm2!vR9pL4$wK8zT1^nB6&cY3*hF5-gJ0+dS_eA@uX2%iO7"


def example_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in EXAMPLE_ENV_VARS}
    return {**clean, **env}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python manage.py *args`` in the example project; never raises."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE_PROJECT,
        env=example_env(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def shell(code: str, **env: str) -> str:
    """Run ``code`` with the example project set up; return what it printed."""
    result = manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def migrated_copy(template: Path, target: Path) -> Path:
    """A fresh copy of an already-migrated database (migrating takes seconds)."""
    shutil.copyfile(template, target)
    return target


def migrate(path: Path) -> Path:
    result = manage("migrate", "--noinput", DEBUG="true", SQLITE_PATH=str(path))
    assert result.returncode == 0, result.stderr
    return path
