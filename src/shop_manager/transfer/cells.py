"""Neutralising cells a spreadsheet would run as a formula (CSV injection),
in a way the importer undoes exactly.

A cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
leading ``'`` (OWASP's advice; spreadsheets show the rest as text). So that
the quote can be taken off again without guessing, a cell that already starts
with ``'`` gets one too. :func:`restore` removes one leading ``'`` when the
next character is one of those; ``restore(neutralise(text)) == text`` for
every text, so exporting and importing a file changes nothing.
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "QUOTE", "neutralise", "restore"]

FORMULA_STARTS = frozenset("=+-@\t\r")
QUOTE = "'"
_ESCAPED = FORMULA_STARTS | {QUOTE}


def neutralise(text: str) -> str:
    if text[:1] in _ESCAPED:
        return QUOTE + text
    return text


def restore(text: str) -> str:
    if text[:1] == QUOTE and text[1:2] in _ESCAPED:
        return text[1:]
    return text
