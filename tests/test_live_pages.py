"""The live product pages as the server renders them: who gets a socket to
follow, from which id, and where the products a live list asks about sit."""

from __future__ import annotations

import json
import re

import pytest
from django.http import QueryDict

from shop_manager.live_pages import MAX_LIVE_IDS, live_ids
from shop_manager.models import ProductEvent

pytestmark = pytest.mark.django_db


def live_root(text: str) -> dict[str, str]:
    """The data- attributes of the element live-pages.js starts from."""
    match = re.search(r"<div ([^>]*data-shop-manager-live=[^>]*)>", text)
    assert match, "no live root on the page"
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', match.group(1)))


def script_json(text: str, element_id: str) -> object:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', text
    )
    assert match, f"no {element_id} on the page"
    return json.loads(match.group(1))


def test_staff_list_follows_the_socket_from_the_newest_event(
    staff_client, make_product
):
    make_product(name="Tea")
    make_product(name="Coffee")
    response = staff_client.get("/products/")
    root = live_root(response.text)
    assert root["shop-manager-live"] == "list"
    assert root["socket-path"] == "/ws/products/"
    assert int(root["last-id"]) == ProductEvent.objects.latest_id() > 0
    assert "shop_manager/js/live-pages.js" in response.text
    strings = script_json(response.text, "sm-live-strings")
    assert isinstance(strings, dict)
    # Each count's plural form, chosen by gettext, filled in by the script.
    assert strings["new_products"][1] == "%(count)s new product:"
    assert strings["new_products"][2] == "%(count)s new products:"


def test_a_reader_the_socket_refuses_gets_a_static_list(regular_client, make_product):
    make_product(name="Tea")
    response = regular_client.get("/products/")
    assert response.status_code == 200
    assert "data-shop-manager-live" not in response.text
    assert "live-pages.js" not in response.text
    assert "sm-live-strings" not in response.text


def test_rows_carry_the_product_and_its_version(staff_client, make_product):
    tea = make_product(name="Tea")
    tea.quantity = 3
    tea.save()
    text = staff_client.get("/products/").text
    assert f'data-product-id="{tea.pk}" data-version="{tea.version}"' in text
    assert tea.version == 2


def test_live_ids_say_which_page_each_matching_product_is_on(
    staff_client, make_product, settings
):
    settings.SHOP_MANAGER = {"PAGE_SIZE": 2}
    made = {name: make_product(name=name) for name in ["Apple", "Bean", "Corn", "Date"]}
    low = make_product(name="Egg", quantity=1)
    ids = ",".join(str(made[name].pk) for name in ["Apple", "Corn", "Date"])
    response = staff_client.get(f"/products/?live_ids={ids},{low.pk},junk,-3")
    pages = script_json(response.text, "sm-live-pages")
    assert pages == {
        str(made["Apple"].pk): 1,
        str(made["Corn"].pk): 2,
        str(made["Date"].pk): 2,
        str(low.pk): 3,
    }
    # Sorted the other way, the same products sit elsewhere.
    response = staff_client.get(f"/products/?sort=-name&live_ids={ids}")
    assert script_json(response.text, "sm-live-pages") == {
        str(made["Apple"].pk): 3,
        str(made["Corn"].pk): 2,
        str(made["Date"].pk): 1,
    }
    # A filter leaves out what it does not match; links do not carry the ids.
    response = staff_client.get(f"/products/?stock=low&live_ids={ids},{low.pk}")
    assert script_json(response.text, "sm-live-pages") == {str(low.pk): 1}
    paged = staff_client.get(f"/products/?live_ids={ids}").text
    assert "live_ids" not in re.sub(
        r'<script id="sm-live-pages".*?</script>', "", paged
    )


def test_live_ids_are_bounded_and_junk_is_left_out():
    assert live_ids(QueryDict("live_ids=3,x,,3,4.5,-1,7")) == [3, 7]
    many = ",".join(str(n) for n in range(1, 500))
    assert len(live_ids(QueryDict(f"live_ids={many}"))) == MAX_LIVE_IDS
    assert live_ids(QueryDict("")) == []


@pytest.mark.parametrize(("page", "suffix"), [("detail", ""), ("edit", "edit/")])
def test_a_product_page_and_its_form_follow_that_product(
    staff_client, make_product, page, suffix
):
    tea = make_product(name="Tea")
    response = staff_client.get(f"/products/tea/{suffix}")
    root = live_root(response.text)
    assert root["shop-manager-live"] == page
    assert root["product-id"] == str(tea.pk)
    assert int(root["last-id"]) == ProductEvent.objects.latest_id()
    assert "shop_manager/js/live-pages.js" in response.text
    # The parts the script takes over when the product changes.
    if page == "detail":
        for part in ("heading", "facts", "stats", "history"):
            assert f'data-live-part="{part}"' in response.text
    else:
        assert "data-live-form" in response.text


def test_an_older_history_page_is_not_taken_over(staff_client, make_product):
    tea = make_product(name="Tea")
    text = staff_client.get(f"/products/tea/?history_before={tea.pk + 10}").text
    assert 'data-live-part="history"' not in text
    assert 'data-live-part="facts"' in text


def test_a_form_sent_back_with_errors_does_not_follow(staff_client, make_product):
    """It holds what was typed, not what was saved: nothing to compare with."""
    tea = make_product(name="Tea")
    response = staff_client.post(
        "/products/tea/edit/",
        {"name": "", "price": "3.50", "quantity": "1", "version": tea.version},
    )
    assert response.status_code == 200
    assert "data-shop-manager-live" not in response.text


def test_readers_the_socket_refuses_get_static_product_pages(
    regular_client, make_product
):
    make_product(name="Tea")
    response = regular_client.get("/products/tea/")
    assert response.status_code == 200
    assert "data-shop-manager-live" not in response.text
    assert "live-pages.js" not in response.text
