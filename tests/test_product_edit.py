"""The product page for everyone, the edit page for managers, and the
conflict page a stale edit gets: field by field, theirs next to mine."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from shop_manager.forms import ProductForm
from shop_manager.models import Product, ProductEvent
from tests.helpers.page_text import plain

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """What a browser would post from the page's product form (``.sm-form``):
    every named input and textarea, and each radio group's checked value.
    ``options`` keeps every radio's value by its ``data-choice``."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.options: dict[str, dict[str, str]] = {}
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and "sm-form" in found.get("class", "").split():
            self._in_form = True
        if not self._in_form or "name" not in found:
            return
        name = found["name"]
        if tag == "textarea":
            self._textarea = name
            self.fields[name] = ""
        elif tag == "input" and found.get("type") == "radio":
            self.options.setdefault(name, {})[found["data-choice"]] = found["value"]
            if "checked" in found:
                self.fields[name] = found["value"]
        elif tag == "input" and name != "csrfmiddlewaretoken":
            self.fields[name] = found.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea:
            # Browsers drop the newline that opens a textarea's content.
            value = self.fields[self._textarea]
            self.fields[self._textarea] = value.removeprefix("\n")
            self._textarea = None
        if tag == "form":
            self._in_form = False


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def opened_edit_page(client: Client, product: Product) -> dict[str, str]:
    """The edit form's fields as the page gives them, ready to change and post."""
    page = client.get(f"/products/{product.slug}/edit/")
    assert page.status_code == 200
    return read_form(page.text).fields


def choices_on(page: Any) -> dict[str, tuple[str, str, str]]:
    """The conflict page's choices: field -> (theirs, mine, preselected)."""
    reader = read_form(page.text)
    return {
        field: (values["theirs"], values["mine"], reader.fields[field])
        for field, values in reader.options.items()
    }


@pytest.fixture
def other_client(django_user_model: Any) -> Client:
    """A second staff member, editing in another browser."""
    other = django_user_model.objects.create_user(username="alice", is_staff=True)
    client = Client()
    client.force_login(other)
    return client


# The product page and the edit page --------------------------------------


def test_staff_see_the_product_read_only_with_an_edit_button(
    staff_client, make_product, settings
):
    settings.SHOP_MANAGER = {"EXPIRING_SOON_DAYS": 7, "LOW_STOCK_THRESHOLD": 5}
    tea = make_product(
        quantity=2,
        cost_price=Decimal("987.65"),
        supplier_number="S-77",
        expiry_date=timezone.localdate() + datetime.timedelta(days=3),
    )
    page = staff_client.get(f"/products/{tea.slug}/")
    assert page.status_code == 200
    assert '<form method="post" class="sm-form"' not in page.text
    assert 'name="quantity"' not in page.text
    assert '<a class="sm-button" href="/products/tea/edit/">Edit</a>' in page.text
    assert "Low stock" in page.text
    assert "Expiring soon" in page.text
    # Staff may see costs: the facts list them.
    assert "S-77" in page.text
    assert "987.65" in page.text


def test_visitors_get_no_edit_button_no_costs_and_no_edit_page(
    regular_client, make_product
):
    tea = make_product(cost_price=Decimal("987.65"), supplier_number="S-77")
    anonymous = Client()
    for visitor in (anonymous, regular_client):
        page = visitor.get(f"/products/{tea.slug}/")
        assert page.status_code == 200
        assert "/products/tea/edit/" not in page.text
        assert "S-77" not in page.text
        assert "987.65" not in page.text
    assert regular_client.get("/products/tea/edit/").status_code == 403
    to_login = anonymous.get("/products/tea/edit/")
    assert to_login.status_code == 302
    assert to_login.url.startswith("/accounts/login/")


def test_the_edit_page_shows_the_form_and_saves_to_the_product_page(
    staff_client, make_product
):
    tea = make_product(description="Loose\nleaf")
    fields = opened_edit_page(staff_client, tea)
    assert fields["quantity"] == "10"
    assert fields["description"] == "Loose\nleaf"
    assert int(fields["version"]) == tea.version
    response = staff_client.post(
        "/products/tea/edit/", {**fields, "quantity": "12"}, follow=True
    )
    assert response.redirect_chain == [("/products/tea/", 302)]
    assert "Product “Tea” was updated." in response.text
    tea.refresh_from_db()
    assert (tea.quantity, tea.description) == (12, "Loose\nleaf")


