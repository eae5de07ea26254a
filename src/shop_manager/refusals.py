"""What a user the permission policy refuses sees.

Anonymous users are sent to log in. A signed-in user gets the package's own
403 page, in the site's layout, with a way back, rather than a bare
"403 Forbidden".
"""

from __future__ import annotations

from django.contrib.auth.mixins import UserPassesTestMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shop_manager.permissions import get_policy

__all__ = ["REFUSED_TEMPLATE", "RefusedPageMixin"]

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
