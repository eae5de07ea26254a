from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from shop_manager.models import Product, ProductEvent
from shop_manager.transfer import plan
from tests.helpers.transfer import csv_bytes

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, rows: list[list[Any]]) -> str:
    path = tmp_path / "products.csv"
    path.write_bytes(csv_bytes(rows))
    return str(path)


def test_dry_run_reports_and_writes_nothing(tmp_path: Path, capsys: Any) -> None:
    call_command(
        "import_products",
        write(tmp_path, [["sku", "name", "price"], ["A", "Tea", "1"]]),
        "--dry-run",
    )
    out = capsys.readouterr().out
    assert "1 created" in out
    assert "Checked 1/1 rows" in out
    assert not Product.objects.exists()


def test_import_as_a_user_with_progress(
    tmp_path: Path, capsys: Any, staff_user: Any
) -> None:
    call_command(
        "import_products",
        write(tmp_path, [["sku", "name", "price"], ["A", "Tea", "1"]]),
        "--user",
        "staff",
    )
    assert "Wrote 1/1 rows" in capsys.readouterr().out
    assert ProductEvent.objects.get().actor == staff_user


def test_refused_rows_fail_the_command_with_their_lines(
    tmp_path: Path, capsys: Any
) -> None:
    path = write(
        tmp_path, [["sku", "name", "price"], ["A", "Tea", "1"], ["B", "Tea", "x"]]
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_products", path)
    assert "Line 3 (B)" in capsys.readouterr().err
    assert not Product.objects.exists()


def test_a_missing_file_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_products", str(tmp_path / "nope.csv"))


def test_dry_run_lists_the_changes_as_the_page_does(
    tmp_path: Path, capsys: Any, make_product: Any, monkeypatch: Any
) -> None:
    make_product(name="Tea", sku="A", quantity=1, price=Decimal("3.50"))
    monkeypatch.setattr(plan, "SHOWN_ROWS", 2)
    rows = [["sku", "name", "price", "quantity"], ["A", "Tea", "4.00", "1"]]
    rows += [[f"N-{n}", "New", "1", "0"] for n in range(3)]
    call_command("import_products", write(tmp_path, rows), "--dry-run")
    out = capsys.readouterr().out
    assert "Line 2 (A): changed: price: 3.50 → 4.00" in out
    assert "Line 3 (N-0): created" in out
    assert "Line 4" not in out
    assert "... and 2 more rows not listed." in out
    assert "Checked 4/4 rows (" in out


def test_refusals_are_listed_up_to_a_bound(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(plan, "SHOWN_REFUSALS", 2)
    rows = [["sku", "name", "price"]] + [[f"B-{n}", "Tea", "x"] for n in range(5)]
    with pytest.raises(CommandError, match="would fail"):
        call_command("import_products", write(tmp_path, rows), "--dry-run")
    err = capsys.readouterr().err
    assert "Line 2 (B-0): Price: Enter a number." in err
    assert "Line 4" not in err
    assert "... and 3 more refused rows." in err