def test_an_invalid_edit_shows_the_form_with_the_error_and_saves_nothing(
    staff_client, make_product
):
    tea = make_product()
    fields = opened_edit_page(staff_client, tea)
    for url in ("/products/tea/edit/", "/products/tea/"):
        response = staff_client.post(url, {**fields, "price": "-1", "name": "New"})
        assert response.status_code == 200
        assert re.search(
            r'class="sm-error"[^>]*>[^<]*greater than or equal to 0', response.text
        )
        # The heading names the product as saved, not the rejected input.
        assert "<h1>Edit “Tea”</h1>" in response.text
    tea.refresh_from_db()
    assert (tea.price, tea.name) == (Decimal("3.50"), "Tea")


def test_products_named_edit_and_create_have_their_own_pages(
    staff_client, make_product
):
    edit = make_product(name="Edit", sku="E-1")
    create = make_product(name="Create", sku="C-1")
    assert (edit.slug, create.slug) == ("edit", "create-2")
    assert staff_client.get("/products/edit/").context["product"] == edit
    assert staff_client.get("/products/edit/edit/").context["product"] == edit
    assert staff_client.get("/products/create-2/").context["product"] == create
    assert staff_client.get("/products/create-2/edit/").context["product"] == create
    # /products/create/ stays the create form.
    assert "form" in staff_client.get("/products/create/").context
    assert staff_client.get("/products/no-such-thing/edit/").status_code == 404


# The conflict page ---------------------------------------------------------


def test_edits_of_different_fields_are_merged_without_asking(
    staff_client, other_client, make_product
):
    """Alice changes the quantity; I, from the same version, change the price.
    Nobody changed what the other changed: my save keeps both, asking nothing,
    and logs only my change."""
    tea = make_product(quantity=4)
    mine = opened_edit_page(staff_client, tea)
    theirs = opened_edit_page(other_client, tea)
    assert (
        other_client.post(
            "/products/tea/edit/", {**theirs, "quantity": "9"}
        ).status_code
        == 302
    )

    page = staff_client.post(
        "/products/tea/edit/", {**mine, "price": "5.00"}, follow=True
    )

    assert page.redirect_chain == [("/products/tea/", 302)]
    assert "Product “Tea” was updated." in page.text
    tea.refresh_from_db()
    assert (tea.quantity, tea.price, tea.version) == (9, Decimal("5.00"), 3)
    latest = ProductEvent.objects.filter(product_pk=tea.pk).latest("id")
    assert latest.changes == {"price": ["3.50", "5.00"]}


@pytest.mark.parametrize(("choice", "quantity"), [("theirs", 9), ("mine", 1)])
def test_edits_of_the_same_field_show_both_values_and_honour_the_choice(
    staff_client, other_client, make_product, choice, quantity
):
    """Alice sets quantity 9 and the SKU; I set quantity 1 and the price.
    Only the quantity is a choice (mine preselected: I changed it too); her
    SKU is offered too, preselected, since I left it alone."""
    tea = make_product(quantity=4)
    mine = opened_edit_page(staff_client, tea)
    theirs = opened_edit_page(other_client, tea)
    other_client.post("/products/tea/edit/", {**theirs, "quantity": "9", "sku": "T-9"})

    page = staff_client.post(
        "/products/tea/", {**mine, "quantity": "1", "price": "5.00"}
    )

    assert page.status_code == 409
    assert choices_on(page) == {
        "sku": ("T-9", "", "T-9"),
        "quantity": ("9", "1", "1"),
    }
    quantity_box = re.search(
        r'<fieldset class="sm-choice" data-field="quantity">.*?</fieldset>',
        page.text,
        re.S,
    )
    assert quantity_box
    assert "You both changed it" in quantity_box.group(0)
    assert "It was 4 when you started editing." in quantity_box.group(0)
    # Money with the site's currency (USD by default), labels capitalised.
    assert re.search(
        r"Your other changes, kept.*Price: \$3\.50 → \$5\.00", plain(page.text), re.S
    )

    reader = read_form(page.text)
    resubmit = {**reader.fields, "quantity": reader.options["quantity"][choice]}
    assert staff_client.post("/products/tea/", resubmit).status_code == 302
    tea.refresh_from_db()
    assert (tea.quantity, tea.sku, tea.price) == (quantity, "T-9", Decimal("5.00"))


def test_a_change_made_while_choosing_conflicts_again(
    staff_client, other_client, make_product
):
    tea = make_product(quantity=4)
    mine = opened_edit_page(staff_client, tea)
    other_client.post(
        "/products/tea/edit/", {**opened_edit_page(other_client, tea), "quantity": "9"}
    )
    page = staff_client.post(
        "/products/tea/", {**mine, "quantity": "1", "price": "5.00"}
    )
    assert page.status_code == 409
    other_client.post(
        "/products/tea/edit/", {**opened_edit_page(other_client, tea), "quantity": "7"}
    )

    again = staff_client.post("/products/tea/", read_form(page.text).fields)

    assert again.status_code == 409
    # Measured from the version the first conflict page showed (quantity 9).
    assert choices_on(again) == {"quantity": ("7", "1", "1")}
    assert "It was 9 when you started editing" in again.text
    tea.refresh_from_db()
    assert (tea.quantity, tea.price) == (7, Decimal("3.50"))


