"""``manage.py import_products FILE [--dry-run] [--user USERNAME]``: the
import page's preview and apply from the command line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from shop_manager.transfer.apply import ImportRefused, import_table
from shop_manager.transfer.plan import ImportPlan, Rights, plan_import
from shop_manager.transfer.reading import FileRefused, read_file

# Refused rows listed before "and N more".
SHOWN_REFUSALS = 50


class Command(BaseCommand):
    help = (
        "Import products from a CSV file, matched by SKU: all rows or none. "
        "With --dry-run, show what would change and write nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file (UTF-8, ',' or ';').")
        parser.add_argument(
            "--dry-run", action="store_true", help="Preview only; write nothing."
        )
        parser.add_argument(
            "--user",
            help="Log the changes as this user's (the change log's actor).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor(options["user"])
        try:
            with open(options["file"], "rb") as stream:
                table = read_file(stream)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        except FileRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Read {len(table.rows)} rows ({', '.join(table.columns)}).")
        rights = Rights()  # The command line may do everything.
        if options["dry_run"]:
            plan = plan_import(table, rights, progress=self.progress("Checked"))
            self.report(plan)
            if plan.refused:
                raise CommandError("Rows were refused: the import would fail.")
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            result = import_table(
                table, rights, actor=actor, progress=self.progress("Wrote")
            )
        except ImportRefused as refused:
            self.report(refused.plan)
            raise CommandError("Rows were refused: nothing was imported.") from None
        except IntegrityError as exc:
            raise CommandError(
                f"Products changed during the import; nothing was imported ({exc})."
            ) from exc
        self.report(result.plan)
        self.stdout.write(
            self.style.SUCCESS(f"Imported: {len(result.events)} change-log entries.")
        )

    def actor(self, username: str | None) -> Any | None:
        if username is None:
            return None
        user_model = get_user_model()
        try:
            return user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None

    def progress(self, verb: str) -> Any:
        def show(done: int, total: int) -> None:
            self.stdout.write(f"{verb} {done}/{total} rows.")

        return show

    def report(self, plan: ImportPlan) -> None:
        counts = ", ".join(
            f"{count} {outcome}" for outcome, count in plan.counts.items()
        )
        self.stdout.write(f"Plan: {counts}.")
        for row in plan.refused[:SHOWN_REFUSALS]:
            self.stderr.write(
                f"Line {row.line} ({row.sku or 'no SKU'}): " + "; ".join(row.reasons)
            )
        if len(plan.refused) > SHOWN_REFUSALS:
            self.stderr.write(
                f"... and {len(plan.refused) - SHOWN_REFUSALS} more refused rows."
            )
