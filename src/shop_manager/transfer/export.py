"""The exported file, made as a stream: rows are read from the database in
chunks and written in chunks, so memory does not grow with the catalogue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.db.models import QuerySet

from shop_manager.models import Product
from shop_manager.transfer.cells import csv_line, neutralise
from shop_manager.transfer.columns import cell_text

__all__ = ["BYTE_ORDER_MARK", "CHUNK_ROWS", "aiter_chunks", "export_chunks"]

# Rows per database fetch and per piece of the response.
CHUNK_ROWS = 2000
# Lets spreadsheet programs recognise UTF-8; the importer accepts it.
BYTE_ORDER_MARK = "\ufeff"


def export_chunks(
    queryset: QuerySet[Product], columns: tuple[str, ...]
) -> Iterator[str]:
    """The CSV text of ``queryset``'s products, in order, in pieces of
    ``CHUNK_ROWS`` rows; every cell neutralised and quoted (see
    :mod:`.cells`).

    One query whatever the size (``values_list`` over a server-side cursor
    where the database has them): no model instances, nothing per row.
    """
    piece = [BYTE_ORDER_MARK + csv_line(list(columns))]
    rows = queryset.values_list(*columns).iterator(chunk_size=CHUNK_ROWS)
    for values in rows:
        piece.append(csv_line([neutralise(cell_text(value)) for value in values]))
        if len(piece) >= CHUNK_ROWS:
            yield "".join(piece)
            piece = []
    yield "".join(piece)


async def aiter_chunks(chunks: Iterator[str]) -> AsyncIterator[str]:
    """``chunks`` for an ASGI server, one database fetch per step in the
    thread Django's sync code uses. Handed a plain iterator, Django's ASGI
    handler would read it all into a list first."""
    step = sync_to_async(_next, thread_sensitive=True)
    while True:
        chunk = await step(chunks)
        if chunk is None:
            return
        yield chunk


def _next(chunks: Iterator[str]) -> str | None:
    return next(chunks, None)
