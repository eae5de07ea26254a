"""The live dashboard page: recent events rendered, then the socket takes over."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from shop_manager.conf import get_config
from shop_manager.feed import recent_payloads
from shop_manager.models import ProductEvent
from shop_manager.permissions import get_policy
from shop_manager.refusals import RefusedPageMixin

__all__ = ["ProductDashboardView"]


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
            # Rendered by includes/events.html, newest first like the live feed.
            recent_events=events[::-1],
            last_id=events[-1]["id"] if events else 0,
            socket_path=get_config()["WEBSOCKET_PATH"],
            actions=ProductEvent.Action.choices,
        )
        return context
