"""Photograph every page of the example project for docs/images/.

``make screenshots`` runs this: it migrates a throwaway SQLite database, loads
the example project's demo site (users with names, products, two weeks of
changes by the demo staff), serves it with ``manage.py runserver`` (daphne,
DEBUG on) and drives Debian's ``/usr/bin/chromium`` with Playwright, saving
each page at a desktop width (1280 px) and a phone width (390 px):
``<name>.png`` and ``<name>-phone.png``.

Playwright never downloads a browser here: it launches the system Chromium
(``--chromium`` to use another binary). ``--out`` writes somewhere else (the
e2e test of this script writes to a temporary folder).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PROJECT = ROOT / "example_project"
CHROMIUM = "/usr/bin/chromium"
# Flags for Debian's chromium in a container or CI: no sandbox (root), no GPU,
# no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}
# A phone is photographed at twice its CSS pixels, as the phone shows it.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
WIDTHS = {"": DESKTOP, "-phone": PHONE}
# The example project reads these; the caller's own must not leak in.
EXAMPLE_ENV_VARS = {"POSTGRES_DB", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "HTTPS"}
DEMO_LOGIN = ("staff", "staff-demo")


@dataclass(frozen=True)
class Shot:
    """One page to photograph: ``path`` on the site, logged in as the demo's
    staff member (or not), once the CSS selector ``ready`` shows it is
    complete."""

    name: str
    path: str
    ready: str
    logged_in: bool = True


SHOTS = [
    Shot("login", "/accounts/login/", "form.sm-form", logged_in=False),
    Shot("product-list", "/products/", "table.sm-table"),
    Shot("product-list-no-results", "/products/?q=truffle", ".sm-empty-state"),
    Shot("product-page", "/products/assam-breakfast-tea-250-g/", "#history"),
    Shot("product-edit", "/products/assam-breakfast-tea-250-g/edit/", "form.sm-form"),
    Shot("product-import", "/products/import/", "form.sm-form"),
    Shot(
        "live-dashboard", "/dashboard/products/", '[data-connection][data-state="live"]'
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def example_env(database: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in EXAMPLE_ENV_VARS}
    return {
        **clean,
        "DEBUG": "true",
        "SQLITE_PATH": str(database),
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> None:
    """``manage.py *args`` in the example project; its output only if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE_PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(
            f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
        )


def prepare_site(env: dict[str, str], seed: int) -> None:
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo_site", "--products", "40", "--seed", str(seed))


@contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[str]:
    """The example project under runserver (daphne: pages, static files and
    the websocket), until the block ends."""
    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                f"127.0.0.1:{port}",
            ],
            cwd=EXAMPLE_PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/accounts/login/", server, log)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The example server exited:\n{log.read_text()}")
        try:
            with urlopen(url, timeout=2) as page:
                if page.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"The example server did not answer {url} within 60 s.")


def log_in(page: Any, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(DEMO_LOGIN[0])
    page.get_by_label("Password").fill(DEMO_LOGIN[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/products/")


def photograph(browser: Any, base: str, out: Path, shots: list[Shot]) -> list[Path]:
    saved: list[Path] = []
    for suffix, device in WIDTHS.items():
        context = browser.new_context(**device, color_scheme="light")
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            signed_in = False
            for shot in shots:
                if shot.logged_in and not signed_in:
                    log_in(page, base)
                    signed_in = True
                page.goto(base + shot.path)
                page.locator(shot.ready).first.wait_for()
                # Fonts and the favicon settle; nothing animates mid-shot.
                page.evaluate("document.fonts.ready")
                target = out / f"{shot.name}{suffix}.png"
                page.screenshot(path=str(target), animations="disabled")
                saved.append(target)
        finally:
            context.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--seed", type=int, default=7, help="Demo data seed.")
    parser.add_argument(
        "--only", action="append", default=[], help="Only this shot (repeatable)."
    )
    args = parser.parse_args(argv)
    if not os.access(args.chromium, os.X_OK):
        raise SystemExit(
            f"{args.chromium} is not there: apt-get install chromium "
            "(this script never downloads a browser)."
        )
    from playwright.sync_api import sync_playwright

    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sm-screenshots-") as tmp:
        env = example_env(Path(tmp) / "db.sqlite3")
        prepare_site(env, args.seed)
        with served(env, Path(tmp) / "server.log") as base, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium, args=CHROMIUM_ARGS
            )
            try:
                saved = photograph(browser, base, args.out, shots)
            finally:
                browser.close()
    for path in saved:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
