"""The live dashboard page: recent events rendered, then the socket takes over."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from shop_manager.conf import get_config
from shop_manager.live.feed import page_before, recent_page
from shop_manager.live.strings import dashboard_strings
from shop_manager.models import ProductEvent
from shop_manager.models.events import event_id
from shop_manager.money import MONEY_FIELDS, amount_template
from shop_manager.permissions import get_policy
from shop_manager.refusals import RefusedPageMixin
from shop_manager.stock_summary import changes_today, needs_attention, stock_counts

__all__ = ["OlderEventsView", "ProductDashboardView"]


class ProductDashboardView(RefusedPageMixin, TemplateView):
    template_name = "shop_manager/dashboard.html"

    def test_func(self) -> bool:
        return get_policy().can_watch(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The page and "are there older ones?" in one query.
        events, has_older = recent_page(
            with_costs=get_policy().can_see_costs(self.request.user)
        )
        today, more_today = changes_today(events, complete=not has_older)
        context.update(
            # The tiles and the alerts panel, as they stand at page load.
            counts=stock_counts(),
            attention=needs_attention(),
            changes_today=today,
            changes_today_more=more_today,
            initial_events=events,
            # Rendered by includes/events.html, newest first like the live feed.
            recent_events=events[::-1],
            last_id=events[-1]["id"] if events else 0,
            has_older=has_older,
            strings=dashboard_strings(),
            socket_path=get_config()["WEBSOCKET_PATH"],
            # How the script writes a price it receives ("3.50" → "$3.50").
            currency_format=amount_template(),
            money_fields=" ".join(MONEY_FIELDS),
            actions=ProductEvent.Action.choices,
        )
        return context


@method_decorator(never_cache, name="dispatch")
class OlderEventsView(View):
    """``?before=<id>``: the ``DASHBOARD_EVENTS`` events before ``id`` as JSON
    (``{"before", "more", "events"}``, oldest first), for "Load older changes".

    Refuses with 403 (JSON, not a login redirect: a script asks) whoever may
    not watch the dashboard, and with 400 anything but one id in ``before``.
    """

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> JsonResponse:
        policy = get_policy()
        if not policy.can_watch(request.user):
            return JsonResponse(
                {"error": gettext("You may not watch the dashboard.")}, status=403
            )
        values = request.GET.getlist("before")
        before = event_id(values[0]) if len(values) == 1 else None
        if before is None:
            return JsonResponse(
                {"error": gettext("before must be one event id.")}, status=400
            )
        page = page_before(before, with_costs=policy.can_see_costs(request.user))
        return JsonResponse(page, json_dumps_params={"ensure_ascii": False})
