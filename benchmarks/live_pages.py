"""``--scenario live-pages`` (issue 15): open live pages on one server process,
measured beside dashboards alone in the same run.

1. Dashboards (live_bench.py's ``run_load``, run by the caller): the
   reference delivery p99 and CPU per delivered event.
2. Live pages: ``--list-pages`` product lists (a ``--refetch`` fraction of
   them asking for their page again after events, as live-pages.js does)
   and ``--forms`` edit forms spread over the products (page_clients.py),
   ``--rate`` changes/s through the form. Every socket must get every event
   once; each form must be told exactly who else has its product's form
   open (checked after the changes, before any form closes).
3. Idle windows, the list pages still open, no changes: with the forms,
   with none, with as many plain sockets as forms, and the same at
   ``--scale-forms``. Forms minus plain sockets is what presence costs (its
   announcements at every heartbeat); forms minus none, what a form costs.
4. The re-fetch's own cost: its request back to back, server CPU per request.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from clients import PageReader, at_rate, back_to_back
from figures import Result, add_edits, tally
from live_pages_figures import (
    REFETCH_CLIENTS,
    LivePages,
    Presence,
    Repairs,
    Window,
    print_live_pages,
)
from page_clients import PagePlan, PageReport, PageSocket, run_page_sockets
from services import cpu_by_process, cpu_seconds, peak_rss_mb

__all__ = ["run_live_pages"]

LIST_PATH = "/products/"
# Seconds after the last change for the last frames to arrive (as run_load).
DRAIN = 5.0
# A server using less than this share of a core over a second is quiet: the
# list pages' last re-fetches are answered.
QUIET_SHARE = 0.15
QUIET_LIMIT = 120.0
# The example project's HEARTBEAT_SECONDS (the package default): presence is
# announced at each; windows start a tick after sockets open or close.
HEARTBEAT = 5.0
# The re-fetch measured alone, seconds (REFETCH_CLIENTS at once).
REFETCH_SECONDS = 5.0


@dataclass
class Group:
    """Worker processes holding one set of page sockets, closed together."""

    shares: list[list[PageSocket]]  # Each worker's sockets, in its order.
    workers: list[Any]
    results: Any
    end: Any
    reports: list[PageReport] = field(default_factory=list)

    def sockets(self) -> list[tuple[PageSocket, PageReport, int]]:
        """Each socket with its worker's report and its index there."""
        by_worker = {report.worker: report for report in self.reports}
        return [
            (spec, by_worker[worker], n)
            for worker, share in enumerate(self.shares)
            for n, spec in enumerate(share)
        ]


