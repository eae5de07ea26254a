"""Inserting many rows of one model with PostgreSQL's ``COPY``.

``bulk_create()`` on PostgreSQL sends one array per column
(``INSERT … SELECT * FROM UNNEST(…)``), and Django's psycopg backend binds
parameters on the client: psycopg quotes every element of every array into
the statement text in Python. For 100,000 change-log events that quoting,
and the server parsing the literal back, were the largest part of an import
(benchmarks/README.md, the transfer section). ``COPY`` streams the rows in
its own format with psycopg's C dumpers and no statement to parse.

``COPY`` returns nothing, so the primary keys are taken from the table's
sequence first, in one query, and sent with the rows: the instances end up
as ``bulk_create()`` leaves them (``pk`` set, ``_state.adding`` false), and
ids still rise in the order of ``objs``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models
from django.db.models.fields import Field

__all__ = ["can_copy", "copy_insert"]

# Below this many rows, the query that reserves ids costs more than the
# ``INSERT`` it replaces: ``bulk_create()`` is the faster path.
COPY_MIN_ROWS = 100

# Fields whose Python value psycopg dumps exactly as the backend's
# ``get_db_prep_save()`` would send it (Django's PostgreSQL operations pass
# these through unchanged); any other field is prepared by Django.
_AS_IS = (
    models.CharField,
    models.TextField,
    models.IntegerField,  # And its subclasses: Positive…, Big…, BigAutoField.
    models.DecimalField,
    models.DateField,  # And DateTimeField.
    models.BooleanField,
)


def can_copy(using: str, rows: int) -> bool:
    """Whether :func:`copy_insert` is the faster way to insert ``rows`` rows
    on database ``using``."""
    return connections[using].vendor == "postgresql" and rows >= COPY_MIN_ROWS


def copy_insert(objs: Sequence[models.Model], *, using: str) -> None:
    """Insert ``objs`` (all of one model, none saved yet) with ``COPY``,
    each given the next id of the table's sequence, in order.

    Values are taken as ``bulk_create()`` takes them (``pre_save()`` for
    fields that compute theirs, such as timestamps). A value the column
    refuses raises Django's ``IntegrityError`` or ``DataError``, as an
    ``INSERT`` would, and the transaction is left to roll back.
    """
    if not objs:
        return
    model = type(objs[0])
    connection = connections[using]
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fields: list[Field[Any, Any]] = [
        field for field in meta.concrete_fields if field is not pk
    ]
    columns = ", ".join(quote(field.column or "") for field in [pk, *fields])
    values = [_value_of(field, connection) for field in fields]
    with connection.cursor() as cursor:
        # Reserved in one statement, then sorted: ids rise in objs' order.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [table, pk.column, len(objs)],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        # CursorWrapper translates driver errors for execute() only.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for obj, key in zip(objs, ids, strict=True):
                copy.write_row([key, *(value(obj) for value in values)])
    for obj, key in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, key)
        obj._state.adding = False
        obj._state.db = using


def _value_of(field: Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """How to read ``field``'s value from an instance, ready for ``COPY``."""
    computes = type(field).pre_save is not Field.pre_save
    if isinstance(field, _AS_IS) or (
        isinstance(field, models.ForeignKey) and isinstance(field.target_field, _AS_IS)
    ):
        if computes:
            return lambda obj: field.pre_save(obj, True)
        attname = field.attname
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
