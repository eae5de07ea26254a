"""``{% sm_memo %}`` (shop_manager.fragments): a block rendered once for the
values it names, never shown for other values, another language or after a
settings change."""

from __future__ import annotations

import datetime
from typing import Any

from django.template import Context, engines
from django.utils import translation

SOURCE = (
    "{% load i18n shop_manager %}{% sm_memo row %}"
    "{{ row.name }} {% translate 'Dismiss' %} {{ calls.append }}{% endsm_memo %}"
)


def _template() -> Any:
    return engines["django"].from_string(SOURCE)


def render(template: Any, **context: Any) -> tuple[str, int]:
    """The output, and how often the block itself ran (0: it was kept)."""
    ran: list[int] = []
    html = template.render({**context, "calls": _Counter(ran)})
    return html, len(ran)


class _Counter:
    """``{{ calls.append }}`` in the block counts its renders, writing nothing."""

    def __init__(self, ran: list[int]) -> None:
        self.ran = ran

    def append(self) -> str:
        self.ran.append(1)
        return ""


def test_a_block_is_rendered_once_for_the_same_values():
    template = _template()
    first = render(template, row={"name": "Tea"})
    assert first == ("Tea Dismiss ", 1)
    assert render(template, row={"name": "Tea"}) == ("Tea Dismiss ", 0)


def test_other_values_are_rendered_not_reused():
    template = _template()
    render(template, row={"name": "Tea"})
    assert render(template, row={"name": "Tea & cake"}) == (
        "Tea &amp; cake Dismiss ",
        1,
    )


def test_each_language_has_its_own():
    template = _template()
    with translation.override("en"):
        english, _ = render(template, row={"name": "Tea"})
    with translation.override("de"):
        german, ran = render(template, row={"name": "Tea"})
    assert ran == 1
    assert english != german


def test_a_settings_change_renders_again(settings):
    template = _template()
    render(template, row={"name": "Tea"})
    settings.SHOP_MANAGER = {"PAGE_SIZE": 10}
    assert render(template, row={"name": "Tea"})[1] == 1


def test_values_that_are_not_plain_data_are_rendered_every_time():
    template = _template()
    day = {"name": datetime.date(2026, 12, 7)}
    assert render(template, row=day)[1] == 1
    assert render(template, row=day)[1] == 1


def test_autoescape_off_is_its_own():
    template = _template()
    render(template, row={"name": "<b>"})
    html = template.template.render(
        Context({"row": {"name": "<b>"}, "calls": _Counter([])}, autoescape=False)
    )
    assert html.startswith("<b> ")
