"""Reading an uploaded file into rows: the size limits (bytes and rows),
UTF-8 with or without a byte-order mark, ``,`` or ``;`` as the delimiter,
header names in any case.

Whole-file problems raise :class:`FileRefused` with a sentence for people;
a row that cannot be read is kept with its ``problem``, so the preview can
name its line. A :class:`Table` keeps the text, not the rows: each pass over
it parses the text again (the csv module does 100,000 rows in a tenth of a
second), so what an import holds per row is only what its plan keeps.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shop_manager.conf import get_config
from shop_manager.transfer.cells import restore
from shop_manager.transfer.columns import COLUMNS, KEY_COLUMN

__all__ = [
    "FileRefused",
    "Row",
    "Table",
    "check_size",
    "decode",
    "parse",
    "read_file",
]

# Excel writes ";" where the decimal separator is ",": both are accepted.
DELIMITERS = (",", ";")


class FileRefused(ValueError):
    """The whole file cannot be imported; ``str()`` says why, for people."""


class Row(NamedTuple):
    line: int  # Where the row starts in the file, counting the header as 1.
    values: dict[str, str]  # Column -> cell, neutralisation undone.
    problem: str = ""


@dataclass(frozen=True)
class Table:
    """A file that parsed: its columns and its number of rows. Iterating it
    reads the rows from ``text`` again, in file order."""

    columns: tuple[str, ...]
    text: str
    delimiter: str
    row_count: int

    def __len__(self) -> int:
        return self.row_count

    def __iter__(self) -> Iterator[Row]:
        for line, cells in _records(self.text, self.delimiter):
            yield _row(line, self.columns, cells)

    def cells(self, column: str) -> Iterator[tuple[int, str]]:
        """``(line, cell)`` of one column, for every row that has it."""
        index = self.columns.index(column)
        for line, cells in _records(self.text, self.delimiter):
            if index < len(cells):
                yield line, restore(cells[index])


def max_bytes() -> int:
    return int(get_config()["IMPORT_MAX_BYTES"])


def max_rows() -> int:
    return int(get_config()["IMPORT_MAX_ROWS"])


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise FileRefused(
            _(
                "The file is %(size)s bytes; files over %(limit)s bytes are "
                "refused. Split it and import the parts."
            )
            % {"size": f"{size:,}", "limit": f"{limit:,}"}
        )


def decode(data: bytes) -> str:
    """UTF-8 text, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            _(
                "The file is not UTF-8 text (byte %(position)s). Save it as "
                "“CSV UTF-8” and try again."
            )
            % {"position": exc.start + 1}
        ) from exc


def read_file(stream: IO[bytes]) -> Table:
    """Read at most the size limit from ``stream`` and parse it."""
    limit = max_bytes()
    data = stream.read(limit + 1)
    check_size(len(data))
    return parse(decode(data))


def parse(text: str) -> Table:
    """Check the header and every line, and count the rows (at most
    ``IMPORT_MAX_ROWS``)."""
    if not text.strip():
        raise FileRefused(_("The file is empty."))
    delimiter = _delimiter(text)
    limit = max_rows()
    records = _records(text, delimiter, header=True)
    _line, header = next(records)
    columns = _columns(header)
    count = 0
    for _line, _cells in records:
        count += 1
        if count > limit:
            raise FileRefused(
                ngettext(
                    "The file has more than %(limit)s row; split it and import "
                    "the parts.",
                    "The file has more than %(limit)s rows; split it and import "
                    "the parts.",
                    limit,
                )
                % {"limit": f"{limit:,}"}
            )
    return Table(columns, text, delimiter, count)


def _records(
    text: str, delimiter: str, *, header: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` for each non-blank record, the header only if
    ``header``; a record the csv module cannot read refuses the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    first = True
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if first:
                raise FileRefused(
                    _("The header line cannot be read: %s") % exc
                ) from exc
            raise FileRefused(
                _("Line %(line)s cannot be read: %(error)s")
                % {"line": line, "error": exc}
            ) from exc
        if first:
            first = False
            if header:
                yield line, cells
        elif cells:  # Blank lines are layout, not rows.
            yield line, cells
        line = reader.line_num + 1


def _delimiter(text: str) -> str:
    # Header names never hold either character, so counting them is enough.
    header = text.split("\n", 1)[0]
    return max(DELIMITERS, key=header.count)


def _columns(header: Iterable[str]) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in header)
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise FileRefused(
            ngettext(
                "Unknown column %(names)s. The columns are: %(known)s.",
                "Unknown columns %(names)s. The columns are: %(known)s.",
                len(unknown),
            )
            % {
                "names": ", ".join(f"“{n}”" for n in unknown),
                "known": ", ".join(COLUMNS),
            }
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FileRefused(
            _("Column %(names)s appears more than once.")
            % {"names": ", ".join(f"“{n}”" for n in repeated)}
        )
    if KEY_COLUMN not in names:
        raise FileRefused(
            _("The file has no “%(column)s” column: rows are matched by SKU.")
            % {"column": KEY_COLUMN}
        )
    return names


def _row(line: int, columns: tuple[str, ...], cells: list[str]) -> Row:
    values = {
        column: restore(cell) for column, cell in zip(columns, cells, strict=False)
    }
    if len(cells) != len(columns):
        return Row(
            line,
            values,
            _("The row has %(cells)s cells; the header has %(columns)s.")
            % {"cells": len(cells), "columns": len(columns)},
        )
    return Row(line, values)
