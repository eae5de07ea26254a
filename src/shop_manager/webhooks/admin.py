"""Endpoints are edited in the admin; attempts are only read. Imported by
``shop_manager.admin`` so the admin's autodiscovery registers both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shop_manager.readonly_admin import ReadOnlyAdminMixin
from shop_manager.webhooks.models import WebhookAttempt, WebhookEndpoint
from shop_manager.webhooks.safety import UnsafeURLError, check_url

__all__ = ["WebhookAttemptAdmin", "WebhookEndpointAdmin", "WebhookEndpointForm"]

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
        fields = ["url", "description", "secret", "actions", "with_costs", "active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeURLError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return url


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
    list_display = ["url", "active", "state", "cursor", "next_attempt_at"]
    list_filter = ["active", PausedFilter]
    search_fields = ["url", "description"]
    readonly_fields = [
        "state",
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
    actions = ["retry_now", "resume"]

    @admin.display(description=_("state"))
    def state(self, endpoint: WebhookEndpoint) -> str:
        if not endpoint.active:
            return str(_("inactive"))
        if endpoint.is_paused:
            return str(_("paused: %(error)s") % {"error": endpoint.last_error})
        if endpoint.failures:
            return str(
                _("retrying (%(failures)s failures): %(error)s")
                % {"failures": endpoint.failures, "error": endpoint.last_error}
            )
        return str(_("ok"))

    @admin.display(description=_("attempts"))
    def attempts_link(self, endpoint: WebhookEndpoint) -> SafeString:
        url = reverse("admin:shop_manager_webhookattempt_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{}</a>',
            url,
            endpoint.pk,
            _("Delivery attempts"),
        )

    @admin.action(description=_("Retry now"))
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

    @admin.action(description=_("Resume (forget the failures)"))
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
