"""CSV import and export of products, matched by SKU.

One module per job: :mod:`.columns` (which columns, in which order),
:mod:`.cells` (neutralising formula-like cells reversibly, quoting),
:mod:`.reading` (size limits, encoding, delimiter and header sniffing),
:mod:`.export` (the streamed file), :mod:`.rules` (the product form's rules
without a form per row), :mod:`.plan` (the preview: what each row would do),
:mod:`.writing` (bulk inserts and updates) and :mod:`.apply` (all or nothing,
products locked only while written). :mod:`.views` serves the pages;
``manage.py import_products`` the command line.
"""

from __future__ import annotations

from shop_manager.transfer.apply import ImportConflict, ImportRefused, import_table
from shop_manager.transfer.columns import COLUMNS, columns_for
from shop_manager.transfer.export import export_chunks
from shop_manager.transfer.plan import ImportPlan, Rights, RowPlan, plan_import
from shop_manager.transfer.reading import FileRefused, Table, read_file

__all__ = [
    "COLUMNS",
    "FileRefused",
    "ImportConflict",
    "ImportPlan",
    "ImportRefused",
    "Rights",
    "RowPlan",
    "Table",
    "columns_for",
    "export_chunks",
    "import_table",
    "plan_import",
    "read_file",
]
