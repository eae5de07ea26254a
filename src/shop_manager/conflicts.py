"""A stale edit, field by field: what others changed since the version the
user's form started from, next to what the user typed.

The form carries that version; every change-log event records the product's
version after it (``ProductEvent.product_version``), so the others' changes are
exactly the product's events with a later version. The first such event's old
value of a field is what the user started from, so a field the user left alone
is told apart from one both changed. Events logged before migration 0004 carry
no version and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shop_manager.changelog.rendering import field_label, show_value
from shop_manager.changelog.writer import logged_value
from shop_manager.forms import ProductForm, input_text
from shop_manager.models import Product, ProductEvent

__all__ = ["FieldChoice", "KeptChange", "StaleEdit", "find_conflict"]


@dataclass(frozen=True)
class FieldChoice:
    """A field someone else changed: the user keeps theirs or the other value.

    ``theirs`` and ``mine`` are what the choice posts (form input strings);
    the ``*_display`` values are for reading.
    """

    field: str
    label: str
    theirs: str
    mine: str
    started_display: str
    theirs_display: str
    mine_display: str
    # Who made the other change(s), oldest first.
    changed_by: list[str]
    # The user changed it too: the choice starts on "mine", else on "theirs".
    you_changed: bool


@dataclass(frozen=True)
class KeptChange:
    """A field only the user changed: saved as typed."""

    label: str
    old_display: str
    new_display: str


@dataclass(frozen=True)
class StaleEdit:
    """What the conflict page shows: the choices, and the changes kept."""

    current: Product
    choices: list[FieldChoice]
    kept: list[KeptChange]

    @property
    def chosen_fields(self) -> set[str]:
        """Fields the page posts through a choice instead of a hidden input."""
        return {choice.field for choice in self.choices}


def find_conflict(form: ProductForm, current: Product) -> StaleEdit:
    """Compare the user's valid ``form`` with ``current`` (the row as saved
    now) and the change log since the form's version.

    Only the form's own fields are compared, so a user who may not see costs
    is never shown a cost value (and others' cost changes are kept, since the
    form does not save those fields).
    """
    started = form.cleaned_data["version"]
    theirs = their_changes(current.pk, since_version=started)
    fields = [name for name in form.fields if name != "version"]
    choices: list[FieldChoice] = []
    kept: list[KeptChange] = []
    for name in fields:
        mine = logged_value(name, form.cleaned_data.get(name))
        now = logged_value(name, getattr(current, name))
        if mine == now:
            continue  # Nothing to choose: both say the same.
        if name not in theirs or theirs[name][0] == now:
            # Nobody else changed it (or they changed it back): the user's.
            kept.append(
                KeptChange(field_label(name), show_value(now), show_value(mine))
            )
            continue
        before, who = theirs[name]
        choices.append(
            FieldChoice(
                field=name,
                label=field_label(name),
                theirs=input_text(getattr(current, name)),
                mine=input_text(form[name].value()),
                started_display=show_value(before),
                theirs_display=show_value(now),
                mine_display=show_value(mine),
                changed_by=who,
                you_changed=mine != before,
            )
        )
    return StaleEdit(current=current, choices=choices, kept=kept)


def their_changes(
    product_pk: int, *, since_version: int
) -> dict[str, tuple[Any, list[str]]]:
    """Fields changed after ``since_version``: each field's value before the
    first of those changes, and who changed it."""
    events = ProductEvent.objects.filter(
        product_pk=product_pk,
        action=ProductEvent.Action.UPDATED,
        product_version__gt=since_version,
    ).order_by("id")
    changes: dict[str, tuple[Any, list[str]]] = {}
    for event in events:
        who = event.actor_name or ""
        for field, (old, _new) in event.changes.items():
            actors = changes.setdefault(field, (old, []))[1]
            if who and who not in actors:
                actors.append(who)
    return changes