def test_a_user_who_may_not_see_costs_is_not_shown_their_cost_change(
    client, other_client, make_product, django_user_model, settings
):
    """Costs hidden by the policy stay hidden on the conflict page, and the
    other person's cost change survives the save."""
    settings.SHOP_MANAGER = {
        "PERMISSION_POLICY": "shop_manager.permissions.ModelPermissionsPolicy"
    }
    clerk = django_user_model.objects.create_user(username="clerk")
    clerk.user_permissions.add(Permission.objects.get(codename="change_product"))
    client.force_login(clerk)
    # Under this policy alice needs the permissions too.
    django_user_model.objects.get(username="alice").user_permissions.add(
        *Permission.objects.filter(
            codename__in=["change_product", "view_product_costs"]
        )
    )
    tea = make_product(quantity=4, cost_price=Decimal("1.00"))
    mine = opened_edit_page(client, tea)
    assert "cost_price" not in mine
    theirs = opened_edit_page(other_client, tea)
    other_client.post(
        "/products/tea/edit/", {**theirs, "cost_price": "2.75", "quantity": "9"}
    )

    page = client.post("/products/tea/", {**mine, "name": "Green tea", "quantity": "1"})

    assert page.status_code == 409
    assert choices_on(page) == {"quantity": ("9", "1", "1")}
    assert "2.75" not in page.text
    assert "cost" not in page.text.lower()
    assert client.post("/products/tea/", read_form(page.text).fields).status_code == 302
    tea.refresh_from_db()
    assert (tea.name, tea.quantity, tea.cost_price) == ("Green tea", 1, Decimal("2.75"))


def test_a_save_that_changed_nothing_leaves_nothing_to_choose(
    staff_client, other_client, make_product
):
    """Alice saved without changing anything (the version moved, the log has
    no change): there is nothing to choose, and my save goes through."""
    tea = make_product(quantity=4)
    mine = opened_edit_page(staff_client, tea)
    other_client.post("/products/tea/edit/", opened_edit_page(other_client, tea))
    page = staff_client.post("/products/tea/", {**mine, "quantity": "5"})
    assert page.status_code == 302
    tea.refresh_from_db()
    assert tea.quantity == 5


def test_every_change_logs_the_version_it_made(make_product):
    tea = make_product()
    tea.quantity = 3
    tea.save()
    tea.save()  # No change, no event; the version still moves.
    tea.price = Decimal("4")
    tea.save()
    assert list(
        ProductEvent.objects.order_by("id").values_list("action", "product_version")
    ) == [("created", 1), ("updated", 2), ("updated", 4)]


def test_a_product_deleted_while_saving_is_a_404(
    staff_client, make_product, monkeypatch
):
    """Deleted between loading it and locking it: "not found", not a 500."""
    tea = make_product()
    fields = {
        "name": "Tea",
        "price": "3.50",
        "cost_price": "0",
        "quantity": "4",
        "version": tea.version,
    }
    clean = ProductForm.clean

    def clean_then_delete(form: ProductForm) -> Any:
        Product.objects.filter(pk=tea.pk).delete()
        return clean(form)

    monkeypatch.setattr(ProductForm, "clean", clean_then_delete)
    assert staff_client.post("/products/tea/", fields).status_code == 404


def test_a_change_is_one_save_one_event_and_a_bounded_number_of_queries(
    staff_client, make_product, django_assert_max_num_queries
):
    tea = make_product(quantity=1)
    for quantity in (2, 3):  # The second one is measured, caches warm.
        fields = opened_edit_page(staff_client, tea)
        fields["quantity"] = str(quantity)
        events = ProductEvent.objects.count()
        # Session, user, product, SKU uniqueness, the locked row, its update,
        # the log's lock (PostgreSQL) and insert, and the transaction's
        # statements; no check-constraint queries (the validators state them).
        with django_assert_max_num_queries(11) as done:
            answer = staff_client.post(f"/products/{tea.slug}/edit/", fields)
        assert answer.status_code == 302
    assert ProductEvent.objects.count() == events + 1
    assert not [q for q in done.captured_queries if "_check" in q["sql"]]
    tea.refresh_from_db()
    assert tea.quantity == 3
