from __future__ import annotations

import pytest

from shop_manager.transfer.cells import neutralise, restore


@pytest.mark.parametrize("text", ["=1+1", "+49 30", "-5", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_get_a_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Tea", "", "3.50", "a=b", "'", "'=x", "''", "'Tea"])
def test_neutralising_is_undone_exactly(text: str) -> None:
    assert restore(neutralise(text)) == text


def test_a_hand_typed_quote_before_ordinary_text_is_kept() -> None:
    assert restore("'Tea") == "'Tea"
