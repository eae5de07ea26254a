"""``manage.py shop_manager_webhooks add|list|remove|rotate``: manage webhook
endpoints from the shell (the admin does the same)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop_manager.conf import get_config
from shop_manager.webhooks.models import KINDS, WebhookEndpoint
from shop_manager.webhooks.safety import UnsafeURLError, check_url
from shop_manager.webhooks.status import state_text


class Command(BaseCommand):
    help = "Add, list, remove webhook endpoints, or rotate an endpoint's secret."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        add = commands.add_parser(
            "add", help="Add an endpoint; prints its id and secret."
        )
        add.add_argument("url")
        add.add_argument("--secret", help="whsec_… (default: a new random one).")
        add.add_argument(
            "--actions",
            nargs="+",
            choices=KINDS,
            default=[],
            help="Only these actions and alerts (default: all).",
        )
        add.add_argument(
            "--with-costs",
            action="store_true",
            help="Include cost price and supplier number changes.",
        )
        add.add_argument("--description", default="")
        commands.add_parser("list", help="List endpoints and their state.")
        remove = commands.add_parser("remove", help="Delete an endpoint.")
        remove.add_argument("id", type=int)
        rotate = commands.add_parser(
            "rotate", help="New secret; the old one keeps signing for --overlap."
        )
        rotate.add_argument("id", type=int)
        rotate.add_argument("--secret", help="whsec_… (default: a new random one).")
        rotate.add_argument(
            "--overlap",
            type=float,
            default=None,
            help="Seconds the old secret still signs "
            "(default: WEBHOOK_SECRET_OVERLAP_SECONDS).",
        )

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        getattr(self, f"_{command}")(**options)

    def _add(
        self,
        *,
        url: str,
        secret: str | None,
        actions: list[str],
        with_costs: bool,
        description: str,
        **options: Any,
    ) -> None:
        try:
            check_url(url)
        except UnsafeURLError as exc:
            raise CommandError(str(exc)) from exc
        endpoint = WebhookEndpoint(
            url=url,
            actions=sorted(set(actions), key=KINDS.index),
            with_costs=with_costs,
            description=description,
        )
        if secret:
            endpoint.secret = secret
        try:
            endpoint.full_clean()
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        endpoint.save()
        self.stdout.write(f"{endpoint.pk} {endpoint.secret}")

    def _list(self, **options: Any) -> None:
        for endpoint in WebhookEndpoint.objects.order_by("pk"):
            actions = ",".join(endpoint.actions) or "all"
            self.stdout.write(
                f"{endpoint.pk}\t{endpoint.url}\t{actions}\t"
                f"after #{endpoint.cursor}\t{state_text(endpoint)}"
            )

    def _remove(self, *, id: int, **options: Any) -> None:
        deleted, _ = WebhookEndpoint.objects.filter(pk=id).delete()
        if not deleted:
            raise CommandError(f"No webhook endpoint with id {id}.")
        self.stdout.write(f"Removed endpoint {id}.")

    def _rotate(
        self, *, id: int, secret: str | None, overlap: float | None, **options: Any
    ) -> None:
        try:
            endpoint = WebhookEndpoint.objects.get(pk=id)
        except WebhookEndpoint.DoesNotExist as exc:
            raise CommandError(f"No webhook endpoint with id {id}.") from exc
        seconds = (
            get_config()["WEBHOOK_SECRET_OVERLAP_SECONDS"]
            if overlap is None
            else overlap
        )
        try:
            new = endpoint.rotate_secret(datetime.timedelta(seconds=seconds), secret)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{endpoint.pk} {new}")
