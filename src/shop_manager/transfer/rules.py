"""The product form's rules, applied to many rows without a form per row.

Building a ``ProductForm`` per row (its fields deep-copied, a model instance
with its field tracker, ``full_clean``) cost about 1 ms of CPU a row. The
rules themselves are the form's: :class:`RowRules` takes the field objects
of one ``ProductForm`` and the model's fields, and applies them as
``ModelForm.full_clean()`` does for a form whose data holds every field:

1. each form field's ``clean()`` (the widgets' parsing, required, lengths,
   digits, NUL characters, localised formats);
2. for the fields that passed, the model field's ``clean()`` (the model's
   validators, such as price ≥ 0 and the largest quantity), skipped where
   ``ModelForm`` skips it, its messages replaced by the form field's own
   where the form has one for that code;
3. messages in the order a form reports them, each prefixed with the field's
   label, as the product pages show them.

Left out, as before: the SKU's uniqueness check (matching by SKU is that
check, in bulk) and the model's check constraints (price and cost ≥ 0,
which the model's validators already state). ``tests/transfer/test_rules.py``
checks that rows the form refuses are refused here with the same messages,
and fails if the form or the model grows a hook (``clean_<field>()``,
``clean()``, a new constraint) this module does not apply.

Every rule Django ships depends only on the value, so a text seen before in
the same column is not cleaned again: a feed repeats its dates, prices and
quantities. The memo is bounded per column, and a column whose texts are
nearly all new (SKUs, names) soon stops keeping them.

Those columns are plain text, and most of their texts pass every rule as
they are: a text column whose fields have only the validators Django gives
them (lengths, NUL) takes a text that is not empty, has no space at either
end, fits every length and can be stored, unchanged, without the rules being
run (they cost about as much as the rest of a row's planning). Any other text,
and any column with more rules, goes through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from shop_manager.changelog import logged_value
from shop_manager.forms import ProductForm
from shop_manager.models import Product
from shop_manager.storable import is_storable

__all__ = ["Cleaned", "RowRules"]

# Distinct texts remembered per column,
MEMO_SIZE = 16_384
# unless, after this many texts, fewer than one in MEMO_MIN_HITS was seen
# before (SKUs, names): then the column forgets them and stops remembering.
MEMO_TRIAL = 2048
MEMO_MIN_HITS = 16
# What no text column's length can exceed when it has no max_length.
UNLIMITED = 2**31


class Cleaned(NamedTuple):
    """A field's value as the form's instance would hold it, and as the
    change log writes it ("3.50", "2030-01-31")."""

    value: Any
    logged: Any


class _Result(NamedTuple):
    """One column's text, cleaned, or the form's or the model's messages
    (without the label)."""

    cleaned: Cleaned | None
    form_errors: tuple[str, ...] = ()
    model_errors: tuple[str, ...] = ()


class _Column:
    """One product field: its form field, its model field, its label."""

    def __init__(
        self, name: str, form_field: forms.Field, model_field: models.Field[Any, Any]
    ) -> None:
        self.name = name
        self.form_field = form_field
        self.model_field = model_field
        self.label = str(form_field.label)
        self.memo: dict[str, _Result] | None = {}
        self.seen = self.hits = 0
        # ModelForm._get_validation_exclusions(): an empty value of a field the
        # form does not require is not validated by a model field that may not
        # be blank.
        self.skip_empty = not model_field.blank and not form_field.required
        # Text columns: what the database can store (is_storable); None for
        # other types.
        self.max_length: int | None = None
        if isinstance(model_field, (models.CharField, models.TextField)):
            self.max_length = model_field.max_length or UNLIMITED
        self.plain = _plain_text_length(form_field, model_field)

    def clean(self, text: str, instance: Product) -> _Result:
        plain = self.plain
        if (
            plain is not None
            and text
            and not text[0].isspace()
            and not text[-1].isspace()
            and is_storable(text, plain)
        ):
            # What the form field (strip, required, lengths, NUL), the model
            # field (lengths) and is_storable would let through unchanged.
            return self._ok(text)
        memo = self.memo
        if memo is None:
            return self._clean(text, instance)
        found = memo.get(text)
        if found is not None:
            self.hits += 1
            return found
        found = self._clean(text, instance)
        self.seen += 1
        if self.seen == MEMO_TRIAL and self.hits * MEMO_MIN_HITS < self.seen:
            self.memo = None  # Nearly every text is new: not worth keeping.
        elif len(memo) < MEMO_SIZE:
            memo[text] = found
        return found

    def _clean(self, text: str, instance: Product) -> _Result:
        try:
            value = self.form_field.clean(text)
        except ValidationError as error:
            return _Result(None, form_errors=tuple(error.messages))
        if self.skip_empty and value in self.form_field.empty_values:
            return self._ok(value)
        if self.model_field.blank and value in self.model_field.empty_values:
            return self._ok(value)  # Model.clean_fields() skips it.
        try:
            value = self.model_field.clean(value, instance)
        except ValidationError as error:
            return _Result(None, model_errors=tuple(self._form_worded(error)))
        if (
            self.max_length is not None
            and isinstance(value, str)
            and not is_storable(value, self.max_length)
        ):
            return _Result(
                None,
                model_errors=(
                    _("This text holds characters the database cannot store."),
                ),
            )
        return self._ok(value)

    def _ok(self, value: Any) -> _Result:
        return _Result(Cleaned(value, logged_value(self.name, value)))

    def _form_worded(self, error: ValidationError) -> list[str]:
        """ModelForm._update_errors(): the form field's message for a code it
        has one for, with the model's parameters."""
        worded = self.form_field.error_messages
        messages = []
        for item in error.error_list:
            if item.code in worded:
                item = ValidationError(worded[item.code], item.code, item.params)
            messages.extend(item.messages)
        return messages


