"""Cells a spreadsheet would run as a formula (CSV injection): neutralised on
export in a way the importer undoes exactly, and quoted so that no
spreadsheet splits them.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return as a formula. It may also split a cell at a separator the
file did not mean: one set to ``;`` (the usual list separator where the
decimal separator is ``,``) reads an unquoted ``x;=HYPERLINK(…)`` from a
comma-separated file as two cells, the second a formula. So a *segment* here
is the start of the cell and whatever follows a ``,`` or ``;`` inside it,
leading spaces skipped; a segment starting with a trigger gets a ``'`` before it
(OWASP's advice; spreadsheets show the rest as text), and a cell holding
either separator is quoted on export whatever the file's delimiter.

So that the quote can be taken off again without guessing, a segment that
already starts with ``'`` gets one too. :func:`restore` removes one ``'`` at
a segment's start when the next character is a trigger or ``'``;
``restore(neutralise(text)) == text`` for every text (a ``'`` is neither a
separator nor a space, so both see the same segments), and exporting and
importing a file changes nothing.
"""

from __future__ import annotations

import re

__all__ = [
    "FORMULA_STARTS",
    "QUOTE",
    "SEPARATORS",
    "csv_line",
    "neutralise",
    "restore",
]

FORMULA_STARTS = frozenset("=+-@\t\r")
QUOTE = "'"
# Where a spreadsheet may start a new cell: either delimiter the importer
# accepts (see reading.DELIMITERS).
SEPARATORS = ",;"
_ESCAPED_SET = FORMULA_STARTS | {QUOTE}
_ESCAPED = "".join(sorted(_ESCAPED_SET))
# A segment's start (group 1: the cell's start or a separator, then any
# spaces) before a character to escape; for restore, with the added quote.
_START = rf"((?:^|[{SEPARATORS}]) *)"
_TO_NEUTRALISE = re.compile(rf"{_START}(?=[{re.escape(_ESCAPED)}])")
_TO_RESTORE = re.compile(rf"{_START}{QUOTE}(?=[{re.escape(_ESCAPED)}])")
_ANY_ESCAPED = re.compile(rf"[{re.escape(_ESCAPED)}]")
_NEEDS_QUOTES = re.compile(r'[,;"\r\n]')


def neutralise(text: str) -> str:
    if _ANY_ESCAPED.search(text) is None:
        return text  # Most cells: nothing to escape anywhere.
    if "," not in text and ";" not in text:  # One segment: only its start.
        start = len(text) - len(text.lstrip(" "))
        if text[start : start + 1] in _ESCAPED_SET:
            return text[:start] + QUOTE + text[start:]
        return text
    return _TO_NEUTRALISE.sub(r"\1" + QUOTE, text)


def restore(text: str) -> str:
    if QUOTE not in text:  # Nearly every cell: no regex needed.
        return text
    return _TO_RESTORE.sub(r"\1", text)


def csv_line(cells: list[str]) -> str:
    """One CSV record (``,``-delimited, ``\\r\\n``-terminated, as the csv
    module writes) where a cell holding ``,``, ``;``, a quote or a line break
    is quoted: Python's writer leaves ``;`` unquoted, which a spreadsheet
    set to ``;`` would split."""
    return ",".join(_quoted(cell) for cell in cells) + "\r\n"


def _quoted(cell: str) -> str:
    if _NEEDS_QUOTES.search(cell) is None:
        return cell
    return '"' + cell.replace('"', '""') + '"'
