"""What the live product pages (list, detail, edit) need from the server
beside their usual context: where the socket is (for a reader it admits), the
id the page is current up to, where listed products now sit, and the words
``live-pages.js`` shows, translated for the reader.

The pages follow the dashboard's socket (``WEBSOCKET_PATH``) and its frames:
nothing here builds a frame, and the product pages import nothing of the live
feed. A frame only says which product changed; the page then asks the server
for itself again, rendered for its reader, so every value it shows went
through the same permission and cost rules as the page it updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import FirstValue, RowNumber
from django.http import QueryDict
from django.utils.translation import gettext, ngettext

from shop_manager.conf import get_config
from shop_manager.models import ProductEvent, ProductQuerySet
from shop_manager.models.events import event_id
from shop_manager.permissions import get_policy

__all__ = [
    "LIVE_IDS_PARAM",
    "MAX_LIVE_IDS",
    "live_context",
    "live_ids",
    "live_strings",
    "positions",
]

# The list page asks where these products now sit: ?live_ids=3,14,15.
LIVE_IDS_PARAM = "live_ids"
# More than a page's worth is never needed: the script asks per batch of
# changes, and a bulk change makes it reload the list instead.
MAX_LIVE_IDS = 100
# Counts the notice words itself (plural rules differ by language); above
# this, the last form is used with the number filled in.
_COUNTED = 100
# Editors named at once on a form, for the same reason.
_EDITORS = 20


def live_context(user: Any) -> dict[str, Any]:
    """``live_socket``: the socket path for a reader the dashboard's socket
    admits (``can_watch``), else ""; ``live_last_id``: the newest logged id,
    read before the page's products so no change falls between the two (one
    committed meanwhile is replayed, and the page merely asks again)."""
    if not get_policy().can_watch(user):
        return {"live_socket": "", "live_last_id": 0}
    return {
        "live_socket": get_config()["WEBSOCKET_PATH"],
        "live_last_id": ProductEvent.objects.latest_id(),
    }


def live_ids(params: QueryDict) -> list[int]:
    """The product ids in ``?live_ids=``: at most ``MAX_LIVE_IDS``, junk left out."""
    ids: list[int] = []
    for raw in params.get(LIVE_IDS_PARAM, "").split(",")[:MAX_LIVE_IDS]:
        pk = event_id(raw.strip())
        if pk is not None and pk not in ids:
            ids.append(pk)
    return ids


def positions(
    products: ProductQuerySet, ids: Iterable[int], *, ordering: list[str]
) -> dict[int, int]:
    """Each of ``ids`` that ``products`` (the list's search and filters) still
    holds, with its 1-based place in the list's ``ordering``: one query,
    however long the list."""
    wanted = list(ids)
    if not wanted:
        return {}
    ranked = products.annotate(
        live_position=Window(RowNumber(), order_by=[_order(key) for key in ordering]),
        # The pk, as a window: a filter on a window applies after every row
        # is numbered (Django wraps the query), where a filter on the pk
        # itself would number only the rows asked about.
        live_pk=Window(FirstValue("pk"), partition_by=[F("pk")]),
    ).filter(live_pk__in=wanted)
    return dict(ranked.values_list("pk", "live_position"))


def _order(key: str) -> Any:
    return F(key[1:]).desc() if key.startswith("-") else F(key).asc()


def live_strings() -> dict[str, Any]:
    """The words live-pages.js shows; ``%(…)s`` placeholders filled in by it."""
    return {
        "status": {
            "connecting": gettext("Connecting…"),
            "live": gettext("Live: changes appear as they are saved."),
            "offline": gettext("Offline, reconnecting…"),
            "closed": gettext("Live updates stopped: you may no longer watch changes."),
        },
        "changed_by": gettext("Changed by %(actor)s"),
        "changed": gettext("Changed"),
        "deleted_by": gettext("Deleted by %(actor)s"),
        "deleted": gettext("Deleted"),
        "moved_page": gettext("Now on page %(page)s"),
        "moved": gettext(
            "Its place in this order changed: show the list again to re-sort."
        ),
        "unlisted": gettext("No longer matches this search or these filters"),
        "new_products": [
            ngettext("%(count)s new product:", "%(count)s new products:", count)
            for count in range(_COUNTED + 1)
        ],
        "show": gettext("Show"),
        "product_deleted": gettext("This product was deleted by %(actor)s."),
        "product_deleted_nobody": gettext("This product was deleted."),
        "saved_by": gettext("%(actor)s saved a new value: %(value)s"),
        "saved_by_nobody": gettext("A new value was saved: %(value)s"),
        "saved_kept": gettext(
            "%(actor)s saved %(value)s; your typing is kept, and saving asks which to keep."
        ),
        "saved_kept_nobody": gettext(
            "%(value)s was saved meanwhile; your typing is kept, and saving asks which to keep."
        ),
        "editing": [
            ngettext(
                "%(names)s is editing this product too.",
                "%(names)s are editing this product too.",
                count,
            )
            for count in range(_EDITORS + 1)
        ],
        "empty": "—",
    }


def page_number(position: int, page_size: int) -> int:
    return (position - 1) // page_size + 1


def page_numbers(found: Mapping[int, int], page_size: int) -> dict[str, int]:
    """``positions()`` as the page's script reads them: id → page number."""
    return {str(pk): page_number(place, page_size) for pk, place in found.items()}
