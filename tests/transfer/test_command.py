from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from shop_manager.models import Product, ProductEvent
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
