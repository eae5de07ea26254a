"""``--scenario pages``: the package's product pages beside the Django admin's
equivalent pages, same data, same server, same run.

Each page is asked for back to back by ``--concurrency`` clients logged in as
one superuser, first the package's page for ``--seconds``, then the admin's,
for ``--rounds`` rounds (so drift in the machine's load falls on both), and
the server's CPU is read around each stretch: CPU per request is the figure
least disturbed by the clients sharing the cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clients import EditLog, FormEditor, PageReader, back_to_back
from services import cpu_by_process, py_spy

__all__ = ["run_pages"]

PRODUCT_ADMIN = "/admin/shop_manager/product/"
# Products the change row edits, one set per client, away from the product
# whose detail page is measured.
EDITED_FROM = 100


@dataclass
class Side:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, logs: list[EditLog], seconds: float, cpu: float) -> None:
        for log in logs:
            self.requests += log.made
            self.errors += log.errors
            self.latencies += log.latencies
        self.seconds += seconds
        self.cpu_seconds += cpu

    @property
    def per_second(self) -> float:
        return self.requests / max(self.seconds, 1e-9)

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / max(self.requests, 1)


@dataclass
class Page:
    name: str
    # Each builds the workers for one stretch from the logged-in clients.
    ours: Callable[[list[Any]], list[Any]]
    admin: Callable[[list[Any]], list[Any]]


def pages(slugs: list[str], pks: dict[str, int]) -> list[Page]:
    detail = slugs[0]  # The product with the long history.

    def reading(path: str) -> Callable[[list[Any]], list[Any]]:
        return lambda clients: [PageReader(client, path) for client in clients]

    def editing(path: str, key: Callable[[str], Any]) -> Callable[..., list[Any]]:
        def editors(clients: list[Any]) -> list[Any]:
            mine = slugs[EDITED_FROM : EDITED_FROM + 10 * len(clients)]
            return [
                FormEditor(client, [key(s) for s in mine[n :: len(clients)]], path)
                for n, client in enumerate(clients)
            ]

        return editors

    change = f"{PRODUCT_ADMIN}{pks[detail]}/change/"
    return [
        Page("list", reading("/products/"), reading(PRODUCT_ADMIN)),
        # Same search fields for a staff user (name, SKU, supplier number);
        # the admin's third column is the price.
        Page(
            "search + sort",
            reading("/products/?q=12&sort=-price"),
            reading(f"{PRODUCT_ADMIN}?q=12&o=-3"),
        ),
        Page("detail", reading(f"/products/{detail}/"), reading(change)),
        Page("edit form GET", reading(f"/products/{detail}/edit/"), reading(change)),
        Page(
            "dashboard",
            reading("/dashboard/products/"),
            reading("/admin/shop_manager/productevent/"),
        ),
        Page(
            "change (form GET + POST)",
            editing("/products/{}/edit/", lambda slug: slug),
            editing(PRODUCT_ADMIN + "{}/change/", lambda slug: pks[slug]),
        ),
    ]


async def _stretch(
    pid: int, workers: list[Any], seconds: float, profile: str | None
) -> tuple[list[EditLog], float, float]:
    profiler = py_spy(pid, profile, seconds) if profile else None
    before = sum(cpu_by_process(pid).values())
    took = await back_to_back(workers, seconds)
    cpu = sum(cpu_by_process(pid).values()) - before
    if profiler is not None:
        profiler.wait(60)
    return [worker.log for worker in workers], took, cpu


async def run_pages(target: Any, args: Any, admin: str) -> None:
    rows = target.db.query("SELECT slug, id FROM shop_manager_product")
    pks = {
        slug: int(pk) for slug, pk in (line.split("|") for line in rows.splitlines())
    }
    clients = [await target.log_in(admin) for _ in range(args.concurrency)]
    load_before = os.getloadavg()
    started = time.time()
    results: list[tuple[str, Side, Side]] = []
    _print_header()
    for page in pages(target.slugs, pks):
        ours, theirs = Side(), Side()
        # Warm up: templates compiled, connections open, caches filled.
        for build in (page.ours, page.admin):
            await back_to_back(build(clients), 0.5)
        for round_ in range(args.rounds):
            profile = None
            if args.profile and round_ == 0:
                profile = f"{args.profile}-{page.name.split()[0]}.txt"
            for side, build, spy in (
                (ours, page.ours, profile),
                (theirs, page.admin, None),
            ):
                side.add(
                    *await _stretch(target.child.pid, build(clients), args.seconds, spy)
                )
        results.append((page.name, ours, theirs))
        _print_row(page.name, ours, theirs)
    load_after = os.getloadavg()
    print(
        f"\n{len(target.slugs):,} products, {args.concurrency} clients, "
        f"{args.rounds} rounds of {args.seconds:g} s per side; load average "
        f"{load_before[0]:.1f} → {load_after[0]:.1f}; {time.time() - started:.0f} s"
    )
    for name, ours, theirs in results:
        for label, side in (("package", ours), ("admin", theirs)):
            if side.errors:
                print(
                    f"{name}, {label}: {len(side.errors)} failed, e.g. {side.errors[0]}"
                )


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _ms(side: Side) -> str:
    p50, p99 = _pct(side.latencies, 0.5), _pct(side.latencies, 0.99)
    return f"{1000 * p50:.0f}/{1000 * p99:.0f}"


def _print_header() -> None:
    print(
        f"\n{'page':26} {'req/s':>7} {'admin':>7} {'ratio':>6} "
        f"{'p50/p99 ms':>12} {'admin':>12} "
        f"{'CPU ms/req':>10} {'admin':>7} {'ratio':>6}"
    )


def _print_row(name: str, ours: Side, theirs: Side) -> None:
    """Ratios are the package's advantage: >1 means it does better."""
    print(
        f"{name:26} {ours.per_second:7.1f} {theirs.per_second:7.1f} "
        f"{ours.per_second / max(theirs.per_second, 1e-9):6.2f} "
        f"{_ms(ours):>12} {_ms(theirs):>12} {ours.cpu_ms:10.1f} {theirs.cpu_ms:7.1f} "
        f"{theirs.cpu_ms / max(ours.cpu_ms, 1e-9):6.2f}",
        flush=True,
    )
