"""Stored and reflected cross-site scripting: hostile product names are shown
as text on every page, never run as markup, script or template code.

A real browser's view of the live dashboard is in
``tests/e2e/test_security_escaping.py``.
"""

from __future__ import annotations

import json
import re

import pytest
from django.utils.html import escape

from tests.helpers.products import HOSTILE_NAMES, VALID_PRODUCT, product, product_form
from tests.helpers.users import client_for

pytestmark = pytest.mark.django_db

INITIAL_EVENTS = re.compile(
    r'<script id="sm-initial-events" type="application/json">(.*?)</script>', re.S
)


def assert_shown_as_text(page: str, name: str) -> None:
    """``name`` appears HTML-escaped and never raw (unless escaping leaves it
    as it is, as for ``{{ 7*7 }}``, which must then appear literally)."""
    assert escape(name) in page
    if escape(name) != name:
        assert name not in page


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("role", ["anonymous", "staff"])
def test_list_and_detail_escape_a_stored_name(role, name):
    """Attack: stored XSS, a product named like markup or a template tag is
    saved once and shown to everyone who browses. Safe: the list, the detail
    page (read-only facts and the edit form) and its history show the name as
    text."""
    item = product(name, description=name)
    item.name = f"{name}!"
    item.save()  # The history lists the hostile old and new names.
    client = client_for(role)

    assert_shown_as_text(client.get("/products/").text, name)
    detail = client.get(item.get_absolute_url()).text
    assert_shown_as_text(detail, name)
    assert_shown_as_text(detail, f"{name}!")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_search_echo_escapes_the_query(name):
    """Attack: reflected XSS, a link to ``/products/?q=<script>…`` runs the
    attacker's script on our origin. Safe: the search box and the pagination
    links show the query as text."""
    client = client_for("anonymous")

    page = client.get("/products/", {"q": name}).text

    assert_shown_as_text(page, name)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_delete_confirmation_escapes_the_name(name):
    """Attack: the staff member opening the delete confirmation of a hostile
    product runs its script. Safe: the title and heading show it as text."""
    item = product(name)
    page = client_for("staff").get(f"/products/{item.slug}/delete").text
    assert_shown_as_text(page, name)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_messages_after_saving_escape_the_name(name):
    """Attack: the "was created/updated/deleted" message repeats the name the
    attacker typed. Safe: each message shows it as text."""
    client = client_for("staff")

    created = client.post(
        "/products/create/", {**VALID_PRODUCT, "name": name}, follow=True
    )
    assert "was created" in created.text
    assert_shown_as_text(created.text, name)

    item = created.context["product"]
    updated = client.post(
        item.get_absolute_url(), product_form(item, name=f"{name}?"), follow=True
    )
    assert "was updated" in updated.text
    assert_shown_as_text(updated.text, f"{name}?")

    deleted = client.post(f"/products/{item.slug}/delete", follow=True)
    assert "was deleted" in deleted.text
    assert_shown_as_text(deleted.text, f"{name}?")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_dashboard_payload_cannot_break_out_of_its_script_element(name):
    """Attack: the dashboard page embeds recent events as JSON in a
    ``<script>`` element; a name containing ``</script>`` would end it early
    and start the attacker's script. Safe: the raw name is nowhere in the
    page, and the JSON element parses back to exactly the name."""
    item = product(name)
    item.quantity += 1
    item.save()

    page = client_for("staff").get("/dashboard/products/").text

    assert name not in page or escape(name) == name
    (payload,) = INITIAL_EVENTS.findall(page)
    events = json.loads(payload)
    assert [event["product"]["name"] for event in events] == [name, name]
    assert name in events[-1]["message"]
