"""The import preview's rows as the page shows them: worded and formatted in
Python, each label and the reader's number format looked up once per page.

The template engine charged per row for what is the same on every row: an
``if``/``elif`` over the outcome, and per changed value a filter chain (the
field's label, ``capfirst``, money in the reader's number format, which
``number_format`` looks the language up for on every call). With the text
ready, the template only places it; it stays the place for the markup.

The text is escaped here, as the template would escape it, and marked safe:
escaping is most of what a template variable costs, and a preview places
about ten per row.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, TypedDict

from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from shop_manager.changelog.rendering import field_label, show_value
from shop_manager.money import MONEY_FIELDS, price_writer
from shop_manager.transfer.plan import (
    CHANGED,
    CREATED,
    OUTCOMES,
    REFUSED,
    SKIPPED,
    RowPlan,
)

__all__ = ["ShownRow", "shown_rows"]


class ShownRow(TypedDict):
    """A dict, not an object: the template engine tries ``row[name]`` before
    ``getattr``, so an object costs a caught exception per lookup."""

    line: int
    sku: str
    outcome: str
    reasons: list[str]
    # As the plan has them: field -> (old, new), as the change log writes values.
    changes: dict[str, tuple[Any, Any]]
    # The outcome's badge: its CSS class and its words.
    badge: str
    label: str
    # A changed row's changes as the reader reads them: (label, old, new).
    diff: list[tuple[str, str, str]]


def shown_rows(rows: Iterable[RowPlan]) -> list[ShownRow]:
    """``rows`` ready for ``shop_manager/product_import.html``, in the active
    language, each text escaped for HTML."""
    badges = {
        CREATED: ("sm-badge-ok", _("Create")),
        CHANGED: ("sm-badge-warn", _("Change")),
        REFUSED: ("sm-badge-danger", _("Refused")),
        SKIPPED: ("sm-badge-neutral", _("Skipped")),
    }
    unchanged = ("sm-badge-neutral", _("Unchanged"))
    shown: dict[str, tuple[SafeString, SafeString, SafeString]] = {}
    for outcome in OUTCOMES:
        badge, label = badges.get(outcome, unchanged)
        shown[outcome] = (SafeString(outcome), SafeString(badge), escaped(label))
    diff = _Diff()
    result: list[ShownRow] = []
    for row in rows:
        outcome, badge, label = shown[row.outcome]
        result.append(
            {
                "line": row.line,
                "sku": escaped(row.sku),
                "outcome": outcome,
                "reasons": [escaped(reason) for reason in row.reasons],
                "changes": row.changes,
                "badge": badge,
                "label": label,
                # Only a changed row lists its changes (a created row's would
                # be every field it sets).
                "diff": diff(row.changes) if row.outcome == CHANGED else [],
            }
        )
    return result


def escaped(text: str) -> SafeString:
    """What ``{{ text }}`` writes (django.utils.html.escape() without its
    lazy-text wrapper, which costs as much as the escaping)."""
    return SafeString(html.escape(str(text)))


class _Diff:
    """Changes as text for one page: labels kept per field, the number format
    bound once."""

    def __init__(self) -> None:
        self.price = price_writer()
        self.labels: dict[str, str] = {}

    def __call__(
        self, changes: dict[str, tuple[Any, Any]]
    ) -> list[tuple[str, str, str]]:
        return [
            (self.label(field), self.value(field, old), self.value(field, new))
            for field, (old, new) in changes.items()
        ]

    def label(self, field: str) -> str:
        label = self.labels.get(field)
        if label is None:
            label = self.labels[field] = escaped(capfirst(field_label(field)))
        return label

    def value(self, field: str, value: Any) -> str:
        # As the field_value filter writes it.
        return escaped(
            self.price(value) if field in MONEY_FIELDS else show_value(value)
        )
