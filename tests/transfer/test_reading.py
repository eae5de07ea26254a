from __future__ import annotations

import io

import pytest
from django.test import override_settings

from shop_manager.transfer.reading import FileRefused, Table, read_file
from tests.helpers.transfer import csv_bytes


def read(data: bytes) -> Table:
    return read_file(io.BytesIO(data))


def test_bom_semicolons_and_header_case_are_accepted() -> None:
    data = csv_bytes(
        [["SKU", " Name ", "Price"], ["T-1", "Tea", "3,50"]], delimiter=";", bom=True
    )
    table = read(data)
    assert table.columns == ("sku", "name", "price")
    assert table.rows[0].values == {"sku": "T-1", "name": "Tea", "price": "3,50"}
    assert table.rows[0].line == 2


def test_quoted_newlines_keep_the_starting_line_number() -> None:
    table = read(b'sku,description\nA,"one\ntwo"\n\nB,x\n')
    assert [(row.line, row.values["sku"]) for row in table.rows] == [(2, "A"), (5, "B")]


@override_settings(SHOP_MANAGER={"IMPORT_MAX_BYTES": 10})
def test_files_over_the_limit_are_refused_with_the_sizes() -> None:
    with pytest.raises(FileRefused, match="over 10 bytes"):
        read(b"sku,name\nA,Tea\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,name\nA,\xe9t\xe9\n", "not UTF-8"),
        (b"name,price\nTea,1\n", "no “sku” column"),
        (b"sku,prise\nA,1\n", "Unknown column “prise”"),
        (b"sku,SKU\nA,B\n", "more than once"),
        (b"", "empty"),
    ],
)
def test_unreadable_files_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(FileRefused, match=message):
        read(data)


def test_a_row_with_too_many_cells_is_kept_with_its_problem() -> None:
    table = read(b"sku,name\nA,Tea,extra\n")
    assert "3 cells" in table.rows[0].problem
