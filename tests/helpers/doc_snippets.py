"""Code blocks read out of README.md and docs/*.md, shared by the tests that
run the docs as a reader would copy them (tests/test_docs_snippets.py, the
protocol and checks pages' tests, the real-install e2e test)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = ROOT / "docs"
INSTALLATION = DOCS_DIR / "installation.md"
DEPLOYMENT = DOCS_DIR / "deployment.md"
HOST_FILE = re.compile(r"# mysite/(settings|urls|asgi)\.py\b")


def fenced_blocks(doc: Path, language: str) -> list[str]:
    """The body of every ```<language> block, dedented (lists indent them)."""
    fence = re.compile(
        rf"^( *)```{re.escape(language)}\n(.*?)^\1```", re.MULTILINE | re.DOTALL
    )
    return [
        textwrap.dedent(match.group(2)) for match in fence.finditer(doc.read_text())
    ]


def python_blocks(doc: Path) -> list[str]:
    return fenced_blocks(doc, "python")


def json_blocks(doc: Path) -> list[Any]:
    return [json.loads(block) for block in fenced_blocks(doc, "json")]


def host_file(block: str) -> str | None:
    """``"settings"``, ``"urls"`` or ``"asgi"`` for a labelled host file."""
    match = HOST_FILE.match(block)
    return match.group(1) if match else None


def host_files(doc: Path) -> dict[str, str]:
    """The doc's ``mysite/settings.py`` additions, ``urls.py`` and ``asgi.py``."""
    files: dict[str, list[str]] = {}
    for block in python_blocks(doc):
        kind = host_file(block)
        if kind:
            files.setdefault(kind, []).append(block)
    assert set(files) == {"settings", "urls", "asgi"}, (
        f"{doc.name} shows every host file a site needs"
    )
    return {kind: "\n".join(blocks) for kind, blocks in files.items()}


def apply_host_files(package: Path, files: dict[str, str]) -> None:
    """Write them into a ``startproject`` package as a reader would: settings
    appended below what startproject wrote, urls.py and asgi.py replaced."""
    with (package / "settings.py").open("a") as settings_file:
        settings_file.write("\n\n" + files["settings"])
    (package / "urls.py").write_text(files["urls"])
    (package / "asgi.py").write_text(files["asgi"])


def labelled_block(doc: Path, label: str) -> str:
    """The one ```python block of ``doc`` whose first line starts with ``label``."""
    [block] = [block for block in python_blocks(doc) if block.startswith(label)]
    return block
