"""Who may see a page, and what a user the permission policy refuses sees.

Anonymous users are sent to log in. A signed-in user gets the package's own
403 page, in the site's layout, with a way back, rather than a bare
"403 Forbidden".
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import UserPassesTestMixin
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from shop_manager.changelog.actors import acting_as
from shop_manager.permissions import Action, get_policy

__all__ = ["REFUSED_TEMPLATE", "PolicyMixin", "RefusedPageMixin"]

REFUSED_TEMPLATE = "shop_manager/403.html"


class RefusedPageMixin(UserPassesTestMixin):
    request: HttpRequest

    # django-stubs narrows the return to a redirect; Django takes any response.
    def handle_no_permission(self) -> HttpResponse:  # type: ignore[override]
        if not self.request.user.is_authenticated:
            return super().handle_no_permission()  # To the login page.
        return render(
            self.request,
            REFUSED_TEMPLATE,
            {"can_view_products": get_policy().can_view(self.request.user)},
            status=403,
        )


class PolicyMixin(RefusedPageMixin):
    """Ask the permission policy; anonymous users go to login, others get the
    403 page. Changes made while handling the request are the user's."""

    request: HttpRequest
    # The management action a POST needs; None means read-only view access.
    post_action: Action | None = None
    get_action: Action | None = None

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        # Changes made while handling this request are logged as this user's.
        with acting_as(request.user):
            return super().dispatch(request, *args, **kwargs)

    def test_func(self) -> bool:
        policy = get_policy()
        action = self.post_action if self.request.method == "POST" else self.get_action
        if action is None:
            return policy.can_view(self.request.user)
        return policy.can_manage(self.request.user, action)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        policy = get_policy()
        user = self.request.user
        context["can_add"] = policy.can_manage(user, "add")
        context["can_change"] = policy.can_manage(user, "change")
        context["can_delete"] = policy.can_manage(user, "delete")
        context["can_see_costs"] = self.sees_costs()
        return context

    def sees_costs(self) -> bool:
        return get_policy().can_see_costs(self.request.user)
