"""Hostile CSV files on the import page and ``import_products``, on SQLite
and PostgreSQL (issue 13, holes 6 to 8).

- A file of one SKU repeated 4,000 times took 9 s and returned a 92 MB page:
  each duplicate listed every other line. Now each names only the first
  (or, the first, the next), and the page lists a bounded number of refused
  rows with "and N more".
- The byte limit allowed 2.6 million rows of a few bytes each, at about
  9.6 KiB of memory per previewed row. Now rows are bounded too
  (``IMPORT_MAX_ROWS``) and a preview holds little per row.
- A NUL byte in a SKU reached PostgreSQL in the lookup (500 on the page, a
  traceback from ``--dry-run``). Now such a row is refused, with the form's
  reason, before any lookup.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from shop_manager.transfer.plan import SHOWN_REFUSALS, Rights, plan_import
from shop_manager.transfer.reading import parse
from tests.helpers.products import snapshot
from tests.helpers.transfer import upload

pytestmark = pytest.mark.django_db

IMPORT = reverse("shop_manager:product-import")
# Before Python 3.11 the csv module cannot read a NUL at all.
CSV_READS_NUL = sys.version_info >= (3, 11)


def test_one_sku_repeated_gives_a_small_page_naming_the_first_line(
    staff_client: Client,
) -> None:
    data = b"sku\n" + b"A\n" * 4000
    before = snapshot()
    response = staff_client.post(IMPORT, {"file": upload(data)})
    assert response.status_code == 400
    page = response.content.decode()
    # 4,000 rows each naming 3,999 others made 92 MB; now it is bounded.
    assert len(response.content) < 200_000
    assert "SKU “A” appears again on 3,999 more lines, from line 3." in page
    assert page.count("SKU “A” is already on line 2.") == SHOWN_REFUSALS - 1
    assert f"And {4000 - SHOWN_REFUSALS} more refused rows, not listed." in page
    assert snapshot() == before


def test_a_file_over_the_row_limit_is_refused(
    staff_client: Client, settings: Any
) -> None:
    settings.SHOP_MANAGER = {"IMPORT_MAX_ROWS": 10}
    ok = b"sku,name,price\n" + b"".join(b"S-%d,Tea,1\n" % n for n in range(10))
    assert staff_client.post(IMPORT, {"file": upload(ok)}).status_code == 200
    response = staff_client.post(IMPORT, {"file": upload(ok + b"S-10,Tea,1\n")})
    assert response.status_code == 400
    assert "The file has more than 10 rows" in response.content.decode()


def preview_peak(rows: int) -> int:
    """Bytes Python allocated at most while previewing a file of ``rows``
    new products (the file's text itself made beforehand)."""
    text = "sku,name,price,quantity,expiry_date\n" + "".join(
        f"SKU-{n:07d},Product {n},{n % 997}.25,{n % 50},2030-01-{n % 28 + 1:02d}\n"
        for n in range(rows)
    )
    table = parse(text)
    tracemalloc.start()
    try:
        plan = plan_import(table, Rights())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert plan.counts["created"] == rows
    return peak


# 8,000 rows through the same lines, measured by tracemalloc: coverage adds
# nothing to the report here, only CPU and allocations of its own.
@pytest.mark.no_cover
def test_a_preview_holds_little_per_row() -> None:
    """About 9.6 KiB per row was held (a bound form per row). The growth from
    2,000 to 6,000 rows is what each further row costs."""
    small, large = preview_peak(2000), preview_peak(6000)
    per_row = (large - small) / 4000
    assert per_row < 1024, f"{per_row:.0f} bytes per previewed row"


def nul_sku_file() -> bytes:
    return b"sku,name,price\nA\x00B,Tea,1\nC,Coffee,2\n"


def test_a_nul_byte_in_a_sku_is_a_refused_row_on_the_page(
    staff_client: Client,
) -> None:
    before = snapshot()
    response = staff_client.post(IMPORT, {"file": upload(nul_sku_file())})
    assert response.status_code == 400
    page = response.content.decode()
    if CSV_READS_NUL:
        assert "SKU: Null characters are not allowed." in page
        assert "A\\x00B" in page  # The SKU as shown, not the raw byte.
        assert "1 to create" in page  # The other row is still checked.
    else:
        assert "Line 2 cannot be read" in page
    assert snapshot() == before


def test_a_nul_byte_in_a_sku_is_a_refused_row_for_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes(nul_sku_file())
    before = snapshot()
    with pytest.raises(CommandError):
        call_command("import_products", str(path), "--dry-run")
    err = capsys.readouterr().err
    if CSV_READS_NUL:
        assert "Line 2 (A\\x00B): SKU: Null characters are not allowed." in err
    assert snapshot() == before


@pytest.mark.parametrize("column", ["name", "description", "supplier_number"])
def test_a_nul_byte_in_any_text_column_is_a_refused_row(
    staff_client: Client, column: str
) -> None:
    if not CSV_READS_NUL:
        pytest.skip("the csv module of Python 3.10 refuses the whole file")
    data = f"sku,name,price,{column}\nA,Tea,1,x\x00y\n".encode()
    if column == "name":
        data = b"sku,name,price\nA,x\x00y,1\n"
    response = staff_client.post(IMPORT, {"file": upload(data)})
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()


def test_an_over_long_sku_is_refused_and_shown_cut_short(
    staff_client: Client,
) -> None:
    data = b"sku,name,price\n" + b"S" * 5000 + b",Tea,1\n"
    response = staff_client.post(IMPORT, {"file": upload(data)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "SKU: Ensure this value has at most 64 characters (it has 5000)." in page
    assert "S" * 81 not in page


def test_skus_the_database_cannot_store_are_never_looked_up(
    django_assert_num_queries: Any,
) -> None:
    rows = ["S" * 65 + ",Tea,1"] + (["A\x00,Tea,1"] if CSV_READS_NUL else [])
    table = parse("sku,name,price\n" + "\n".join(rows))
    with django_assert_num_queries(0):
        plan = plan_import(table, Rights())
    assert plan.refused == len(rows)
