"""The German catalogue: complete, compiled, and used by every page.

The catalogue checks need GNU gettext (``msgfmt``, ``msgattrib``), as
``makemessages``/``compilemessages`` do: they skip without it, and fail under
``CI=true``, where .ci/run installs it.
"""

from __future__ import annotations

import gettext
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

import shop_manager
from shop_manager.live.strings import RECONNECT_MAX_SECONDS, dashboard_strings
from shop_manager.models import Product
from tests.helpers import services

PACKAGE = Path(shop_manager.__file__).resolve().parent
CATALOGUE = Path("locale", "de", "LC_MESSAGES")
HOW_TO_UPDATE = (
    "Update it: cd src/shop_manager && django-admin makemessages -l de "
    "--no-location --no-wrap, translate every new or fuzzy entry, then "
    "django-admin compilemessages."
)
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}


def require_gettext() -> None:
    missing = [tool for tool in ("msgfmt", "msgattrib") if not shutil.which(tool)]
    if not missing:
        return
    message = f"GNU gettext ({', '.join(missing)}) is missing: apt-get install gettext"
    if services.in_ci():
        pytest.fail(f"{message}; CI=true requires it.")
    pytest.skip(message)


def django_admin(*args: str, cwd: Path) -> None:
    """Run django-admin as a developer would, outside any project's settings."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def entries(po: Path, *selection: str) -> str:
    """The entries msgattrib selects (``--untranslated``, ``--only-fuzzy``…)."""
    result = subprocess.run(
        ["msgattrib", *selection, str(po)],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def catalog(mo: Path) -> dict[Any, str]:
    with mo.open("rb") as file:
        translations = gettext.GNUTranslations(file)
    messages: dict[Any, str] = dict(translations._catalog)  # type: ignore[attr-defined]
    messages.pop("", None)  # The header, which carries creation dates.
    return messages


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """The installed package, where makemessages may rewrite the catalogue."""
    copy = tmp_path / "shop_manager"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_every_string_in_the_package_is_translated(package_copy):
    """makemessages over the package finds nothing new, changed or gone."""
    require_gettext()
    django_admin(
        "makemessages", "-l", "de", "--no-location", "--no-wrap", cwd=package_copy
    )
    remade = package_copy / CATALOGUE / "django.po"

    untranslated = entries(remade, "--untranslated", "--no-obsolete")
    assert untranslated == "", f"Untranslated strings:\n{untranslated}\n{HOW_TO_UPDATE}"
    fuzzy = entries(remade, "--only-fuzzy", "--no-obsolete")
    assert fuzzy == "", f"Changed strings (fuzzy):\n{fuzzy}\n{HOW_TO_UPDATE}"
    gone = entries(remade, "--only-obsolete")
    assert gone == "", f"Strings the code no longer uses:\n{gone}\n{HOW_TO_UPDATE}"


def test_the_committed_mo_is_compiled_from_the_committed_po(package_copy):
    require_gettext()
    committed = catalog(PACKAGE / CATALOGUE / "django.mo")
    (package_copy / CATALOGUE / "django.mo").unlink()

    django_admin("compilemessages", cwd=package_copy)

    assert catalog(package_copy / CATALOGUE / "django.mo") == committed, HOW_TO_UPDATE


def test_the_dashboard_script_gets_its_words_in_the_active_language():
    with translation.override("de"):
        strings = dashboard_strings()
    assert strings["status"]["live"] == "Verbunden"
    assert strings["actions"] == {
        "created": "erstellt",
        "updated": "geändert",
        "deleted": "gelöscht",
    }
    assert strings["headlines"]["deleted"] == "Produkt „%(name)s“ wurde gelöscht"
    assert strings["by_actor"] == "von %(actor)s"
    # Every second the countdown can show, in the language's plural form.
    assert len(strings["retry_in"]) == RECONNECT_MAX_SECONDS + 1
    assert strings["retry_in"][1] == "Nächster Versuch in 1 Sekunde."
    assert strings["retry_in"][2] == "Nächster Versuch in 2 Sekunden."
    with translation.override("en"):
        assert dashboard_strings()["retry_in"][1] == "Next attempt in 1 second."


def page_strings(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="sm-dashboard-strings" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert match, "the dashboard carries the script's strings in json_script"
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_the_dashboard_renders_in_german(staff_client, staff_user):
    from shop_manager.changelog.actors import acting_as

    with acting_as(staff_user):
        tea = Product.objects.create(name="Tea", price=Decimal("3"), quantity=4)
        tea.quantity = 9
        tea.save()

    html = staff_client.get("/dashboard/products/", **GERMAN).content.decode()

    assert '<html lang="de">' in html
    assert "<h1>Produktänderungen live</h1>" in html
    assert "die 2 neuesten Änderungen werden angezeigt" in html
    assert "Produkt „Tea“ wurde geändert" in html
    assert "Produkt „Tea“ wurde erstellt" in html
    assert '<span class="sm-feed-action">geändert</span>' in html
    assert "von staff" in html
    assert "Ältere Änderungen laden" in html
    assert page_strings(html)["status"]["offline"] == (
        "Offline, Verbindung wird wiederhergestellt…"
    )


@pytest.mark.django_db
def test_the_product_pages_render_in_german(staff_client):
    Product.objects.create(name="Tea", price=Decimal("3"), quantity=1)

    listing = staff_client.get("/products/", **GERMAN).content.decode()
    assert "<h1>Produkte</h1>" in listing
    assert "Sortieren nach" in listing
    assert "1 Produkt<" in listing
    assert "Niedriger Bestand" in listing

    form = staff_client.get("/products/create/", **GERMAN).content.decode()
    assert "<h1>Neues Produkt</h1>" in form
    # The model's verbose names label the form.
    assert "Einkaufspreis" in form
    assert "Lieferantennummer" in form
    assert "Leer lassen, um den Standardwert der Website zu verwenden." in form


@pytest.mark.django_db
def test_messages_are_in_german(staff_client):
    response = staff_client.post(
        "/products/create/",
        {"name": "Jam", "price": "2", "cost_price": "1", "quantity": "3"},
        follow=True,
        **GERMAN,
    )
    assert "Produkt „Jam“ wurde erstellt." in response.content.decode()
