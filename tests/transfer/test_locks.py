"""Row locks during an import, on PostgreSQL with a second connection, as a
request on another server process has.

Checking a big file takes seconds; the apply used to lock every matched
product (``SELECT … FOR UPDATE``) before checking, so a save of any of them
waited for the whole import. Now nothing is locked while rows are checked,
and the changed products only for the write.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction

from shop_manager.models import Product
from shop_manager.transfer.apply import import_table
from shop_manager.transfer.plan import CHECKED, WRITTEN, Rights
from shop_manager.transfer.reading import parse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def other_connection_can_write(pk: int) -> bool:
    """Whether another connection can update product ``pk`` within a second
    (False: it waited on a lock that long)."""
    answer: list[bool] = []

    def write() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
                cursor.execute(
                    "UPDATE shop_manager_product SET description = 'theirs' "
                    "WHERE id = %s",
                    [pk],
                )
            answer.append(True)
        except OperationalError:  # LockNotAvailable
            answer.append(False)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    return answer[0]


def test_products_are_locked_only_while_the_import_writes(make_product: Any) -> None:
    product = make_product(name="Tea", sku="T", quantity=1)
    table = parse("sku,quantity\nT,5\n")
    heard: dict[str, bool] = {}

    def progress(stage: str, done: int, total: int) -> None:
        heard.setdefault(stage, other_connection_can_write(product.pk))

    import_table(table, Rights(), actor=None, progress=progress)
    assert heard == {CHECKED: True, WRITTEN: False}
    product.refresh_from_db()
    assert (product.quantity, product.description) == (5, "theirs")
    assert Product.objects.get(pk=product.pk).version == 2
