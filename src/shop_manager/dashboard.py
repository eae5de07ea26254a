"""The live dashboard page: recent events rendered, then the socket takes over."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.dateparse import parse_datetime
from django.views.generic import TemplateView

from shop_manager.conf import get_config
from shop_manager.feed import recent_payloads
from shop_manager.models import ProductEvent
from shop_manager.permissions import get_policy
from shop_manager.refusals import RefusedPageMixin

__all__ = ["FeedRow", "ProductDashboardView"]


@dataclass(frozen=True)
class FeedRow:
    """An event as the page shows it before its script runs (or when it never
    does): the same words dashboard.js renders."""

    id: int
    action: str
    time: datetime.datetime | None
    actor: str | None
    text: str
    url: str | None
    changes: list[str]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FeedRow:
        fields = payload["changes"]
        # An update lists its fields below its headline, as the script does.
        listed = payload["action"] == ProductEvent.Action.UPDATED and bool(fields)
        return cls(
            id=payload["id"],
            action=payload["action"],
            time=parse_datetime(payload["time"]),
            actor=payload["actor"],
            text=payload["headline"] if listed else payload["message"],
            url=payload["product"]["url"],
            changes=[
                f"{field.replace('_', ' ')}: {_show(change['old'])} → "
                f"{_show(change['new'])}"
                for field, change in fields.items()
            ]
            if listed
            else [],
        )


def _show(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


class ProductDashboardView(RefusedPageMixin, TemplateView):
    template_name = "shop_manager/dashboard.html"

    def test_func(self) -> bool:
        return get_policy().can_watch(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        events = recent_payloads(
            with_costs=get_policy().can_see_costs(self.request.user)
        )
        context.update(
            initial_events=events,
            # Newest first, like the live feed.
            initial_rows=[FeedRow.from_payload(event) for event in reversed(events)],
            last_id=events[-1]["id"] if events else 0,
            socket_path=get_config()["WEBSOCKET_PATH"],
            actions=ProductEvent.Action.choices,
        )
        return context
