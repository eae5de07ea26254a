"""What one load measured, and the figures printed from it: shared by the
scenarios of live_bench.py (rate, idle, burst) and live_pages.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clients import EditLog, SocketReport

__all__ = ["Result", "add_edits", "fmt", "metrics", "pct", "tally"]


@dataclass
class Result:
    sockets: int
    opened: int = 0
    connect_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    changes: int = 0
    change_seconds: float = 0.0
    offered_rate: float = 0.0
    edit: EditLog = field(default_factory=EditLog)
    expected: int = 0
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    cpu_per_process: list[float] = field(default_factory=list)
    window_seconds: float = 0.0
    rss_mb: float = 0.0
    alive: int = 0
    sample_frame: str = ""

    @property
    def lost(self) -> int:
        return self.expected - self.delivered


def add_edits(result: Result, editors: list[Any]) -> None:
    for editor in editors:
        result.edit.made += editor.log.made
        result.edit.failed += editor.log.failed
        result.edit.skipped += editor.log.skipped
        result.edit.latencies += editor.log.latencies
        result.edit.errors += editor.log.errors
    result.changes = result.edit.made


def tally(
    result: Result, reports: list[SocketReport], expected: set[int]
) -> list[float]:
    """Add the sockets' reports to ``result``: each socket counts each of the
    ``expected`` ids once, however often it got it (lost: those it never got).
    Returns the latencies added, for a caller that splits them by kind."""
    added: list[float] = []
    for report in reports:
        result.opened += report.opened
        result.alive += report.alive_at_end
        result.failures += report.failures
        result.sample_frame = result.sample_frame or report.sample_frame
        for socket in report.received:
            seen = {}
            for event_id, latency in socket:
                if event_id in expected and event_id not in seen:
                    seen[event_id] = latency
            result.delivered += len(seen)
            added += seen.values()
    result.latencies += added
    result.expected += len(expected) * sum(report.opened for report in reports)
    starts = [r.started for r in reports]
    opens = [r.last_open for r in reports if r.opened]
    connect = max(opens) - min(starts) if opens else float("nan")
    result.connect_seconds = max(result.connect_seconds, connect)
    return added


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def metrics(result: Result) -> dict[str, float]:
    delivered_per_s = result.delivered / max(result.change_seconds, 1e-9)
    figures = {
        "sockets open": result.opened,
        "connect time (s)": result.connect_seconds,
        "alive at the end": result.alive,
        "changes made": result.changes,
        "changes/s made": result.changes / max(result.change_seconds, 1e-9),
        "failed or skipped changes": result.edit.failed + result.edit.skipped,
        "lost deliveries": result.lost,
        "delivery p50 (ms)": 1000 * pct(result.latencies, 0.50),
        "delivery p99 (ms)": 1000 * pct(result.latencies, 0.99),
        "delivery max (ms)": 1000 * max(result.latencies, default=float("nan")),
        "deliveries/s": delivered_per_s,
        "change p50 (ms)": 1000 * pct(result.edit.latencies, 0.50),
        "change p99 (ms)": 1000 * pct(result.edit.latencies, 0.99),
        "server CPU (% of a core)": 100 * result.cpu_seconds / result.window_seconds,
        "server CPU per delivery (µs)": 1e6
        * result.cpu_seconds
        / max(result.delivered, 1),
        "peak RSS (MB)": result.rss_mb,
    }
    if len(result.cpu_per_process) > 1:
        busiest = max(result.cpu_per_process)
        figures["busiest process CPU per delivery (µs)"] = (
            1e6 * busiest / max(result.delivered, 1)
        )
    return figures


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value != value:  # NaN
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
