"""The preview's rows carry their words and values ready; they must read as
the template filters would write them (the page's content is unchanged)."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.template.defaultfilters import capfirst
from django.utils import translation
from django.utils.html import escape

from shop_manager.templatetags.shop_manager import field_name, field_value
from shop_manager.transfer.plan import (
    CHANGED,
    CREATED,
    REFUSED,
    SKIPPED,
    UNCHANGED,
    RowPlan,
)
from shop_manager.transfer.preview import shown_rows

CHANGES: dict[str, tuple[Any, Any]] = {
    "price": ("1234.50", "1234567.80"),
    "cost_price": (None, "0.10"),
    "quantity": (3, 0),
    "description": ("", "new & <b>"),
    "expiry_date": ("2030-01-02", None),
}


@pytest.mark.parametrize("language", ["en", "de", "fr"])
@pytest.mark.parametrize("currency", [None, {"CODE": "EUR"}])
def test_changes_read_as_the_filters_write_them(
    settings: Any, language: str, currency: Any
) -> None:
    if currency:
        settings.SHOP_MANAGER = {"CURRENCY": currency}
    with translation.override(language):
        [row] = shown_rows([RowPlan(4, "T1", CHANGED, dict(CHANGES))])
        assert row["diff"] == [
            (
                escape(capfirst(field_name(field))),
                escape(field_value(old, field)),
                escape(field_value(new, field)),
            )
            for field, (old, new) in CHANGES.items()
        ]
    assert row["changes"] == CHANGES
    assert row["diff"][3][2] == "new &amp; &lt;b&gt;"


def test_text_is_escaped_once() -> None:
    [row] = shown_rows([RowPlan(2, "<i>&", REFUSED, reasons=["Name: <b>"])])
    assert (row["sku"], row["reasons"]) == ("&lt;i&gt;&amp;", ["Name: &lt;b&gt;"])
    assert Template("{{ row.sku }}").render(Context({"row": row})) == row["sku"]


def test_only_a_changed_row_lists_its_changes() -> None:
    created = RowPlan(2, "N", CREATED, {"price": (None, "3.50")})
    assert shown_rows([created])[0]["diff"] == []


def test_each_outcome_has_its_badge() -> None:
    rows = shown_rows(
        RowPlan(n, "S", outcome, reasons=["why"])
        for n, outcome in enumerate((CREATED, CHANGED, REFUSED, SKIPPED, UNCHANGED))
    )
    assert [(row["badge"], row["label"]) for row in rows] == [
        ("sm-badge-ok", "Create"),
        ("sm-badge-warn", "Change"),
        ("sm-badge-danger", "Refused"),
        ("sm-badge-neutral", "Skipped"),
        ("sm-badge-neutral", "Unchanged"),
    ]
    assert rows[2]["reasons"] == ["why"]
    with translation.override("de"):
        assert shown_rows([RowPlan(1, "S", REFUSED)])[0]["label"] != "Refused"
