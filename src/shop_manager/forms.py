from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms

from shop_manager.models import COST_FIELDS, EDITABLE_FIELDS, Product

__all__ = ["ProductForm", "input_text"]

if TYPE_CHECKING:
    _ModelForm = forms.ModelForm[Product]
else:
    # Django's class is not subscriptable at run time; only mypy needs the type.
    _ModelForm = forms.ModelForm


class ProductForm(_ModelForm):
    """Create or edit a product.

    On edit it carries the ``version`` the user started from, so the view can
    refuse a save that would overwrite someone else's newer change. With
    ``with_costs=False`` (a user who may not see costs) the cost fields are
    neither shown nor changed.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    class Meta:
        model = Product
        fields = EDITABLE_FIELDS
        widgets = {
            "expiry_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "cost_price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "quantity": forms.NumberInput(attrs={"min": "0"}),
            "low_stock_threshold": forms.NumberInput(attrs={"min": "0"}),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, with_costs: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_costs:
            for field in COST_FIELDS:
                del self.fields[field]
        if self.instance.pk is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True
            self.fields["version"].initial = self.instance.version


def input_text(value: Any) -> str:
    """A value as a form input holds it, and the product form reads it back:
    empty for None, ISO dates, decimals exactly as stored ("3.50"). What a
    conflict's choice posts, and what a CSV cell holds."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
