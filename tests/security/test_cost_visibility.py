"""Cost price and supplier number are for users the policy lets see costs.

Each case: someone who may not see costs (anonymous, a regular user, a watcher
a custom policy admits) tries to read them through a page, the search, the
history, the dashboard or its socket; staff see them.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser, Permission
from django.test import Client

from shop_manager.models import COST_FIELDS, Product
from shop_manager.permissions import (
    BasePermissionPolicy,
    ModelPermissionsPolicy,
    StaffPolicy,
)
from tests.helpers.page_text import plain
from tests.helpers.sockets import connect, next_event
from tests.helpers.users import WATCHERS_POLICY, login

# Values no timestamp can contain ("…:31.234…" holds "1.23"): a second is
# never 87 or 76, so "987.65" and "876.54" only appear as the costs.
COST = "987.65"
NEW_COST = "876.54"
SUPPLIER = "SUP-SECRET-42"


@pytest.fixture
def users(staff_user, regular_user) -> dict[str, Any]:
    return {"anonymous": None, "regular": regular_user, "staff": staff_user}


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def make_tea() -> Product:
    return Product.objects.create(
        name="Tea",
        price=Decimal("3.50"),
        cost_price=Decimal(COST),
        supplier_number=SUPPLIER,
        quantity=10,
    )


def update(product: Product, **fields: Any) -> None:
    for field, value in fields.items():
        setattr(product, field, value)
    product.save()


def shows_costs(html: str) -> bool:
    return COST in html or NEW_COST in html or SUPPLIER in html


VIEWERS = [("anonymous", False), ("regular", True), ("staff", True)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "sees"), [("anonymous", False), ("regular", False), ("staff", True)]
)
def test_detail_page_shows_costs_only_to_staff(users, who, sees):
    """Attack: open a product page to read what the shop pays and whom.
    Safe: only staff see the cost price and supplier number."""
    tea = make_tea()

    html = client_for(users[who]).get(tea.get_absolute_url()).content.decode()

    assert "Tea" in html
    assert shows_costs(html) is sees
    assert ("Cost price" in html) is sees
    assert ("Supplier number" in html) is sees


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "sees"), [("anonymous", False), ("regular", False), ("staff", True)]
)
def test_search_matches_supplier_numbers_only_for_staff(users, who, sees):
    """Attack: probe supplier numbers by searching the list for them (a hit
    confirms a guess). Safe: for users who may not see costs the search
    ignores the field; the list page never prints it."""
    make_tea()

    response = client_for(users[who]).get("/products/", {"q": SUPPLIER[:8]})

    found = [product.name for product in response.context["products"]]
    assert found == (["Tea"] if sees else [])
    assert SUPPLIER not in response.content.decode()
    unfiltered = client_for(users[who]).get("/products/").content.decode()
    assert "Tea" in unfiltered
    assert not shows_costs(unfiltered)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "sees"), [("anonymous", False), ("regular", False), ("staff", True)]
)
def test_history_hides_cost_diffs_from_those_who_may_not_see_costs(users, who, sees):
    """Attack: read old and new cost prices from the product's change history.
    Safe: their diffs are left out; an update of costs alone still shows as
    "updated", without values; other fields' diffs stay."""
    tea = make_tea()
    update(tea, cost_price=Decimal(NEW_COST))
    update(tea, quantity=12, supplier_number="SUP-SECRET-43")

    html = client_for(users[who]).get(tea.get_absolute_url()).content.decode()
    history = html[html.index('id="sm-history-title"') :]
    words = plain(history)

    assert history.count('data-action="updated"') == 2
    assert "Quantity: 10 → 12" in words
    assert (f"Cost price: ${COST} → ${NEW_COST}" in words) is sees
    # Not in any form or markup: neither value, nor the field's name.
    assert (COST in history) is sees
    assert (NEW_COST in history) is sees
    assert ("supplier number" in history.lower()) is sees
    assert ("SUP-SECRET-43" in history) is sees


def initial_events(html: str) -> list[dict[str, Any]]:
    match = re.search(
        r'<script id="sm-initial-events" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert match is not None
    return json.loads(match.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "sees"), [("regular", False), ("staff", True)])
def test_dashboard_page_leaves_cost_diffs_out_for_watchers_who_may_not_see_costs(
    settings, users, who, sees
):
    """Attack: a watcher the host's policy admits, but who may not see costs,
    reads them from the dashboard's initial events. Safe: cost fields are not
    in their events; an update of costs alone reads "was updated"."""
    settings.SHOP_MANAGER = {"PERMISSION_POLICY": WATCHERS_POLICY}
    tea = make_tea()
    update(tea, cost_price=Decimal(NEW_COST))

    response = client_for(users[who]).get("/dashboard/products/")

    assert response.status_code == 200
    created, updated = initial_events(response.content.decode())
    assert (set(COST_FIELDS) <= created["changes"].keys()) is sees
    if sees:
        assert updated["changes"] == {
            "cost_price": {"old": COST, "new": NEW_COST, "label": "cost price"}
        }
        assert updated["message"].endswith(f"cost price {COST} → {NEW_COST}")
    else:
        assert not set(COST_FIELDS) & created["changes"].keys()
        assert updated["changes"] == {}
        assert updated["message"] == "Product “Tea” was updated"
    assert shows_costs(json.dumps([created, updated])) is sees


