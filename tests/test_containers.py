"""The example project's Dockerfile and docker-compose.yml hold together.

No Docker engine runs in CI, so no image is built here: Debian's
``docker-compose`` validates the compose file and resolves its variables, the
example project's settings are checked with exactly the environment the
``web`` service gets, and the Dockerfile is read for files and commands that
must exist. docs/deployment.md ("Containers") says what this leaves untested.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib.metadata import metadata
from pathlib import Path

import pytest

from tests.helpers import services
from tests.helpers.example_site import EXAMPLE_ENV_VARS, PRODUCTION_SECRET_KEY, manage

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
REQUIRED = {"SECRET_KEY": PRODUCTION_SECRET_KEY, "POSTGRES_PASSWORD": "pw"}


def docker_compose(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        reason = (
            "Debian's docker-compose is not installed (apt-get install -y "
            "docker-compose; .ci/run does), so the compose file is not validated."
        )
        if services.in_ci():
            pytest.fail(f"{reason} CI=true requires it.")
        pytest.skip(reason)
    # Only the variables the test names: a developer's SECRET_KEY must not leak in.
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(
        [binary, "--file", str(COMPOSE_FILE), "--project-directory", str(ROOT), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def web_environment(config: str) -> dict[str, str]:
    """The ``web`` service's environment in ``docker-compose config`` output."""
    block = re.search(
        r"^  web:\n(?:    .*\n)*?    environment:\n((?:      .*\n)+)", config, re.M
    )
    assert block, config
    return {
        key: value.strip("'\"")
        for key, value in re.findall(r"^      (\w+): ?(.*)$", block.group(1), re.M)
    }


def test_the_compose_file_is_valid():
    result = docker_compose("config", "--quiet", **REQUIRED)
    assert result.returncode == 0, result.stderr
    services_ = docker_compose("config", "--services", **REQUIRED).stdout.split()
    assert sorted(services_) == ["db", "redis", "web"]


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_the_compose_file_refuses_to_start_without_its_secrets(missing):
    """No default SECRET_KEY or database password ships in the file: leaving
    one out is an error naming it, not a site running on a public secret."""
    env = {key: value for key, value in REQUIRED.items() if key != missing}
    result = docker_compose("config", "--quiet", **env)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_the_web_service_runs_on_postgres_16_and_redis_7_with_settings_the_example_reads():
    config = docker_compose("config", **REQUIRED).stdout
    assert re.search(r"^    image: postgres:16$", config, re.M)
    assert re.search(r"^    image: redis:7$", config, re.M)
    environment = web_environment(config)
    unknown = set(environment) - EXAMPLE_ENV_VARS
    assert not unknown, f"settings.py reads no {unknown}"
    assert environment["DEBUG"] == "false"
    assert environment["POSTGRES_DB"]
    assert environment["DB_HOST"] == "db"
    assert environment["REDIS_URL"].startswith("redis://redis:6379")


def test_the_web_services_environment_passes_check_deploy():
    """The settings the container runs with, checked by the example project:
    no error, no package warning; only the two HSTS opt-ins a host decides
    (`HSTS_INCLUDE_SUBDOMAINS`, `HSTS_PRELOAD`) are reported."""
    environment = web_environment(docker_compose("config", **REQUIRED).stdout)
    result = manage("check", "--deploy", **environment)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert set(re.findall(r"\((\w+\.\w\d{3})\)", output)) == {
        "security.W005",
        "security.W021",
    }


# The Dockerfile -----------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_dockerfile_copies_files_that_exist():
    copies = [
        args for instruction, args in dockerfile_instructions() if instruction == "COPY"
    ]
    assert copies
    for args in copies:
        *sources, _target = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"


def test_the_dockerfile_installs_what_the_example_project_imports():
    """The demo group (daphne, which settings.py lists in INSTALLED_APPS,
    WhiteNoise, django-axes) and the extras for PostgreSQL, Redis and the
    recommended server must all be installed, or the container fails at start."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    run = " ".join(
        args for instruction, args in dockerfile_instructions() if instruction == "RUN"
    )
    extras = set(re.search(r"\.\[([\w,]+)\]", run).group(1).split(","))
    assert extras == {"postgres", "redis", "uvicorn"}
    assert extras <= set(metadata("django-shop-manager").get_all("Provides-Extra"))
    group = re.search(r"--group (\w+)", run).group(1)
    requirements = re.search(rf"^{group} = \[(.*?)\]", pyproject, re.M | re.S)
    assert requirements, f"pyproject.toml has no dependency group {group!r}"
    assert '"daphne' in requirements.group(1)
    assert "collectstatic --noinput" in run


def test_the_container_runs_migrations_then_uvicorn_without_deflate():
    """docs/deployment.md recommends uvicorn with websockets-sansio and without
    per-message deflate; the example project's ASGI application must exist."""
    [command] = [
        args for instruction, args in dockerfile_instructions() if instruction == "CMD"
    ]
    assert command.index("migrate --noinput") < command.index("exec uvicorn")
    assert "--ws websockets-sansio --ws-per-message-deflate false" in command
    module = re.search(r"uvicorn ([\w.]+):application", command).group(1)
    assert (ROOT / "example_project" / (module.replace(".", "/") + ".py")).exists()
    assert (
        "uvicorn --ws websockets-sansio --ws-per-message-deflate false"
        in (ROOT / "docs" / "deployment.md").read_text()
    )
