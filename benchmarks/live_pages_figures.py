"""What ``--scenario live-pages`` measured (live_pages.py runs it) and the
table it prints: the live pages beside the dashboards, the re-fetches, the
presence check, the idle windows and the targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from figures import Result, fmt, metrics, pct
from page_clients import SETTLE_SECONDS, PageReport, Refetches

__all__ = [
    "REFETCH_CLIENTS",
    "LivePages",
    "Presence",
    "Repairs",
    "Window",
    "print_live_pages",
]

# The re-fetch measured alone: clients at once (live_pages.page_cost).
REFETCH_CLIENTS = 4


@dataclass
class Window:
    name: str
    forms: int
    plain: int
    seconds: float
    cpu: float
    redis_cpu: float


@dataclass
class Presence:
    forms: int = 0
    checked: int = 0
    correct: int = 0
    wrong: list[str] = field(default_factory=list)
    idle_frames: int = 0  # Presence frames the forms got in their idle window.


@dataclass
class Repairs:
    duplicates: int = 0
    ahead: int = 0
    gap_fetches: int = 0
    filled: int = 0
    fill_waits: list[float] = field(default_factory=list)

    def add(self, report: PageReport) -> None:
        self.duplicates += report.duplicates
        self.ahead += report.ahead
        self.gap_fetches += report.gap_fetches
        self.filled += report.filled
        self.fill_waits += report.fill_waits


@dataclass
class LivePages:
    """Everything phase 2 to 4 measured."""

    result: Result
    list_latencies: list[float] = field(default_factory=list)
    form_latencies: list[float] = field(default_factory=list)
    # Each event's first frame per socket, in any order: like for like with
    # the dashboards' client, which hands nothing on in id order.
    wire_latencies: list[float] = field(default_factory=list)
    # Per kind of page: what following the socket took (page_clients.Follower).
    repairs: dict[str, Repairs] = field(default_factory=dict)
    refetching: int = 0
    refetches: Refetches = field(default_factory=Refetches)
    tail_seconds: float = 0.0  # From the drain's end until the server was quiet.
    events: int = 0
    off_page: int = 0  # Updates to products not in the list page's rows.
    rows: int = 0
    forms_on_changed: int = 0
    refetch_ms: float = 0.0  # Server CPU per re-fetch, alone.
    refetch_requests: int = 0
    list_ms: float = 0.0  # The same without ?live_ids= (a reload).
    presence: Presence = field(default_factory=Presence)
    scaled: Presence = field(default_factory=Presence)
    windows: list[Window] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)


def per_thousand_forms_minute(
    with_forms: Window, without: Window
) -> tuple[float, float]:
    """Server and Redis CPU seconds per 1,000 forms per minute: the extra over
    ``without``, per form, scaled."""
    forms = with_forms.forms
    scale = 60 * 1000 / forms
    server = with_forms.cpu / with_forms.seconds - without.cpu / without.seconds
    redis = (
        with_forms.redis_cpu / with_forms.seconds - without.redis_cpu / without.seconds
    )
    return server * scale, redis * scale


def print_live_pages(
    args: Any, reference: Result, reference_name: str, run: LivePages
) -> None:
    result = run.result
    print(f"\n== live pages beside {reference_name}, one server process, same run")
    ours, theirs = metrics(result), metrics(reference)
    print(f"{'metric':44} {'dashboards':>12} {'live pages':>12} {'ratio':>8}")
    for name in theirs:
        d, c = ours.get(name), theirs.get(name)
        ratio = f"{d / c:8.2f}" if d is not None and c else ""
        print(f"{name:44} {fmt(c):>12} {fmt(d):>12} {ratio:>8}")
    # The dashboards' client takes events in any order: so is this row.
    reference_p99 = pct(reference.latencies, 0.99)
    ratio = pct(result.latencies, 0.99) / reference_p99
    wire = pct(run.wire_latencies, 0.99)
    print(
        f"{'delivery p99 as received, any order (ms)':44} "
        f"{fmt(1000 * reference_p99):>12} {fmt(1000 * wire):>12} "
        f"{wire / reference_p99:8.2f}"
    )
    lists, forms = run.repairs["list pages"], run.repairs["forms"]
    extra = [
        (
            "delivery p99, handed on in id order (ms)",
            1000 * pct(run.list_latencies, 0.99),
            1000 * pct(run.form_latencies, 0.99),
        ),
        ("event frames past a gap (dropped)", lists.ahead, forms.ahead),
        ("gap fills asked", lists.gap_fetches, forms.gap_fetches),
        ("events handed on from a gap fill", lists.filled, forms.filled),
        (
            "gap fill wait, longest (ms)",
            1000 * max(lists.fill_waits, default=0),
            1000 * max(forms.fill_waits, default=0),
        ),
        ("event frames already held (dropped)", lists.duplicates, forms.duplicates),
    ]
    print(f"\n{'live pages, by page':44} {'list pages':>12} {'forms':>12}")
    for name, list_figure, form_figure in extra:
        print(f"{name:44} {fmt(list_figure):>12} {fmt(form_figure):>12}")
    if result.failures:
        print(f"{len(result.failures)} sockets failed, e.g. {result.failures[0]}")
    if result.edit.errors:
        print(f"{len(result.edit.errors)} changes failed, e.g. {result.edit.errors[0]}")

    refetches = run.refetches
    rate = refetches.made / max(result.change_seconds, 1e-9)
    made = max(refetches.made, 1)
    print(
        "\nRe-fetches (a list page asking for itself with ?live_ids=, settled 150 ms)"
    )
    rows = [
        ("list pages re-fetching", f"{run.refetching:,} of {args.list_pages:,}"),
        ("re-fetches answered / failed", f"{refetches.made:,} / {refetches.failed:,}"),
        (
            "re-fetches/s over the changes (per page)",
            f"{rate:,.1f} ({rate / max(run.refetching, 1):.2f})",
        ),
        (
            "asked for at most (one per 150 ms per page)",
            f"{run.refetching / SETTLE_SECONDS:,.0f}/s",
        ),
        ("events per re-fetch", f"{refetches.events / made:.2f}"),
        (
            "re-fetch latency p50 / p99 (ms)",
            f"{1000 * pct(refetches.latencies, 0.5):,.0f} / "
            f"{1000 * pct(refetches.latencies, 0.99):,.0f}",
        ),
        (
            "answers the page uses for nothing",
            f"{refetches.ignored:,} ({100 * refetches.ignored / made:.0f} %)",
        ),
        (
            f"events updating a product not in the page's {run.rows} rows",
            f"{run.off_page:,} of {run.events:,} "
            f"({100 * run.off_page / max(run.events, 1):.0f} %)",
        ),
        (
            "server CPU per re-fetch, alone",
            f"{run.refetch_ms:.1f} ms ({run.refetch_requests} requests, "
            f"{REFETCH_CLIENTS} at once)",
        ),
        ("the list page without ?live_ids=, alone", f"{run.list_ms:.1f} ms"),
        ("re-fetch CPU at that rate", f"{rate * run.refetch_ms / 10:.0f} % of a core"),
        ("server busy after the drain", f"{run.tail_seconds:.0f} s"),
    ]
    for name, value in rows:
        print(f"   {name:52} {value}")
    if refetches.errors:
        print(f"   e.g. {refetches.errors[0]}")

    print("\nPresence (each form told who else has its product's form open)")
    print(
        f"   forms on a product being changed: {run.forms_on_changed} of {args.forms}"
    )
    for label, found in (("forms", run.presence), ("scale check", run.scaled)):
        if not found.forms:
            continue
        print(
            f"   {label}: {found.forms:,} forms, {found.checked:,} checked, "
            f"{found.correct:,} correct; presence frames while idle: "
            f"{found.idle_frames}"
        )
        for wrong in found.wrong:
            print(f"      {wrong}")

    print("\nIdle windows, list pages open, no changes (server / Redis CPU)")
    for window in run.windows:
        print(
            f"   {window.name:40} {100 * window.cpu / window.seconds:6.2f} % / "
            f"{100 * window.redis_cpu / window.seconds:5.2f} % of a core"
        )
    by_name = {(w.forms, w.plain): w for w in run.windows}
    none = by_name.get((0, 0))
    print("   CPU seconds per 1,000 open forms per minute (server + Redis):")
    for forms in (args.forms, args.scale_forms):
        if not forms or none is None:
            continue
        with_forms, plain = by_name[(forms, 0)], by_name.get((0, forms))
        if plain is not None:
            server, redis = per_thousand_forms_minute(with_forms, plain)
            print(
                f"      presence (forms vs plain sockets), from {forms:,}: "
                f"{server:.2f} + {redis:.2f}"
            )
        server, redis = per_thousand_forms_minute(with_forms, none)
        print(
            f"      a form in all (forms vs none), from {forms:,}:        "
            f"{server:.2f} + {redis:.2f}"
        )

    print("\nTargets")
    presence = [run.presence] + ([run.scaled] if run.scaled.forms else [])
    checks = [
        ("every socket opened and alive at the end", result.alive == result.sockets),
        ("nothing lost (every socket every event once)", result.lost == 0),
        ("presence correct", all(p.correct == p.forms for p in presence)),
        (f"delivery p99 within 2 x dashboards' ({ratio:.2f} x)", ratio <= 2),
        (
            f"  the same, as received ({wire / reference_p99:.2f} x)",
            wire / reference_p99 <= 2,
        ),
    ]
    for name, met in checks:
        print(f"   {name:52} {'yes' if met else 'NO'}")
    print(f"load average {run.load[0]:.1f} -> {run.load[1]:.1f}", flush=True)
