"""Parts of a page rendered once for what they show: ``{% sm_memo %}``.

A change-log row is the same markup every time the same event is shown in
the same language: it is kept, keyed by the row's own data, and re-rendered
only for data it has not seen. The key is the data, never an id, so nothing
kept can be out of date: another value is another key.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.base import FilterExpression, NodeList
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

__all__ = ["MemoNode"]

# Characters of rendered blocks kept per {% sm_memo %} in a template, at
# most: a few thousand feed rows, or a few dozen whole feeds. When full it
# starts again (simple and safe with threads: no eviction order to keep).
MAX_KEPT_CHARS = 4_000_000

# Bumped by any settings change (tests, override_settings): what a row looks
# like may depend on one (the currency, number formats, the URLconf).
_settings_generation = 0


class MemoNode(template.Node):
    """``{% sm_memo value ... %}…{% endsm_memo %}``: the block's output for
    these values, the active language and time zone, rendered once.

    The values must be everything the block reads from the context and
    plain data (what ``json`` writes); anything else renders the block every
    time. A template reloaded after an edit compiles new nodes, so nothing
    kept outlives the template it came from.
    """

    def __init__(self, nodelist: NodeList, values: list[FilterExpression]) -> None:
        self.nodelist = nodelist
        self.values = values
        self._kept: dict[tuple[Any, ...], SafeString] = {}
        self._kept_chars = 0

    def render(self, context: template.Context) -> str:
        try:
            data = json.dumps(
                [value.resolve(context) for value in self.values],
                separators=(",", ":"),
            )
        except (TypeError, ValueError):  # Not plain data: no key to trust.
            return self.nodelist.render(context)
        key = (
            data,
            translation.get_language(),
            timezone.get_current_timezone(),
            context.autoescape,
            _settings_generation,
        )
        kept = self._kept.get(key)
        if kept is None:
            kept = mark_safe(self.nodelist.render(context))
            if self._kept_chars + len(kept) > MAX_KEPT_CHARS:
                self._kept.clear()
                self._kept_chars = 0
            self._kept[key] = kept
            self._kept_chars += len(kept)
        return kept


@receiver(setting_changed)
def _forget_rendered(**kwargs: Any) -> None:
    global _settings_generation
    _settings_generation += 1
