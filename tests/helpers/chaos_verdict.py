"""What a chaos run (:mod:`.chaos`) must have kept true, checked row by row,
and the table that shows it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.chaos import ChaosRun, Window
from tests.helpers.chaos_dashboards import Dashboard, HttpOutcome

__all__ = ["Row", "table", "verdict"]

# Memory after the run may exceed memory before by this share at most.
MEMORY_SLACK = 0.10
TRACEBACK = re.compile(rb"^Traceback \(most recent call last\):$", re.MULTILINE)
CHAINED = re.compile(
    r"(During handling of the above exception|The above exception was the "
    r"direct cause of the following exception)[^\n]*\n\s*$"
)
# What a server may log a traceback for while Redis or PostgreSQL is away.
OUTAGE_ERRORS = re.compile(
    r"redis|psycopg|OperationalError|InterfaceError|ConnectionError|"
    r"ConnectionRefused|ConnectionReset|PoolTimeout|TimeoutError|BrokenPipe",
    re.IGNORECASE,
)


@dataclass
class Row:
    check: str
    value: str
    ok: bool | None = None  # None: a figure, not a guarantee
    detail: str = ""


def tracebacks(path: Path) -> list[tuple[int, str]]:
    """(byte offset, the exception's line) of each traceback in a log; a
    chain ("During handling of the above exception ...") counts once, as
    its last exception."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    found: list[tuple[int, str]] = []
    for match in TRACEBACK.finditer(data):
        exception = "(cut off)"
        for line in data[match.end() :].decode(errors="replace").splitlines()[1:]:
            if line and not line[0].isspace():
                exception = line.strip()
                break
        before = data[max(0, match.start() - 200) : match.start()]
        if found and CHAINED.search(before.decode(errors="replace")):
            found[-1] = (found[-1][0], exception)
        else:
            found.append((match.start(), exception))
    return found


def inside(windows: list[Window], server: int, offset: int) -> bool:
    return any(
        server in window.log_spans
        and window.log_spans[server][0] <= offset <= window.log_spans[server][1]
        for window in windows
    )


def kinds(outcomes: list[HttpOutcome]) -> str:
    """What went wrong, most frequent first: "12 form post on a: answered 500"."""
    counts = Counter(f"{o.what} on {'ab'[o.server]}: {o.error[:60]}" for o in outcomes)
    return "; ".join(f"{n} {kind}" for kind, n in counts.most_common(4))


def close_times(run: ChaosRun, code: int) -> str:
    """When the closes with ``code`` came, in seconds after the changes began
    (1011 is uvicorn's keepalive ping timeout: a client silent for 20 s)."""
    moments = sorted(
        at - run.started
        for d in run.dashboards
        for got, at in zip(d.closes, d.closed_at, strict=True)
        if got == code
    )
    if not moments:
        return ""
    return f"; {code} from {moments[0]:.0f} s to {moments[-1]:.0f} s"


def stragglers(dashboards: list[Dashboard], logged: set[int]) -> str:
    """The first few dashboards still behind (or still open), and why."""
    behind = [d for d in dashboards if not logged <= d.seen or not logged]
    return "; ".join(
        f"#{d.index} on {'ab'[d.server]}: synced {d.synced}, "
        f"{len(logged - d.seen)} missing, {d.connects} connects, "
        f"last handshake {d.http[-1].error or 'ok' if d.http else 'none'}"
        for d in behind[:3]
    )


def verdict(run: ChaosRun) -> list[Row]:
    rows: list[Row] = []
    plan = run.plan
    logged = set(run.logged)
    victims = [d for d in run.dashboards if d.victim]
    allowed = [d for d in run.dashboards if not d.victim]
    failed_posts = sum(1 for o in run.http if o.error and o.what == "form post")
    failed = sum(1 for o in run.http if o.error)

    rows.append(
        Row(
            "dashboards (of them demoted users')",
            f"{len(run.dashboards):,} ({len(victims)}), connected in "
            f"{run.connect_seconds:.1f} s",
        )
    )
    rows.append(
        Row(
            "changes through the product form",
            f"{run.offered:,} offered, {run.saved:,} saved, {failed} failed, "
            f"{run.skipped} skipped (product busy)",
        )
    )
    rows.append(
        Row(
            "events logged; each saved change logged once",
            f"{len(logged):,} logged, {run.saved:,} saved",
            run.saved <= len(logged) <= run.saved + failed_posts,
        )
    )
    complete = [d for d in allowed if d.seen == logged]
    missing = sum(len(logged - d.seen) for d in allowed)
    foreign = sum(len(d.seen - logged) for d in allowed)
    rows.append(
        Row(
            "allowed dashboards holding every logged event exactly once",
            f"{len(complete):,} of {len(allowed):,}",
            len(complete) == len(allowed),
            f"{missing} (dashboard, event) pairs missing, {foreign} not in the log",
        )
    )
    rows.append(
        Row(
            "  events received twice, dropped by the client (replay overlap)",
            f"{sum(d.duplicates for d in allowed):,}",
        )
    )
    asked: dict[str, int] = {}
    for dashboard in run.dashboards:
        for why, count in dashboard.fetches.items():
            asked[why] = asked.get(why, 0) + count
    rows.append(
        Row(
            "  gap fills asked (fetch), by what showed the gap",
            ", ".join(f"{count:,} {why}" for why, count in sorted(asked.items()))
            or "0",
        )
    )
    codes = Counter(str(code) for d in run.dashboards for code in d.closes)
    rows.append(
        Row(
            "  reconnects after the first connect",
            f"{sum(max(0, d.connects - 1) for d in run.dashboards):,}",
            detail="closes by code: "
            + ", ".join(f"{code}: {n}" for code, n in codes.most_common())
            + close_times(run, 1011),
        )
    )
    rows.append(
        Row(
            "  client processes' loops, longest late",
            ", ".join(f"{lag:.1f} s" for lag in run.client_lags) or "-",
        )
    )
    crashed = [d for d in run.dashboards if d.crashed]
    rows.append(
        Row(
            "dashboard clients that crashed (a harness error)",
            str(len(crashed)),
            not crashed,
            "; ".join(f"#{d.index}: {d.crashed}" for d in crashed[:3]),
        )
    )
    rows.append(
        Row(
            "every dashboard caught up after the last change",
            f"in {run.catch_up_seconds:.1f} s"
            if run.catch_up_seconds is not None
            else f"not within {plan.catch_up:.0f} s",
            run.catch_up_seconds is not None,
            stragglers(allowed, logged),
        )
    )
    leaked = 0
    for dashboard in victims:
        after = run.demoted_after.get(run.victim_of[dashboard.index])
        if after is None:
            leaked += 1  # Never demoted: cannot be checked, so counts against.
        else:
            leaked += sum(1 for event_id in dashboard.seen if event_id > after)
    rows.append(
        Row(
            "demoted users' dashboards: events logged after the demotion received",
            f"{leaked} ({len(run.demoted_after)} users demoted)",
            leaked == 0 and len(run.demoted_after) == plan.victims,
        )
    )
    closed = sum(1 for d in victims if d.forbidden)
    rows.append(
        Row(
            "demoted users' dashboards closed with 4403 (or refused)",
            f"{closed} of {len(victims)}",
            closed == len(victims),
            stragglers([d for d in victims if not d.forbidden], set()),
        )
    )
    outcomes = run.http + [o for d in run.dashboards for o in d.http]
    errors = [o for o in outcomes if o.error]
    for window in run.windows:
        during = [o for o in errors if window.overlaps(o)]
        slowest = max((o.seconds for o in run.http if window.overlaps(o)), default=0.0)
        rows.append(
            Row(
                f"{window.fault}: HTTP errors meanwhile",
                f"{len(during)} in {window.ended - window.started:.1f} s; "
                f"slowest form answer {slowest:.1f} s",
                detail=kinds(during),
            )
        )
    outside = [o for o in errors if not any(w.overlaps(o) for w in run.windows)]
    rows.append(
        Row(
            "HTTP errors of exchanges no outage overlapped",
            f"{len(outside)} of {len(outcomes):,} requests and handshakes",
            not outside,
            "; ".join(
                f"{o.what} on server {'ab'[o.server]}: {o.error}" for o in outside[:3]
            ),
        )
    )
    for server, (before, after) in enumerate(
        zip(run.rss_before, run.rss_after, strict=True)
    ):
        rows.append(
            Row(
                f"server {'ab'[server]} RSS, before the faults → after settling",
                f"{before:.0f} → {after:.0f} MB ({100 * (after / before - 1):+.1f} %)",
                after <= before * (1 + MEMORY_SLACK),
            )
        )
    expected_ones, others = 0, []
    for server, path in enumerate(run.logs):
        for offset, exception in tracebacks(path):
            if inside(run.windows, server, offset) and OUTAGE_ERRORS.search(exception):
                expected_ones += 1
            else:
                others.append(f"server {'ab'[server]}: {exception}")
    rows.append(
        Row("tracebacks inside outage windows (connection errors)", str(expected_ones))
    )
    rows.append(
        Row(
            "other tracebacks in the server logs",
            str(len(others)),
            not others,
            "; ".join(others[:3]),
        )
    )
    rows.append(
        Row(
            "wall time (s)",
            ", ".join(f"{name} {seconds:.0f}" for name, seconds in run.phases.items()),
        )
    )
    return rows


def table(rows: list[Row]) -> str:
    width = max(len(row.check) for row in rows)
    value_width = max(len(row.value) for row in rows)
    lines = [f"| {'check':{width}} | {'result':{value_width}} | ok |"]
    lines.append(f"| {'-' * width} | {'-' * value_width} | -- |")
    for row in rows:
        mark = {True: "✓", False: "✗", None: ""}[row.ok]
        lines.append(f"| {row.check:{width}} | {row.value:{value_width}} | {mark:2} |")
    notes = [
        f"{'✗' if row.ok is False else '·'} {row.check.strip()}: {row.detail}"
        for row in rows
        if row.detail and row.ok is not True
    ]
    return "\n".join(lines + notes)
