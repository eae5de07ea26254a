"""The pictures in docs/images/ come from ``make screenshots``
(scripts/screenshots.py): here that script runs end to end into a temporary
folder, and the overview pages are checked on a desktop screen.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from shop_manager.live.feed import latest_event_id
from shop_manager.models import Product
from tests.helpers.products import product_form
from tests.helpers.servers import (
    CHROMIUM,
    ROOT,
    DashboardPage,
    HttpSession,
    off_main_thread,
    require,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SCRIPT = ROOT / "scripts" / "screenshots.py"
DESKTOP = {"width": 1280, "height": 800}


def png_size(data: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def shot_names() -> list[str]:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Its dataclasses look themselves up there.
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return [shot.name for shot in module.SHOTS]


def test_the_script_photographs_every_page_at_both_widths(tmp_path):
    """What `make screenshots` runs: the example project with its demo data,
    every page at 1280 px and at 390 px (twice the pixels, as a phone shows
    it), and every picture the docs show among them."""
    require(CHROMIUM, os.access(CHROMIUM, os.X_OK), "apt-get install -y chromium")
    require(
        "Playwright's Python package",
        importlib.util.find_spec("playwright") is not None,
        "Install the e2e dependency group.",
    )
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in shot_names():
        assert png_size((tmp_path / f"{name}.png").read_bytes()) == (1280, 800)
        assert png_size((tmp_path / f"{name}-phone.png").read_bytes()) == (780, 1688)
    shown = {
        path.name
        for doc in (ROOT / "docs").glob("*.md")
        for path in (ROOT / "docs" / "images").glob("*.png")
        if f"images/{path.name}" in doc.read_text()
    }
    made = {path.name for path in tmp_path.glob("*.png")}
    assert shown <= made, "a picture in the docs that the script does not make"


def lines_of_text(cell: Any) -> int:
    return int(
        cell.evaluate(
            """cell => {
              const range = document.createRange();
              range.selectNodeContents(cell);
              const tops = [...range.getClientRects()].map(r => Math.round(r.top));
              return new Set(tops).size;
            }"""
        )
    )


def load_demo_products() -> Product:
    def load() -> Product:
        call_command("load_demo_data", products=14, seed=7, verbosity=0)
        return Product.objects.create(
            name="Lapsang souchong",
            sku="LAPSANG-100",
            description="Smoked over pine fires.",
            price=Decimal("6.90"),
            cost_price=Decimal("2.40"),
            quantity=4,
            supplier_number="SUP-1042",
        )

    return off_main_thread(load)


def test_the_overview_pages_on_a_desktop(browser, start_servers):
    from playwright.sync_api import expect

    (server,) = start_servers("a")
    tea = load_demo_products()
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        staff = DashboardPage(context.new_page())
        page = staff.page

        page.goto(f"{server.url}/products/")
        expect(page.get_by_role("link", name="Lapsang souchong")).to_be_visible()
        expect(page.locator("tbody tr")).to_have_count(15)
        # A price is never broken across lines ("11.5" over "8").
        for cell in page.locator("td[data-label='Price']").all():
            assert lines_of_text(cell) == 1, cell.text_content()

        page.goto(server.url + tea.get_absolute_url())
        expect(page.get_by_role("heading", name="Lapsang souchong")).to_be_visible()

        staff.log_in(server, "staff", "staff-pass")
        colleague = HttpSession(server.url)
        colleague.log_in("staff", "staff-pass")
        for quantity in (12, 9):
            current = off_main_thread(lambda: Product.objects.get(pk=tea.pk))
            status, _, _ = colleague.request(
                tea.get_absolute_url(),
                product_form(current, quantity=quantity, price="7.20"),
            )
            assert status == 302
        latest = staff.row(off_main_thread(latest_event_id))
        expect(latest).to_contain_text("Quantity: 12 → 9")
        # The live row is written like the server's: old struck, new marked.
        expect(latest.locator("del.sm-diff-old")).to_have_text("12")
        expect(latest.locator("ins.sm-diff-new")).to_have_text("9")
        expect(latest.locator(".sm-avatar")).to_have_text("S")
        expect(staff.status).to_have_text("Live")
        assert staff.errors == []
        earlier = staff.row(off_main_thread(latest_event_id) - 1)
        expect(earlier).to_contain_text("Price: $6.90 → $7.20")

        page.goto(server.url + tea.get_absolute_url())
        expect(page.get_by_text("Quantity: 12 → 9")).to_be_visible()
    finally:
        context.close()
