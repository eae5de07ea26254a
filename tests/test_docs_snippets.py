"""The code in README.md and docs/ runs as a reader would copy it.

Every ```python block compiles and imports or defines each name it uses. The
host files the install guides show (``# mysite/settings.py`` fragment,
``# mysite/urls.py``, ``# mysite/asgi.py``) are dropped into a fresh
``startproject`` site, which must pass ``check``, migrate, and serve its
pages, static files and the dashboard's websocket.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import subprocess
import symtable
import sys
from pathlib import Path

import django
import pytest

from tests.helpers.doc_snippets import (
    INSTALLATION,
    ROOT,
    apply_host_files,
    host_file,
    host_files,
    python_blocks,
)

DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
INSTALL_GUIDES = [ROOT / "README.md", INSTALLATION]
# What the generated site must do, run inside it by its own Python.
SITE_SCRIPT = Path(__file__).with_name("docs_site_script.py")


def startproject_settings_names() -> set[str]:
    """The names ``startproject``'s settings.py defines, for settings fragments."""
    template = (
        Path(django.__file__).parent
        / "conf/project_template/project_name/settings.py-tpl"
    )
    tree = ast.parse(template.read_text())
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    } | {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }


def undefined_names(source: str) -> set[str]:
    """Names the snippet uses but neither imports nor defines."""
    table = symtable.symtable(source, "<snippet>", "exec")
    defined = {
        symbol.get_name()
        for symbol in table.get_symbols()
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()
    }
    used: set[str] = set()

    def collect(scope: symtable.SymbolTable) -> None:
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (scope is table or symbol.is_global()):
                used.add(symbol.get_name())
        for child in scope.get_children():
            collect(child)

    collect(table)
    return used - defined - set(dir(builtins))


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_python_snippet_compiles_and_names_its_imports(doc):
    for block in python_blocks(doc):
        compile(block, f"{doc.name} snippet", "exec")
        missing = undefined_names(block)
        if host_file(block) == "settings":
            missing -= startproject_settings_names()
        assert not missing, f"{doc.name}: a snippet uses {missing} without importing it"


def test_the_name_check_catches_a_missing_import():
    """README's old urls.py used include() and path() without importing them."""
    assert undefined_names('urlpatterns = [path("", include("x"))]') == {
        "path",
        "include",
    }
    assert undefined_names("from django.urls import include, path\n") == set()


def build_site(doc: Path, tmp_path: Path) -> Path:
    """A ``startproject`` site with the doc's host files; returns its folder."""
    files = host_files(doc)
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(tmp_path)],
        check=True,
        env=site_env(tmp_path),
    )
    apply_host_files(tmp_path / "mysite", files)
    return tmp_path


def site_env(site: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTHON"))
    }
    return {**env, "DJANGO_SETTINGS_MODULE": "mysite.settings", "PYTHONPATH": str(site)}


def run_in_site(site: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=site,
        env=site_env(site),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.mark.parametrize("doc", INSTALL_GUIDES, ids=lambda doc: doc.name)
def test_the_install_guide_builds_a_working_site(doc, tmp_path):
    """A stranger copies the guide's three files into a new project: it must
    pass every check (warnings included), migrate, serve the product list, the
    dashboard's script (under any ASGI server) and an authenticated socket."""
    site = build_site(doc, tmp_path)
    run_in_site(site, "manage.py", "check", "--fail-level", "WARNING")
    run_in_site(site, "manage.py", "migrate", "--verbosity", "0")
    output = run_in_site(site, str(SITE_SCRIPT))
    assert output.splitlines()[-1] == "site works"


def test_configuration_shows_the_real_defaults():
    """docs/configuration.md's example and table are what conf.DEFAULTS holds."""
    from shop_manager.conf import DEFAULTS

    doc = ROOT / "docs" / "configuration.md"
    example = ast.parse(python_blocks(doc)[0]).body[0]
    assert isinstance(example, ast.Assign)
    assert ast.literal_eval(example.value) == DEFAULTS
    table = re.findall(r"^\| `([A-Z_]+)` \| `([^`]+)` \|", doc.read_text(), re.M)
    assert {key: ast.literal_eval(value) for key, value in table} == DEFAULTS


@pytest.mark.django_db
def test_the_template_override_example_restyles_every_page(tmp_path, client, settings):
    """docs/templates.md's TEMPLATES["DIRS"] and base.html, as a host adds them."""
    doc = (ROOT / "docs" / "templates.md").read_text()
    [override] = re.findall(r"^```django\n(.*?)^```", doc, re.M | re.S)
    [dirs_setting] = python_blocks(ROOT / "docs" / "templates.md")
    (tmp_path / "templates" / "shop_manager").mkdir(parents=True)
    (tmp_path / "templates" / "shop_manager" / "base.html").write_text(override)
    templates = [{**settings.TEMPLATES[0], "DIRS": []}]
    exec(dirs_setting, {"TEMPLATES": templates, "BASE_DIR": tmp_path})
    settings.TEMPLATES = templates

    html = client.get("/products/").content.decode()
    assert '<link rel="stylesheet" href="/static/mysite/shop.css">' in html
    assert "Skip to content" in html, "the packaged layout is still there"


def test_every_system_check_id_is_documented_and_every_documented_id_exists():
    """docs/checks.md's table is the one list of check ids: an id the code
    emits must have a row (what triggers it, how to fix it), and a row must
    not describe an id the code no longer has."""
    package = ROOT / "src" / "shop_manager"
    # The package's own checks.py and each feature's.
    source = "".join(path.read_text() for path in package.glob("**/checks.py"))
    emitted = set(re.findall(r'id="(shop_manager\.[EW]\d{3})"', source))
    rows = re.findall(
        r"^\| `(shop_manager\.[EW]\d{3})` \|",
        (ROOT / "docs" / "checks.md").read_text(),
        re.M,
    )
    assert len(rows) == len(set(rows)), "an id has two rows"
    assert emitted, "found the ids in the checks.py modules"
    assert set(rows) == emitted
