"""CSV files and uploads, for the transfer tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile


def csv_bytes(
    rows: Sequence[Sequence[Any]], *, delimiter: str = ",", bom: bool = False
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def upload(data: bytes, name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")
