"""Endpoints are edited in the admin; attempts are only read. Loaded by
``ShopManagerConfig.ready()`` when the admin is installed, which registers both.

A signing secret lets whoever holds it forge webhooks, so the admin shows it
once: in the answer to adding the endpoint, and to rotating its secret (which
needs the change permission). No other page shows it (not the change page,
not the view-only page, the list or the history), and the list refuses
filters on it, which would otherwise answer guesses one character at a time.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from shop_manager.conf import get_config
from shop_manager.readonly_admin import ReadOnlyAdminMixin
from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from shop_manager.webhooks.safety import UnsafeURLError, check_url
from shop_manager.webhooks.signing import generate_secret
from shop_manager.webhooks.status import state_text

__all__ = [
    "WebhookAttemptAdmin",
    "WebhookEndpointAddForm",
    "WebhookEndpointAdmin",
    "WebhookEndpointForm",
]

SECRET_FIELDS = frozenset({"secret", "previous_secret"})
SECRETS_TEMPLATE = "admin/shop_manager/webhookendpoint/secrets.html"
ROTATE_TEMPLATE = "admin/shop_manager/webhookendpoint/rotate_secret.html"


def names_a_secret(lookup: str) -> bool:
    """Whether a list filter (``secret__startswith``,
    ``endpoint__secret``) reads a secret."""
    return not SECRET_FIELDS.isdisjoint(lookup.split(LOOKUP_SEP))


if TYPE_CHECKING:
    _EndpointForm = forms.ModelForm[WebhookEndpoint]
    _EndpointAdminBase = admin.ModelAdmin[WebhookEndpoint]
    _AttemptAdminBase = admin.ModelAdmin[WebhookAttempt]
else:
    _EndpointForm = forms.ModelForm
    _EndpointAdminBase = _AttemptAdminBase = admin.ModelAdmin


class WebhookEndpointForm(_EndpointForm):
    # Declared for assume_scheme: Django 5.2 warns (RemovedInDjango60Warning)
    # about the form field the model's URLField would make, and 6.0 assumes
    # https anyway.
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        # No secret: it is shown once, when made (added or rotated).
        fields = ["url", "description", "actions", "with_costs", "active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeURLError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


class WebhookEndpointAddForm(WebhookEndpointForm):
    secret = forms.CharField(
        label=capfirst(_("secret")),
        required=False,
        max_length=120,
        help_text=_(
            "Leave empty for a new random secret. Either way it is shown once, "
            "after saving."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    class Meta(WebhookEndpointForm.Meta):
        fields = ["url", "description", "secret", "actions", "with_costs", "active"]

    def clean_secret(self) -> str:
        # The model's validator then checks a given one.
        return str(self.cleaned_data["secret"]).strip() or generate_secret()


class PausedFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("paused", _("Paused")), ("failing", _("Retrying"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> QuerySet[WebhookEndpoint]:
        if self.value() == "paused":
            return queryset.filter(paused_at__isnull=False)
        if self.value() == "failing":
            return queryset.filter(paused_at__isnull=True, failures__gt=0)
        return queryset


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_EndpointAdminBase):
    form = WebhookEndpointForm
    add_form = WebhookEndpointAddForm
    change_form_template = "admin/shop_manager/webhookendpoint/change_form.html"
    list_display = ["url", "active", "state", "cursor", "next_attempt_at"]
    list_filter = ["active", PausedFilter]
    search_fields = ["url", "description"]
    readonly_fields = [
        "state",
        "signing_secret",
        "cursor",
        "failures",
        "failing_since",
        "next_attempt_at",
        "paused_at",
        "last_error",
        "previous_secret_until",
        "lease_owner",
        "lease_until",
        "created",
        "attempts_link",
    ]
    actions = ["retry_now", "resume", "rotate_secret"]

    def get_form(
        self,
        request: HttpRequest,
        obj: WebhookEndpoint | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[WebhookEndpoint]]:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(
        self, request: HttpRequest, obj: WebhookEndpoint | None = None
    ) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:  # Adding: the form's own secret field stands in.
            fields.remove("signing_secret")
        return fields

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Django allows a filter on any of the model's own fields from the
        # query string; on a secret, each guess would be answered.
        return not names_a_secret(lookup) and super().lookup_allowed(
            lookup, value, request
        )

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_rotate_secret"
        return [
            path(
                "<path:object_id>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name=name,
            ),
            *super().get_urls(),
        ]

    def response_add(
        self,
        request: HttpRequest,
        obj: WebhookEndpoint,
        post_url_continue: str | None = None,
    ) -> HttpResponse:
        if IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        # Django answers with a redirect: the secret would be lost, or end up
        # in a message stored in a cookie. It is shown here instead, once.
        return self._show_secrets(
            request,
            [(obj, obj.secret)],
            title=gettext("Webhook endpoint added"),
        )

    def rotate_secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None:
            raise Http404(gettext("No webhook endpoint with this id."))
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        if request.method == "POST":
            return self._rotate(request, [endpoint])
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Rotate the signing secret"),
            "original": endpoint,
            # "for 1 day": timeuntil words a span the way the admin does.
            "now": now,
            "overlap_end": now + self._overlap(),
        }
        return TemplateResponse(request, ROTATE_TEMPLATE, context)

    @admin.display(description=_("secret"))
    def signing_secret(self, endpoint: WebhookEndpoint) -> str:
        return str(
            _(
                "Hidden. It is shown once: when the endpoint is added, and "
                "after each rotation (“Rotate secret”)."
            )
        )

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> HttpResponse:
        return self._rotate(request, list(queryset))

    def _rotate(
        self, request: HttpRequest, endpoints: list[WebhookEndpoint]
    ) -> HttpResponse:
        # All or none: a secret made but never shown would be lost. Locked,
        # so that two rotations at once keep the secret between them as the
        # previous one, which still signs.
        with transaction.atomic():
            locked = WebhookEndpoint.objects.select_for_update().filter(
                pk__in=[endpoint.pk for endpoint in endpoints]
            )
            rotated = [
                (endpoint, endpoint.rotate_secret(self._overlap()))
                for endpoint in locked.order_by("pk")
            ]
            for endpoint, _secret in rotated:
                self.log_change(
                    request, endpoint, gettext("Rotated the signing secret.")
                )
        return self._show_secrets(
            request, rotated, title=gettext("Signing secrets rotated")
        )

    def _overlap(self) -> datetime.timedelta:
        return datetime.timedelta(
            seconds=get_config()["WEBHOOK_SECRET_OVERLAP_SECONDS"]
        )

    def _show_secrets(
        self,
        request: HttpRequest,
        secrets: list[tuple[WebhookEndpoint, str]],
        *,
        title: str,
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "secrets": secrets,
            "has_add_permission": self.has_add_permission(request),
        }
        response = TemplateResponse(request, SECRETS_TEMPLATE, context)
        add_never_cache_headers(response)  # no copy in any cache
        return response

    @admin.display(description=_("state"))
    def state(self, endpoint: WebhookEndpoint) -> str:
        return state_text(endpoint)

    @admin.display(description=_("attempts"))
    def attempts_link(self, endpoint: WebhookEndpoint) -> SafeString:
        url = reverse("admin:shop_manager_webhookattempt_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{}</a>',
            url,
            endpoint.pk,
            _("Delivery attempts"),
        )

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> None:
        for endpoint in queryset:
            endpoint.retry_now()
        self.message_user(
            request,
            ngettext(
                "%(count)d endpoint will be retried at once.",
                "%(count)d endpoints will be retried at once.",
                len(queryset),
            )
            % {"count": len(queryset)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resume (forget the failures)"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            endpoint.resume()
        self.message_user(
            request,
            ngettext(
                "%(count)d endpoint resumed.",
                "%(count)d endpoints resumed.",
                len(queryset),
            )
            % {"count": len(queryset)},
            messages.SUCCESS,
        )


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdminMixin, _AttemptAdminBase):
    """What the relay did: read-only, pruned after WEBHOOK_ATTEMPTS_KEEP_DAYS."""

    list_display = [
        "created",
        "endpoint",
        "event_id",
        "ok",
        "status_code",
        "duration_ms",
        "error",
    ]
    list_filter = ["ok", "endpoint"]
    search_fields = ["error"]
    list_select_related = ["endpoint"]
    ordering = ["-id"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return not names_a_secret(lookup) and super().lookup_allowed(
            lookup, value, request
        )
