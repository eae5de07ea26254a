"""The export download and the two-step import page."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.contrib import messages
from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from shop_manager.listing import Listing
from shop_manager.models import Product
from shop_manager.permissions import get_policy
from shop_manager.refusals import PolicyMixin, RefusedPageMixin
from shop_manager.transfer.apply import ImportConflict, ImportRefused, import_table
from shop_manager.transfer.columns import columns_for
from shop_manager.transfer.export import aiter_chunks, export_chunks
from shop_manager.transfer.plan import ImportPlan, Rights, plan_import
from shop_manager.transfer.preview import shown_rows
from shop_manager.transfer.reading import (
    FileRefused,
    check_size,
    decode,
    max_rows,
    parse,
)

__all__ = ["ProductExportView", "ProductImportView", "csv_download"]

# Where the previewed file waits for the apply, in the user's session.
SESSION_KEY = "shop_manager_import"
TEMPLATE = "shop_manager/product_import.html"
EXPORT_FILENAME = "products.csv"


class ProductExportView(PolicyMixin, View):
    """What the list shows (its search, filters and sort, every page) as CSV,
    to who the policy lets export (``can_export``); cost columns only for who
    may see costs."""

    def test_func(self) -> bool:
        return get_policy().can_export(self.request.user)

    def get(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> StreamingHttpResponse:
        # The list's own choices, so the file always matches the page.
        with_costs = self.sees_costs()
        products = Listing.from_params(request.GET).products(with_costs=with_costs)
        return csv_download(request, products, with_costs)


def csv_download(
    request: HttpRequest, products: QuerySet[Product], with_costs: bool
) -> StreamingHttpResponse:
    """``products`` as a streamed CSV attachment (the page's and the admin's)."""
    chunks = export_chunks(products, columns_for(with_costs=with_costs))
    response = StreamingHttpResponse(
        aiter_chunks(chunks) if isinstance(request, ASGIRequest) else chunks,
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
    return response


class ProductImportView(RefusedPageMixin, View):
    """Upload → preview (nothing written) → apply (all or nothing).

    The previewed file waits in the session, never in the page: the apply
    plans it again and writes only if that plan is the one previewed.
    """

    def test_func(self) -> bool:
        policy = get_policy()
        user = self.request.user
        return policy.can_manage(user, "add") or policy.can_manage(user, "change")

    def rights(self) -> Rights:
        policy = get_policy()
        user = self.request.user
        return Rights(
            add=policy.can_manage(user, "add"),
            change=policy.can_manage(user, "change"),
            see_costs=policy.can_see_costs(user),
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page()

    def post(self, request: HttpRequest) -> HttpResponse:
        if "apply" in request.POST:
            return self.apply()
        return self.preview()

    def page(self, status: int = 200, **context: Any) -> HttpResponse:
        context.setdefault("columns", columns_for(with_costs=self.rights().see_costs))
        context.setdefault("max_rows", max_rows())
        plan = context.get("plan")
        if plan is not None:
            # A bounded list, whatever the file: the first refusals and the
            # first other rows, in file order; the rest are counted.
            context["shown_rows"] = shown_rows(
                sorted([*plan.refusals, *plan.listed], key=lambda row: row.line)
            )
        return render(self.request, TEMPLATE, context, status=status)

    def preview(self) -> HttpResponse:
        self.request.session.pop(SESSION_KEY, None)
        upload = self.request.FILES.get("file")
        if upload is None:
            return self.page(400, error=_("Choose a CSV file to import."))
        try:
            check_size(upload.size or 0)
            text = decode(upload.read())
            plan = plan_import(parse(text), self.rights())
        except FileRefused as exc:
            return self.page(400, error=str(exc))
        if plan.refused:
            return self.page(400, plan=plan, name=upload.name)
        sha256 = hashlib.sha256(text.encode()).hexdigest()
        self.request.session[SESSION_KEY] = {
            "name": upload.name,
            "text": text,
            "sha256": sha256,
        }
        return self.page(plan=plan, name=upload.name, sha256=sha256)

    def apply(self) -> HttpResponse:
        stored = self.request.session.get(SESSION_KEY)
        if not stored or stored["sha256"] != self.request.POST.get("file"):
            return self.page(
                400, error=_("That preview has expired. Upload the file again.")
            )
        started = time.monotonic()
        try:
            result = import_table(
                parse(stored["text"]),
                self.rights(),
                actor=self.request.user,
                expected_digest=self.request.POST.get("plan", ""),
            )
        except ImportRefused as refused:
            return self.refused(refused, stored)
        except FileRefused as exc:  # The settings or the user's rights changed.
            self.request.session.pop(SESSION_KEY, None)
            return self.page(400, error=str(exc))
        except ImportConflict:
            return self.page(
                409,
                error=_("Products changed during the import; nothing was imported."),
            )
        self.request.session.pop(SESSION_KEY, None)
        messages.success(self.request, summary(result.plan, time.monotonic() - started))
        return HttpResponseRedirect(reverse("shop_manager:product-list"))

    def refused(self, refused: ImportRefused, stored: dict[str, str]) -> HttpResponse:
        if refused.changed and not refused.plan.refused:
            # The file is still good: offer the new plan for applying.
            return self.page(
                409,
                plan=refused.plan,
                name=stored["name"],
                sha256=stored["sha256"],
                error=_(
                    "Products changed since the preview. Nothing was imported: "
                    "check the new preview."
                ),
            )
        self.request.session.pop(SESSION_KEY, None)
        return self.page(409, plan=refused.plan, name=stored["name"])


def summary(plan: ImportPlan, seconds: float) -> str:
    counts = plan.counts
    return _("Imported: %(created)s, %(changed)s, %(unchanged)s (%(seconds)s s).") % {
        "seconds": number_format(seconds, 1),
        "created": ngettext(
            "%d product created", "%d products created", counts["created"]
        )
        % counts["created"],
        "changed": ngettext(
            "%d product changed", "%d products changed", counts["changed"]
        )
        % counts["changed"],
        "unchanged": ngettext("%d unchanged", "%d unchanged", counts["unchanged"])
        % counts["unchanged"],
    }