# The validators Django gives text fields; a column with any other is not plain.
_TEXT_VALIDATORS = (
    validators.MaxLengthValidator,
    validators.ProhibitNullCharactersValidator,
)


def _plain_text_length(
    form_field: forms.Field, model_field: models.Field[Any, Any]
) -> int | None:
    """The most characters a text may have to pass both fields unchanged, for
    a plain text column; None for any other."""
    if (
        type(form_field) is not forms.CharField
        or not form_field.strip
        or type(model_field) not in (models.CharField, models.TextField)
        or model_field.choices
    ):
        return None
    limits = [UNLIMITED]
    for validator in (*form_field.validators, *model_field.validators):
        if type(validator) not in _TEXT_VALIDATORS:
            return None
        if isinstance(validator, validators.MaxLengthValidator):
            if not isinstance(validator.limit_value, int):
                return None  # A callable limit: let the rules ask it.
            limits.append(validator.limit_value)
    return min(limits)


class RowRules:
    """``ProductForm``'s validation of a full set of field texts, for a user
    who may (``with_costs``) or may not see costs."""

    def __init__(self, *, with_costs: bool) -> None:
        # A new product's form: an existing product's adds only "version",
        # which the import fills from the product itself.
        form = ProductForm(with_costs=with_costs)
        model_fields = {field.name: field for field in Product._meta.fields}
        self.columns = [
            _Column(name, field, model_fields[name])
            for name, field in form.fields.items()
        ]
        self.names = tuple(column.name for column in self.columns)
        # Model errors come after form errors, in the model's field order.
        order = {field.name: n for n, field in enumerate(Product._meta.fields)}
        self._model_order = sorted(self.columns, key=lambda c: order[c.name])
        self._instance = Product()

    def clean(self, texts: Mapping[str, str]) -> tuple[dict[str, Cleaned], list[str]]:
        """Each field of ``texts`` (one for each of :attr:`names`) cleaned, or,
        if any is refused, the messages ``"Label: message"``."""
        results = [
            column.clean(texts[column.name], self._instance) for column in self.columns
        ]
        cleaned = {
            column.name: result.cleaned
            for column, result in zip(self.columns, results, strict=True)
            if result.cleaned is not None
        }
        if len(cleaned) == len(self.columns):
            return cleaned, []
        by_name = {
            column.name: result
            for column, result in zip(self.columns, results, strict=True)
        }
        reasons = [
            f"{column.label}: {message}"
            for column in self.columns
            for message in by_name[column.name].form_errors
        ]
        reasons += [
            f"{column.label}: {message}"
            for column in self._model_order
            for message in by_name[column.name].model_errors
        ]
        return {}, reasons
