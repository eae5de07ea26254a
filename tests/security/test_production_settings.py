"""The example project's production settings pass Django's deployment checks."""

from __future__ import annotations

import json
import re

from tests.helpers.example_site import PRODUCTION_SECRET_KEY, manage, shell

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": PRODUCTION_SECRET_KEY,
    "ALLOWED_HOSTS": "shop.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
    "HTTPS": "true",
    "BEHIND_PROXY": "true",
    "HSTS_SECONDS": "31536000",
    "HSTS_INCLUDE_SUBDOMAINS": "true",
    "HSTS_PRELOAD": "true",
}
# What check --deploy says about a site that would also answer over plain HTTP.
HTTP_WARNINGS = {"security.W004", "security.W008", "security.W012", "security.W016"}


def deploy_check(**env: str) -> tuple[int, set[str], str]:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    output = result.stdout + result.stderr
    return result.returncode, set(re.findall(r"security\.W\d{3}", output)), output


def test_production_environment_passes_check_deploy():
    """Attack: cookies, logins and pages sent over plain HTTP (sniffed session
    and CSRF cookies, SSL stripping, framing). Safe: with the documented
    production variables `check --deploy --fail-level WARNING` finds nothing."""
    returncode, warnings, output = deploy_check(**PRODUCTION)

    assert returncode == 0, output
    assert not warnings


def test_https_is_on_by_default_when_debug_is_off():
    """Attack: a host deploys with DEBUG off but forgets HTTPS=true. Safe: the
    HTTPS redirect, secure cookies and HSTS are on anyway (only the two HSTS
    choices that reach beyond this site are left to the host)."""
    env = {k: v for k, v in PRODUCTION.items() if not k.startswith(("HTTPS", "HSTS"))}

    _returncode, warnings, output = deploy_check(**env)

    assert not warnings & HTTP_WARNINGS, output
    assert warnings == {"security.W005", "security.W021"}


def test_turning_https_off_is_reported_by_check_deploy():
    """A host that really serves plain HTTP (HTTPS=false) is told so by the
    deployment check rather than silently shipping insecure cookies."""
    returncode, warnings, _output = deploy_check(**{**PRODUCTION, "HTTPS": "false"})

    assert returncode != 0
    assert warnings >= HTTP_WARNINGS


# Runs inside the example project; prints the status and headers it got.
FETCH_STATIC = """
import asyncio, json
from django.templatetags.static import static
from django.test import AsyncClient

async def main():
    client = AsyncClient()
    url = static("shop_manager/css/shop_manager.css")
    response = await client.get(url, secure=True)
    page = await client.get("/products/", secure=True)
    plain = await client.get("/products/")
    return {
        "url": url,
        "status": response.status_code,
        "cache": response.get("Cache-Control", ""),
        "page": page.status_code,
        "plain": [plain.status_code, plain.get("Location", "")],
    }

print(json.dumps(asyncio.run(main())))
"""


def test_static_files_are_served_in_production(example_db, tmp_path):
    """With DEBUG off under ASGI nothing else serves /static/: WhiteNoise
    serves the hashed files collectstatic wrote, cacheable for long, and the
    pages that link them render; plain HTTP is redirected to HTTPS."""
    env = {
        **PRODUCTION,
        "BEHIND_PROXY": "false",
        "ALLOWED_HOSTS": "testserver",
        "SQLITE_PATH": example_db,
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collected = manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr

    result = json.loads(shell(FETCH_STATIC, **env).splitlines()[-1])

    assert re.fullmatch(
        r"/static/shop_manager/css/shop_manager\.\w{12}\.css", result["url"]
    )
    assert result["status"] == 200
    assert "max-age=315360000" in result["cache"]
    assert result["page"] == 200
    assert result["plain"] == [301, "https://testserver/products/"]