async def socket_for(user: Any, query: str) -> WebsocketCommunicator:
    return await connect(await login(user), query)


@pytest_asyncio.fixture
async def watcher_socket(request, settings, users):
    """A dashboard socket for ``request.param``, replaying from the start."""
    settings.SHOP_MANAGER = {"PERMISSION_POLICY": WATCHERS_POLICY}
    await database_sync_to_async(make_tea)()
    socket = await socket_for(users[request.param], "?after=0")
    yield socket
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("watcher_socket", "sees"),
    [("regular", False), ("staff", True)],
    indirect=["watcher_socket"],
)
async def test_socket_frames_leave_cost_diffs_out_for_watchers_who_may_not_see_costs(
    watcher_socket, sees
):
    """Attack: a watcher who may not see costs reads them from the socket's
    replay batch or live frames. Safe: both leave the cost fields out; a
    live update of costs alone arrives as "was updated" with no values, and
    other fields' diffs still arrive."""
    batch = await watcher_socket.receive_json_from()
    assert batch["type"] == "batch"
    (created,) = batch["events"]
    assert (set(COST_FIELDS) <= created["changes"].keys()) is sees

    tea = await database_sync_to_async(Product.objects.get)(name="Tea")
    await database_sync_to_async(update)(tea, cost_price=Decimal(NEW_COST))
    cost_only = await next_event(watcher_socket)
    await database_sync_to_async(update)(tea, quantity=12, supplier_number="SUP-X")
    mixed = await next_event(watcher_socket)

    assert mixed["changes"]["quantity"] == {"old": 10, "new": 12, "label": "quantity"}
    if sees:
        assert cost_only["changes"] == {
            "cost_price": {"old": COST, "new": NEW_COST, "label": "cost price"}
        }
        assert mixed["changes"]["supplier_number"] == {
            "old": SUPPLIER,
            "new": "SUP-X",
            "label": "supplier number",
        }
    else:
        assert cost_only["changes"] == {}
        assert cost_only["message"] == "Product “Tea” was updated"
        assert mixed["changes"].keys() == {"quantity"}
        assert mixed["message"] == "Product “Tea” was updated: quantity 10 → 12"
    frames = json.dumps([batch, cost_only, mixed])
    assert shows_costs(frames) is sees
    assert ("SUP-X" in frames) is sees


@pytest.mark.django_db
def test_a_manager_who_may_not_see_costs_neither_sees_nor_changes_them(
    settings, regular_user
):
    """Attack: a user who may change products (ModelPermissionsPolicy, without
    view_product_costs) reads costs from the edit form, or overwrites them.
    Safe: the form has no cost fields; saving keeps the stored costs."""
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    regular_user.user_permissions.add(Permission.objects.get(codename="change_product"))
    tea = make_tea()
    client = client_for(regular_user)

    html = client.get(f"/products/{tea.slug}/edit/").content.decode()
    assert 'name="price"' in html
    assert not shows_costs(html)
    assert 'name="cost_price"' not in html
    assert not shows_costs(client.get(tea.get_absolute_url()).content.decode())
    response = client.post(
        tea.get_absolute_url(),
        {
            "name": "Tea",
            "price": "4.00",
            "quantity": "10",
            "cost_price": "0.01",
            "supplier_number": "SUP-HIJACKED",
            "version": tea.version,
        },
    )

    assert response.status_code == 302
    tea.refresh_from_db()
    assert tea.price == Decimal("4.00")
    assert (tea.cost_price, tea.supplier_number) == (Decimal(COST), SUPPLIER)


@pytest.mark.django_db
def test_view_product_costs_permission_shows_costs(settings, regular_user):
    """With ModelPermissionsPolicy the `view_product_costs` permission is what
    shows costs to a non-staff user."""
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    tea = make_tea()
    assert not shows_costs(
        client_for(regular_user).get(tea.get_absolute_url()).content.decode()
    )

    regular_user.user_permissions.add(
        Permission.objects.get(codename="view_product_costs")
    )

    html = client_for(regular_user).get(tea.get_absolute_url()).content.decode()
    assert COST in html
    assert SUPPLIER in html


@pytest.mark.django_db
def test_can_see_costs_per_policy(django_user_model):
    """Who sees costs: staff and superusers (active) under StaffPolicy; the
    permission or superuser under ModelPermissionsPolicy; nobody by default."""
    staff = django_user_model.objects.create_user("s", is_staff=True)
    inactive = django_user_model.objects.create_user(
        "i", is_staff=True, is_active=False
    )
    superuser = django_user_model.objects.create_superuser("su")
    regular = django_user_model.objects.create_user("r")
    granted = django_user_model.objects.create_user("g")
    granted.user_permissions.add(Permission.objects.get(codename="view_product_costs"))
    granted = django_user_model.objects.get(pk=granted.pk)  # No stale perm cache.
    everyone = [AnonymousUser(), staff, inactive, superuser, regular, granted]

    def seen_by(policy: BasePermissionPolicy) -> list[bool]:
        return [policy.can_see_costs(user) for user in everyone]

    assert seen_by(BasePermissionPolicy()) == [False] * 6
    assert seen_by(StaffPolicy()) == [False, True, False, True, False, False]
    assert seen_by(ModelPermissionsPolicy()) == [False, False, False, True, False, True]