def spread(count: int, chosen: int) -> list[bool]:
    """``count`` flags, ``chosen`` of them set, evenly spread (so every
    client process gets its share of the re-fetching pages)."""
    return [(n + 1) * chosen // count > n * chosen // count for n in range(count)]


def spread_forms(
    count: int, products: list[int], cookies: list[int], seed: int
) -> list[PageSocket]:
    """``count`` edit forms on products drawn at random (some get several,
    some none), their users in turn."""
    rng = random.Random(seed)
    return [
        PageSocket("form", cookies[n % len(cookies)], product=rng.choice(products))
        for n in range(count)
    ]


def open_group(base: dict[str, Any], specs: list[PageSocket], processes: int) -> Group:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    end_at = time.time() + 3600  # An upper bound: close_group() ends them.
    end = context.Value("d", end_at)
    go_at = time.time() + 3.0  # Every worker process has started by then.
    shares = [specs[n::processes] for n in range(processes) if specs[n::processes]]
    workers = []
    for worker_id, share in enumerate(shares):
        plan = PagePlan(
            sockets=share, go_at=go_at, end_at=end_at, worker=worker_id, **base
        )
        worker = context.Process(target=run_page_sockets, args=(plan, end, results))
        worker.start()
        workers.append(worker)
    return Group(shares, workers, results, end)


async def connected(group: Group) -> None:
    """Until each worker says its sockets opened (or failed); bounded."""
    sockets = sum(map(len, group.shares))
    deadline = time.time() + 30 + sockets / 50
    said = 0
    while said < len(group.workers) and time.time() < deadline:
        try:
            item = await asyncio.to_thread(group.results.get, True, 1.0)
        except queue.Empty:
            continue
        if isinstance(item, PageReport):
            group.reports.append(item)
        said += 1


async def close_group(group: Group) -> list[PageReport]:
    group.end.value = time.time()
    while len(group.reports) < len(group.workers):
        item = await asyncio.to_thread(group.results.get, True, 120)
        if isinstance(item, PageReport):
            group.reports.append(item)
    for worker in group.workers:
        await asyncio.to_thread(worker.join, 30)
    return group.reports


def server_cpu(target: Any) -> float:
    return sum(cpu_by_process(target.child.pid).values())


async def quiet(target: Any, *, or_steady: bool = False) -> float:
    """Wait until the server is quiet (the last re-fetches answered), or, with
    ``or_steady``, its CPU no longer falls (the forms' joining frames sent:
    1,000 forms cost more than "quiet" idle); seconds waited."""
    started = time.perf_counter()
    last = float("inf")
    while time.perf_counter() - started < QUIET_LIMIT:
        before = server_cpu(target)
        await asyncio.sleep(1.0)
        used = server_cpu(target) - before
        if used < QUIET_SHARE or (or_steady and used > 0.9 * last):
            break
        last = used
    return time.perf_counter() - started


async def idle_window(
    name: str, target: Any, redis: Any, seconds: float, forms: int, plain: int
) -> Window:
    before, redis_before = server_cpu(target), cpu_seconds(redis.child.pid)
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    took = time.perf_counter() - started
    window = Window(
        name,
        forms,
        plain,
        took,
        server_cpu(target) - before,
        cpu_seconds(redis.child.pid) - redis_before,
    )
    print(
        f"   idle {took:.0f} s, {name}: server {100 * window.cpu / took:.2f} % "
        f"of a core, Redis {100 * window.redis_cpu / took:.2f} %",
        flush=True,
    )
    return window


def check_presence(
    group: Group, names: list[str], at: float, since: float, found: Presence
) -> None:
    """Each form's last presence frame up to ``at`` names exactly the others
    with its product's form open (each name once, sorted); ``names``: the
    display name of each cookie's user. Frames after ``since`` count as
    sent while idle (nothing changed then: none is due)."""
    sockets = group.sockets()
    open_on: dict[int, list[int]] = {}
    for n, (spec, report, index) in enumerate(sockets):
        if report.alive_sockets[index]:
            open_on.setdefault(spec.product, []).append(n)
    for n, (spec, report, index) in enumerate(sockets):
        found.forms += 1
        frames = [(when, told) for when, told in report.presence[index] if when <= at]
        found.idle_frames += sum(when > since for when, _ in frames)
        if not report.alive_sockets[index]:
            continue  # Counted among the sockets not alive at the end.
        found.checked += 1
        expected = sorted(
            {names[sockets[m][0].cookie] for m in open_on[spec.product] if m != n}
        )
        if frames and frames[-1][1] == expected:
            found.correct += 1
        elif len(found.wrong) < 5:
            told = frames[-1][1] if frames else "no presence frame"
            found.wrong.append(f"product {spec.product}: told {told}, not {expected}")


async def list_page(client: Any) -> tuple[int, list[int]]:
    """The list page as its readers got it: its last id, its rows."""
    page = await client.get(LIST_PATH)
    last = re.search(r'data-last-id="(\d+)"', page.text)
    if page.status_code != 200 or last is None:
        raise RuntimeError(f"the list page answered {page.status_code}, not live")
    rows = re.findall(r'<tr data-product-id="(\d+)"', page.text)
    return int(last.group(1)), [int(pk) for pk in rows]


def make_form_users(target: Any, count: int) -> list[str]:
    """Staff users for the forms, with full names ("Editor 3": what presence
    shows); returns their usernames."""
    usernames = [f"bench-editor-{n}" for n in range(count)]
    script = (
        "from django.contrib.auth import get_user_model\n"
        "users = get_user_model().objects\n"
        f"for n, username in enumerate({usernames!r}):\n"
        f"    users.create_user(username, password={target.password!r},\n"
        "        is_staff=True, first_name='Editor', last_name=str(n))\n"
    )
    target.manage("shell", "-c", script)
    return usernames


async def page_cost(target: Any, client: Any, path: str) -> tuple[float, int]:
    """Server CPU ms per GET of ``path``, back to back, nothing else running."""
    await back_to_back([PageReader(client, path)], 1.0)  # Warm.
    readers = [PageReader(client, path) for _ in range(REFETCH_CLIENTS)]
    before = server_cpu(target)
    await back_to_back(readers, REFETCH_SECONDS)
    cpu = server_cpu(target) - before
    made = sum(reader.log.made for reader in readers)
    return 1000 * cpu / max(made, 1), made


@dataclass
class Pages:
    """What the pages are opened with: their sessions, the list page as its
    readers got it, and who is who."""

    base: dict[str, Any]  # PagePlan's fields shared by every group.
    names: list[str]  # Each cookie's user, as presence names them.
    list_cookies: list[int]
    form_cookies: list[int]
    products: list[int]
    changed: list[int]  # The products the editor changes, in its order.
    browser: Any  # A logged-in client for the lone page requests.


async def prepare(target: Any, args: Any) -> Pages:
    browser = await target.log_in("bench-staff-0")
    after, rows = await list_page(browser)
    ids = dict(
        line.split("|")[::-1]
        for line in target.db.query("SELECT id, slug FROM shop_manager_product").split()
    )
    products = sorted(int(pk) for pk in ids.values())
    changed = [int(ids[slug]) for slug in target.slugs[: args.changed_products or None]]
    cookies = await target.socket_cookies()
    names = [f"bench-staff-{n}" for n in range(len(cookies))]
    list_cookies = list(range(len(cookies)))
    for n, username in enumerate(make_form_users(target, args.form_users)):
        client = await target.log_in(username)
        cookies.append("; ".join(f"{k}={v}" for k, v in client.cookies.items()))
        names.append(f"Editor {n}")
    base = {
        "url": target.socket_url(),
        "origin": target.base,
        "cookies": cookies,
        "after": after,
        "list_path": LIST_PATH,
        "rows": rows,
    }
    form_cookies = list(range(len(list_cookies), len(cookies)))
    return Pages(base, names, list_cookies, form_cookies, products, changed, browser)


async def under_changes(
    target: Any, args: Any, pages: Pages, run: LivePages
) -> tuple[Group, Group, set[int]]:
    """Phase 2: the pages open, changes through the form, until the server
    is quiet again; returns the groups (still open) and the logged ids."""
    run.refetching = round(args.refetch * args.list_pages)
    cookies = pages.list_cookies
    list_specs = [
        PageSocket("list", cookies[n % len(cookies)], refetch=refetch)
        for n, refetch in enumerate(spread(args.list_pages, run.refetching))
    ]
    form_specs = spread_forms(args.forms, pages.products, pages.form_cookies, 15)
    run.forms_on_changed = sum(spec.product in pages.changed for spec in form_specs)
    print(
        f"\n== live pages: {args.list_pages:,} list pages ({run.refetching:,} "
        f"re-fetching) + {args.forms} edit forms, {args.rate:g} changes/s for "
        f"{args.seconds:.0f} s",
        flush=True,
    )
    lists = open_group(pages.base, list_specs, args.client_processes)
    forms = open_group(pages.base, form_specs, 1)
    await connected(lists)
    await connected(forms)
    await asyncio.sleep(1.0)  # The forms' hellos answered.
    editors = await target.editors(1)
    target.mark()
    cpu_before = server_cpu(target)
    started = time.perf_counter()
    run.result.change_seconds = await at_rate(editors[0], args.rate, args.seconds)
    await asyncio.sleep(DRAIN)
    run.tail_seconds = await quiet(target)
    run.result.cpu_seconds = server_cpu(target) - cpu_before
    run.result.window_seconds = time.perf_counter() - started
    # The high-water mark so far: the idle windows' scale check comes later.
    run.result.rss_mb = peak_rss_mb(target.child.pid)
    add_edits(run.result, editors)
    logged = target.db.query(
        "SELECT product_pk, action FROM shop_manager_productevent "
        f"WHERE id > {target.last_id}"
    ).split()
    run.events = len(logged)
    rows = set(pages.base["rows"])
    run.rows = len(rows)
    for line in logged:
        pk, action = line.split("|")
        run.off_page += action == "updated" and int(pk) not in rows
    return lists, forms, target.expected_ids(editors)


async def idle_windows(
    target: Any, redis: Any, args: Any, pages: Pages, run: LivePages, forms: Group
) -> None:
    """Phase 3: the list pages stay open; forms, none, plain sockets."""
    window = await idle_window(
        f"list pages + {args.forms} forms",
        target,
        redis,
        args.idle_seconds,
        args.forms,
        0,
    )
    run.windows.append(window)
    at = time.time()  # Before any form closes.
    await close_group(forms)
    check_presence(forms, pages.names, at, at - window.seconds, run.presence)
    await asyncio.sleep(HEARTBEAT + 1)  # The leaves heard, a tick passed.
    run.windows.append(
        await idle_window("list pages only", target, redis, args.idle_seconds, 0, 0)
    )
    specs = [spec for share in forms.shares for spec in share]
    plain = [PageSocket("plain", spec.cookie) for spec in specs]
    run.windows.append(await with_group(target, redis, pages, plain, args, None))
    if args.scale_forms:
        more = spread_forms(args.scale_forms, pages.products, pages.form_cookies, 16)
        run.windows.append(
            await with_group(target, redis, pages, more, args, run.scaled)
        )
        plain = [PageSocket("plain", spec.cookie) for spec in more]
        run.windows.append(await with_group(target, redis, pages, plain, args, None))


async def run_live_pages(
    target: Any, redis: Any, args: Any, reference: Result, reference_name: str
) -> LivePages:
    """Phases 2 to 4, on the server ``run_load`` measured ``reference`` on."""
    load_before = os.getloadavg()[0]
    pages = await prepare(target, args)
    run = LivePages(Result(sockets=args.list_pages + args.forms))
    lists, forms, expected = await under_changes(target, args, pages, run)
    await idle_windows(target, redis, args, pages, run, forms)
    list_reports = await close_group(lists)
    run.list_latencies = tally(run.result, list_reports, expected)
    run.form_latencies = tally(run.result, forms.reports, expected)
    run.wire_latencies = first_seen(list_reports + forms.reports, expected)
    for kind, reports in (("list pages", list_reports), ("forms", forms.reports)):
        run.repairs[kind] = Repairs()
        for report in reports:
            run.repairs[kind].add(report)
            run.refetches.add(report.refetches)

    # 4. The re-fetch alone, for as many ids as a re-fetch asked about, and
    # the same page without them (a reload).
    batch = max(1, round(run.refetches.events / max(run.refetches.made, 1)))
    ids = ",".join(map(str, pages.changed[:batch]))
    run.refetch_ms, run.refetch_requests = await page_cost(
        target, pages.browser, f"{LIST_PATH}?live_ids={ids}"
    )
    run.list_ms, _ = await page_cost(target, pages.browser, LIST_PATH)
    await target.close()
    run.load = (load_before, os.getloadavg()[0])
    print_live_pages(args, reference, reference_name, run)
    return run


def first_seen(reports: list[PageReport], expected: set[int]) -> list[float]:
    """Per socket, the latency of the first frame of each expected event."""
    latencies: list[float] = []
    for report in reports:
        for frames in report.wire:
            seen: dict[int, float] = {}
            for event_id, latency in frames:
                if event_id in expected:
                    seen.setdefault(event_id, latency)
            latencies += seen.values()
    return latencies


async def with_group(
    target: Any,
    redis: Any,
    pages: Pages,
    specs: list[PageSocket],
    args: Any,
    check: Presence | None,
) -> Window:
    """An idle window with ``specs`` open beside the list pages (the forms'
    presence checked at its end into ``check``)."""
    forms = sum(spec.kind == "form" for spec in specs)
    name = f"list pages + {len(specs):,} {'forms' if forms else 'plain sockets'}"
    group = open_group(pages.base, specs, args.client_processes)
    await connected(group)
    # The forms' joining frames all sent: 1,000 forms joining took more than
    # a heartbeat, at a CPU that plateaus where the machine caps the server.
    await asyncio.sleep(3 * HEARTBEAT)
    await quiet(target, or_steady=True)
    window = await idle_window(
        name, target, redis, args.idle_seconds, forms, len(specs) - forms
    )
    at = time.time()
    await close_group(group)
    if check is not None:
        check_presence(group, pages.names, at, at - window.seconds, check)
    await asyncio.sleep(HEARTBEAT + 1)
    return window
