"""``manage.py import_products FILE [--dry-run] [--user USERNAME]``: the
import page's preview and apply from the command line."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop_manager.transfer.apply import ImportConflict, ImportRefused, import_table
from shop_manager.transfer.plan import (
    CHANGED,
    CHECKED,
    WRITTEN,
    ImportPlan,
    Progress,
    Rights,
    RowPlan,
    plan_import,
)
from shop_manager.transfer.reading import FileRefused, read_file

# What each progress stage is called.
VERBS = {CHECKED: "Checked", WRITTEN: "Wrote"}


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
        self.stdout.write(f"Read {len(table):,} rows ({', '.join(table.columns)}).")
        rights = Rights()  # The command line may do everything.
        try:
            if options["dry_run"]:
                plan = plan_import(table, rights, progress=self.progress())
                self.report(plan)
                if plan.refused:
                    raise CommandError("Rows were refused: the import would fail.")
                self.stdout.write("Dry run: nothing was written.")
                return
            result = import_table(table, rights, actor=actor, progress=self.progress())
        except FileRefused as exc:
            raise CommandError(str(exc)) from exc
        except ImportRefused as refused:
            self.report(refused.plan)
            raise CommandError("Rows were refused: nothing was imported.") from None
        except ImportConflict:
            raise CommandError(
                "Products kept changing during the import; nothing was imported."
            ) from None
        self.report(result.plan, rows=False)
        self.stdout.write(
            self.style.SUCCESS(f"Imported: {len(result.events):,} change-log entries.")
        )

    def actor(self, username: str | None) -> Any | None:
        if username is None:
            return None
        user_model = get_user_model()
        try:
            return user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None

    def progress(self) -> Progress:
        """A line per batch: what was done, how far, and how long it took."""
        started = time.monotonic()

        def show(stage: str, done: int, total: int) -> None:
            verb = VERBS.get(stage, stage)
            seconds = time.monotonic() - started
            self.stdout.write(f"{verb} {done:,}/{total:,} rows ({seconds:.1f} s).")

        return show

    def report(self, plan: ImportPlan, *, rows: bool = True) -> None:
        """The counts; with ``rows``, what the page's preview lists: the
        first rows with their changes, and the first refused rows."""
        counts = ", ".join(
            f"{count:,} {outcome}" for outcome, count in plan.counts.items()
        )
        self.stdout.write(f"Plan: {counts}.")
        if rows:
            for row in plan.listed:
                self.stdout.write(f"{_where(row)}: {row.outcome}{_changes(row)}")
            if plan.unlisted:
                self.stdout.write(f"... and {plan.unlisted:,} more rows not listed.")
        for row in plan.refusals:
            self.stderr.write(f"{_where(row)}: " + "; ".join(row.reasons))
        if plan.unshown_refusals:
            self.stderr.write(f"... and {plan.unshown_refusals:,} more refused rows.")


def _where(row: RowPlan) -> str:
    return f"Line {row.line} ({row.sku or 'no SKU'})"


def _changes(row: RowPlan) -> str:
    if row.outcome != CHANGED:
        return ""
    shown = "; ".join(
        f"{field}: {_value(old)} → {_value(new)}"
        for field, (old, new) in row.changes.items()
    )
    return f": {shown}"


def _value(value: Any) -> str:
    # As the page shows an empty value.
    return "—" if value in (None, "") else str(value)
