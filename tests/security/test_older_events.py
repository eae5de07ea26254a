"""The dashboard's "older changes" endpoint (``/dashboard/products/events/``)
under hostile input and for watchers who may not see costs.

The attack: a watcher (or anyone) sends a ``before`` that is not an event id,
or several, hoping for a 500, a huge page or the whole log; or a watcher the
host's policy admits but who may not see costs pages back through the log for
cost prices. The safe outcome: a 400 (never a 500), nothing in the database
changes, and cost fields never reach those who may not see them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from shop_manager.models import COST_FIELDS, Product, ProductEvent
from tests.helpers.users import WATCHERS_POLICY

pytestmark = pytest.mark.django_db

URL = "/dashboard/products/events/"
# Values no timestamp can contain ("…:31.234…" holds "1.23"): a second is
# never 87 or 76, so "987.65" and "876.54" only appear as the costs.
COST = "987.65"
NEW_COST = "876.54"
SUPPLIER = "SUP-SECRET-42"

# Query strings, percent-encoded as they arrive on the wire.
HOSTILE = {
    "missing": "",
    "empty": "before=",
    "negative": "before=-1",
    "float": "before=1.5",
    "exponent": "before=1e9",
    "plus": "before=%2B5",
    "spaces": "before=%205%20",
    "hex": "before=0x10",
    "fullwidth_digits": "before=" + quote("\uff15"),
    "arabic_indic_digits": "before=" + quote("\u0665"),
    "nul": "before=%00",
    "invalid_utf8": "before=%FF%FE",
    "lone_surrogate": "before=%ED%A0%80",
    "too_big": f"before={2**63}",
    "twenty_digits": "before=" + "1" * 20,
    "huge": "before=" + "9" * 5_000,
    "sql": "before=" + quote("1 OR 1=1"),
    "repeated": "before=5&before=6",
    "array_style": "before[]=5",
}


def snapshot() -> tuple[list[Any], int]:
    return (
        list(Product.objects.values_list("pk", "name", "version").order_by("pk")),
        ProductEvent.objects.count(),
    )


@pytest.mark.parametrize("query", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_before_that_is_not_one_event_id_is_a_400(staff_client, query):
    """Attack: a hostile ``before``. Safe: 400 with a JSON error, no events,
    the database unchanged."""
    Product.objects.create(name="Tea", price=Decimal("1"), quantity=1)
    before = snapshot()

    response = staff_client.get(f"{URL}?{query}")

    assert response.status_code == 400
    assert "error" in response.json()
    assert snapshot() == before


def test_hostile_input_from_someone_who_may_not_watch_is_refused_first(
    regular_client,
):
    """Attack: probe the validator without the right to watch. Safe: 403,
    whatever the input."""
    assert regular_client.get(f"{URL}?before=%00").status_code == 403


@pytest.mark.parametrize(("who", "sees"), [("regular", False), ("staff", True)])
def test_older_pages_leave_cost_diffs_out_for_watchers_who_may_not_see_costs(
    settings, staff_user, regular_user, who, sees
):
    """Attack: a watcher who may not see costs pages back through the log to
    read cost prices and supplier numbers. Safe: cost fields are not in their
    events; an update of costs alone reads "was updated"."""
    settings.SHOP_MANAGER = {"PERMISSION_POLICY": WATCHERS_POLICY}
    tea = Product.objects.create(
        name="Tea",
        price=Decimal("3.50"),
        cost_price=Decimal(COST),
        supplier_number=SUPPLIER,
        quantity=10,
    )
    tea.cost_price = Decimal(NEW_COST)
    tea.save()
    client = Client()
    client.force_login({"regular": regular_user, "staff": staff_user}[who])

    response = client.get(URL, {"before": "1000"})

    assert response.status_code == 200
    created, updated = response.json()["events"]
    assert (set(COST_FIELDS) <= created["changes"].keys()) is sees
    if sees:
        assert updated["changes"] == {
            "cost_price": {"old": COST, "new": NEW_COST, "label": "cost price"}
        }
    else:
        assert not set(COST_FIELDS) & created["changes"].keys()
        assert updated["changes"] == {}
        assert updated["message"] == "Product “Tea” was updated"
    body = response.content.decode()
    assert (COST in body or NEW_COST in body or SUPPLIER in body) is sees
