"""The live dashboard page: recent events rendered, then the socket takes over."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from shop_manager.conf import get_config
from shop_manager.live.alerts import AlertNotOpen, dismiss
from shop_manager.live.feed import page_before, recent_page
from shop_manager.live.strings import dashboard_strings
from shop_manager.models import STOCK_CONDITIONS, ProductEvent
from shop_manager.models.events import event_id
from shop_manager.money import MONEY_FIELDS, amount_template
from shop_manager.permissions import get_policy
from shop_manager.refusals import RefusedPageMixin
from shop_manager.stock_summary import (
    changes_today,
    needs_attention,
    open_alerts,
    stock_counts,
    today_ends,
)

__all__ = ["DismissAlertView", "OlderEventsView", "ProductDashboardView"]


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
        attention = needs_attention()
        context.update(
            # The tiles and the alerts panel, as they stand at page load.
            counts=stock_counts(),
            attention=attention,
            alerts=open_alerts(attention),
            changes_today=today,
            day_ends=today_ends().isoformat(),
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


class DismissAlertView(View):
    """POST ``product`` (an id) and ``condition``: take that stock alert down
    on every dashboard until the condition clears and comes back.

    For the script (``Accept: application/json``): 200 ``{"dismissed"}``,
    409 when the alert is no longer open, 400 for anything but one product id
    and one condition, 403 (JSON) for whoever may not watch the dashboard.
    A form posted without the script is sent back to the dashboard.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        wants_json = "application/json" in request.headers.get("Accept", "")
        if not get_policy().can_watch(request.user):
            return JsonResponse(
                {"error": gettext("You may not watch the dashboard.")}, status=403
            )
        products = request.POST.getlist("product")
        conditions = request.POST.getlist("condition")
        product = event_id(products[0]) if len(products) == 1 else None
        condition = conditions[0] if len(conditions) == 1 else None
        if product is None or condition not in STOCK_CONDITIONS:
            return JsonResponse(
                {"error": gettext("Name one product id and one stock condition.")},
                status=400,
            )
        try:
            dismissed = dismiss(product, condition, request.user)
        except AlertNotOpen:
            if not wants_json:
                return redirect(reverse("shop_manager:product-dashboard"))
            return JsonResponse(
                {"error": gettext("This alert has already cleared.")}, status=409
            )
        if not wants_json:
            return redirect(reverse("shop_manager:product-dashboard"))
        return JsonResponse({"dismissed": dismissed})
