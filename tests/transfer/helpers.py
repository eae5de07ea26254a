"""Shared helpers for the transfer tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, ClassVar

from django.core.files.uploadedfile import SimpleUploadedFile

from shop_manager.models import ProductEvent
from shop_manager.notifiers.base import BaseNotifier

RECORDING = {"BACKEND": "tests.transfer.helpers.RecordingNotifier"}


def csv_bytes(
    rows: Sequence[Sequence[Any]], *, delimiter: str = ",", bom: bool = False
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def upload(data: bytes, name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


class RecordingNotifier(BaseNotifier):
    """Keeps each call it gets, as ("send_many" | "send_bulk", [event ids])."""

    calls: ClassVar[list[tuple[str, list[int]]]] = []

    def send(self, event: ProductEvent) -> None:
        self.send_many([event])

    def send_many(self, events: Sequence[ProductEvent]) -> None:
        self.calls.append(("send_many", [event.pk for event in events]))

    def send_bulk(self, events: Sequence[ProductEvent]) -> None:
        self.calls.append(("send_bulk", [event.pk for event in events]))
