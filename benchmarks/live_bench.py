"""Live engine vs a bare websocket server, driven by the same client.

    python benchmarks/live_bench.py                      # what `make bench` runs
    python benchmarks/live_bench.py --scenario idle      # 5,000 idle sockets, 60 s
    python benchmarks/live_bench.py --scenario burst     # changes back to back
    python benchmarks/live_bench.py --workers 2          # uvicorn --workers 2
    python benchmarks/live_bench.py --scenario pages     # pages vs a bare view, in process
    python benchmarks/live_bench.py --scenario pages --served   # served, vs the admin
    python benchmarks/live_bench.py --scenario live-pages   # list pages and edit forms

Starts its own PostgreSQL database (uniquely named, dropped at the end), its
own redis-server on a free port, the example project under uvicorn (or
daphne), and the ceiling (benchmarks/ceiling_server.py). Staff users log in
through the real login page; changes go through the real product form.
Prints each figure for Django, for the ceiling and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import queue
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clients import (
    FormEditor,
    Publisher,
    SocketPlan,
    SocketReport,
    at_rate,
    back_to_back,
    run_sockets,
)
from figures import Result, add_edits, fmt, metrics, tally
from live_pages import run_live_pages
from pages import run_pages
from services import (
    ROOT,
    Child,
    Database,
    Redis,
    cpu_by_process,
    free_port,
    peak_rss_mb,
    port_open,
    py_spy,
    wait_until,
)

PASSWORD = "bench-password-not-secret"
# The superuser the pages scenario browses as (the admin needs one).
ADMIN = "bench-admin"
CEILING_CHANNEL = "bench-ceiling"
# Seconds after the last change for the last frames to arrive.
DRAIN = 5.0
# Used when the ceiling runs alone (--only ceiling): a typical event frame.
SAMPLE_FRAME = {
    "type": "event",
    "id": 1,
    "action": "updated",
    "time": "2026-11-26T02:41:07.512993+00:00",
    "time_display": "2026-11-26 02:41",
    "actor": "bench-staff-0",
    "product": {
        "id": 1,
        "name": "Bench product 0",
        "slug": "bench-product-0",
        "url": "/products/bench-product-0/",
        "sku": "",
        "price": "1.00",
        "quantity": 7,
        "low_stock": False,
    },
    "changes": {"quantity": [6, 7]},
    "headline": "bench-staff-0 updated Bench product 0",
}


@dataclass
class Load:
    name: str
    sockets: int
    rate: float  # changes/s; 0 = back to back
    seconds: float
    idle: bool = False


class Target:
    """Something the socket plan connects to: the example project or the ceiling."""

    name: str
    child: Child
    port: int

    def socket_url(self) -> str:
        raise NotImplementedError

    async def editors(self, count: int) -> list[Any]:
        raise NotImplementedError

    def expected_ids(self, editors: list[Any]) -> set[int]:
        raise NotImplementedError

    def mark(self) -> None:
        """Remember where the change log stands before a load."""

    async def close(self) -> None:
        """Release the editors' connections."""


class DjangoTarget(Target):
    def __init__(self, args: Any, workdir: Path, redis: Redis, db: Database) -> None:
        self.name = "django"
        self.args = args
        self.db = db
        self.password = PASSWORD
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        static = workdir / "static"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "PYTHONPATH": str(ROOT / "example_project"),
            "DEBUG": "false",
            "HTTPS": "false",
            "SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "POSTGRES_DB": db.name,
            "REDIS_URL": redis.url,
            "STATIC_ROOT": str(static),
            "PYTHONUNBUFFERED": "1",
        }
        if args.conn_max_age is not None:
            self.env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
        self.env["DB_POOL"] = "true" if args.db_pool else "false"
        self.staff = max(1, min(args.staff, args.sockets_max))
        # The sockets share a few accounts (one session each), so each
        # account holds far more sockets than SOCKETS_PER_USER's 20.
        self.env["SOCKETS_PER_USER"] = str(args.sockets_max)
        self.slugs = self._set_up_data()
        self.child = Child("django", self._command(), self.env, workdir / "django.log")
        wait_until(self._answers, 60, "the example project")
        self.last_id = 0
        self._clients: list[Any] = []

    def manage(self, *command: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT / "example_project",
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def _set_up_data(self) -> list[str]:
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")
        # Products in bulk (benchmarks/bench_data.py); one superuser for the
        # admin pages the pages scenario compares with.
        script = (
            "import json, sys\n"
            f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
            "from bench_data import load_products\n"
            "from django.contrib.auth import get_user_model\n"
            "users = get_user_model().objects\n"
            f"for n in range({self.staff + 4}):\n"
            f"    users.create_user(f'bench-staff-{{n}}', password={PASSWORD!r}, is_staff=True)\n"
            f"users.create_superuser({ADMIN!r}, password={PASSWORD!r})\n"
            f"slugs = load_products({self.args.products}, history={self.args.history})\n"
            "print(json.dumps(slugs))\n"
        )
        return list(json.loads(self.manage("shell", "-c", script).splitlines()[-1]))

    def _command(self) -> list[str]:
        app = "example_project.asgi:application"
        if self.args.server == "daphne":
            return [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                app,
            ]
        command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--ws", self.args.ws]
        command += ["--log-level", "warning", "--no-access-log", "--backlog", "4096"]
        if self.args.ws in {"websockets", "websockets-sansio"}:
            command += ["--ws-per-message-deflate", "false"]
        if self.args.workers > 1:
            command += ["--workers", str(self.args.workers)]
        return command

    def _answers(self) -> bool:
        self.child.check_alive()
        return port_open(self.port)

    async def log_in(self, username: str) -> Any:
        import httpx

        client = httpx.AsyncClient(base_url=self.base, timeout=30, trust_env=False)
        await client.get("/accounts/login/")
        answer = await client.post(
            "/accounts/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
            headers={"Referer": f"{self.base}/accounts/login/"},
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login as {username} answered {answer.status_code}")
        self._clients.append(client)
        return client

    async def socket_cookies(self) -> list[str]:
        """One session per staff user, each logged in through the login page;
        sockets share them round-robin, as a user's tabs share one session."""
        cookies = []
        for n in range(self.staff):
            client = await self.log_in(f"bench-staff-{n}")
            cookies.append("; ".join(f"{k}={v}" for k, v in client.cookies.items()))
        return cookies

    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/products/"

    async def editors(self, count: int) -> list[Any]:
        # The first --changed-products products (all of them by default).
        slugs = self.slugs[: self.args.changed_products or None]
        share = max(1, len(slugs) // count)
        return [
            FormEditor(
                await self.log_in(f"bench-staff-{self.staff + n}"),
                slugs[n * share : (n + 1) * share],
                as_a_person=self.args.cycle == "person",
            )
            for n in range(count)
        ]

    def mark(self) -> None:
        self.last_id = int(
            self.db.query("SELECT coalesce(max(id), 0) FROM shop_manager_productevent")
        )

    def expected_ids(self, editors: list[Any]) -> set[int]:
        rows = self.db.query(
            f"SELECT id FROM shop_manager_productevent WHERE id > {self.last_id}"
        )
        return {int(line) for line in rows.split()}

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients = []


class CeilingTarget(Target):
    def __init__(self, workdir: Path, redis: Redis) -> None:
        self.name = "ceiling"
        self.redis = redis
        self.port = free_port()
        command = [sys.executable, str(ROOT / "benchmarks" / "ceiling_server.py")]
        command += ["--port", str(self.port), "--redis", redis.url]
        self.child = Child(
            "ceiling", command, dict(os.environ), workdir / "ceiling.log"
        )
        wait_until(
            lambda: self.child.check_alive() or port_open(self.port), 30, "ceiling"
        )
        time.sleep(0.5)  # Subscribed by now.
        self.sample: dict[str, Any] = dict(SAMPLE_FRAME)
        self._redis: Any = None

    async def socket_cookies(self) -> list[str]:
        return [""]

    def socket_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def editors(self, count: int) -> list[Any]:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self.redis.url)
        return [Publisher(self._redis, CEILING_CHANNEL, self.sample)]

    def expected_ids(self, editors: list[Any]) -> set[int]:
        return set(range(1, editors[0].log.made + 1))

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def open_sockets(
    target: Target, cookies: list[str], load: Load, processes: int, end_at: float
) -> tuple[list[Any], Any, Any]:
    """Worker processes opening ``load.sockets``; they close at the shared
    ``end`` time (an upper bound now, set once all have connected)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    end = context.Value("d", end_at)
    go_at = time.time() + 3.0  # Every worker process has started by then.
    workers = []
    for n in range(processes):
        count = load.sockets // processes + (n < load.sockets % processes)
        plan = SocketPlan(
            target.socket_url(),
            f"http://127.0.0.1:{target.port}",
            cookies,
            count,
            go_at,
            end_at,
        )
        worker = context.Process(target=run_sockets, args=(plan, end, results))
        worker.start()
        workers.append(worker)
    return workers, results, end


async def run_load(
    target: Target, load: Load, args: Any, offered_rate: float | None = None
) -> Result:
    result = Result(sockets=load.sockets)
    cookies = await target.socket_cookies()
    editors = await target.editors(
        args.editors if load.rate == 0 and offered_rate is None else 1
    )
    target.mark()
    # Connect (bounded), settle, change for load.seconds, drain, close.
    connect_budget = 30 + load.sockets / 50
    end_at = time.time() + 3 + connect_budget + 1 + load.seconds + DRAIN
    workers, results, end = open_sockets(
        target, cookies, load, args.client_processes, end_at
    )
    # Each worker says when its sockets have opened (or failed).
    reports: list[SocketReport] = []
    connected = 0
    while connected < len(workers) and time.time() < end_at - load.seconds - DRAIN:
        try:
            item = await asyncio.to_thread(results.get, True, 1.0)
        except queue.Empty:
            continue
        if isinstance(item, SocketReport):
            reports.append(item)
        connected += 1
    end_at = time.time() + 1 + load.seconds + (1 if load.idle else 0) + DRAIN
    end.value = end_at
    await asyncio.sleep(1.0)
    profiler = None
    if args.profile and isinstance(target, DjangoTarget):
        # Collapsed stacks over the change window.
        out = f"{args.profile}-{load.sockets}.txt"
        profiler = py_spy(target.child.pid, out, load.seconds)
    cpu_before = cpu_by_process(target.child.pid)
    window_start = time.perf_counter()
    if load.idle:
        await asyncio.sleep(max(0.0, end_at - DRAIN - time.time()))
        result.change_seconds = await at_rate(
            editors[0], 1, 1
        )  # One change at the end.
    elif load.rate:
        result.change_seconds = await at_rate(editors[0], load.rate, load.seconds)
    elif offered_rate is not None:
        result.change_seconds = await at_rate(editors[0], offered_rate, load.seconds)
    else:
        result.change_seconds = await back_to_back(editors, load.seconds)
    # Changes that finished late still get DRAIN seconds to arrive.
    end_at = max(end_at, time.time() + DRAIN)
    end.value = end_at
    await asyncio.sleep(max(0.0, end_at - time.time() - 0.5))
    if profiler is not None:
        await asyncio.to_thread(profiler.wait, 60)
    cpu_after = cpu_by_process(target.child.pid)
    result.window_seconds = time.perf_counter() - window_start
    result.rss_mb = peak_rss_mb(target.child.pid)
    while len(reports) < len(workers):
        item = await asyncio.to_thread(results.get, True, 120)
        if isinstance(item, SocketReport):
            reports.append(item)
    for worker in workers:
        worker.join(timeout=30)
    result.cpu_per_process = [
        cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after
    ]
    result.cpu_seconds = sum(result.cpu_per_process)
    add_edits(result, editors)
    tally(result, reports, target.expected_ids(editors))
    await target.close()
    return result


# What one "change" is for Django (--cycle).
CYCLES = {
    "form": "form GET+POST",
    "person": "detail GET, form GET+POST, the redirect's GET",
}


def print_table(
    load: Load, django: Result | None, ceiling: Result | None, cycle: str = "form"
) -> None:
    print(f"\n== {load.name}: {load.sockets} sockets, ", end="")
    if load.idle:
        print(f"idle {load.seconds:.0f} s, then one change")
    elif load.rate:
        print(f"{load.rate:g} changes/s for {load.seconds:.0f} s")
    else:
        print(f"changes back to back for {load.seconds:.0f} s")
    print(f"   (change = {CYCLES[cycle]} for Django, PUBLISH for the ceiling)")
    rows_d = metrics(django) if django else {}
    rows_c = metrics(ceiling) if ceiling else {}
    names = list(rows_d or rows_c)
    print(f"{'metric':40} {'django':>12} {'ceiling':>12} {'ratio':>8}")
    for name in names:
        d, c = rows_d.get(name), rows_c.get(name)
        ratio = f"{d / c:8.2f}" if d is not None and c else ""
        print(f"{name:40} {fmt(d):>12} {fmt(c):>12} {ratio:>8}")
    for label, result in (("django", django), ("ceiling", ceiling)):
        if result and result.failures:
            print(
                f"{label}: {len(result.failures)} sockets failed, e.g. {result.failures[0]}"
            )
        if result and result.edit.errors:
            print(
                f"{label}: {len(result.edit.errors)} changes failed, e.g. {result.edit.errors[0]}"
            )
    sys.stdout.flush()


def loads(args: Any) -> list[Load]:
    if args.scenario == "idle":
        return [Load("idle", args.sockets or 5000, 0, args.seconds or 60, idle=True)]
    if args.scenario == "burst":
        return [Load("back to back", args.sockets or 1000, 0, args.seconds or 20)]
    if args.scenario == "live-pages":
        # The reference: dashboards alone, before the live pages (live_pages.py).
        name = f"{args.sockets or 1000:,} dashboards"
        return [Load(name, args.sockets or 1000, args.rate, args.seconds or 20)]
    if args.sockets:
        return [Load("custom", args.sockets, args.rate, args.seconds or 20)]
    seconds = args.seconds or 20
    return [
        Load("1,000 dashboards", 1000, args.rate, seconds),
        Load("100 dashboards", 100, args.rate, seconds),
    ]


async def bench(args: Any, workdir: Path) -> None:
    runs = loads(args)
    args.sockets_max = max(load.sockets for load in runs)
    if args.scenario == "live-pages":
        # The list pages stay open while forms and plain sockets come and go.
        args.sockets_max += args.list_pages + max(args.forms, args.scale_forms)
    redis = Redis(workdir)
    db: Database | None = None
    try:
        django_results: dict[str, Result] = {}
        if args.scenario == "pages":
            # HTTP only: the package's pages and the admin's, one server.
            db = Database()
            django = DjangoTarget(args, workdir, redis, db)
            try:
                await run_pages(django, args, ADMIN)
                await django.close()
            finally:
                django.child.stop()
            return
        if args.scenario == "live-pages":
            # One server process for both phases; no ceiling (the reference
            # is the dashboards-only phase of the same run).
            db = Database()
            django = DjangoTarget(args, workdir, redis, db)
            try:
                load = runs[0]
                args.seconds = load.seconds
                reference = await run_load(django, load, args)
                print_table(load, reference, None, args.cycle)
                await run_live_pages(django, redis, args, reference, load.name)
            finally:
                django.child.stop()
            return
        if args.only != "ceiling":
            db = Database()
            django = DjangoTarget(args, workdir, redis, db)
            try:
                for load in runs:
                    django_results[load.name] = await run_load(django, load, args)
                    print_table(load, django_results[load.name], None, args.cycle)
            finally:
                django.child.stop()
        if args.only == "django":
            return
        ceiling = CeilingTarget(workdir, redis)
        try:
            for load in runs:
                d = django_results.get(load.name)
                if d and d.sample_frame:
                    ceiling.sample = json.loads(d.sample_frame)
                offered = None
                if not load.rate and not load.idle and d:
                    # Back to back: offer the ceiling what Django achieved.
                    offered = d.changes / max(d.change_seconds, 1e-9)
                elif not load.rate and not load.idle:
                    offered = 500.0
                c = await run_load(ceiling, load, args, offered_rate=offered)
                print_table(load, d, c, args.cycle)
        finally:
            ceiling.child.stop()
    finally:
        redis.stop()
        if db is not None:
            db.drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        choices=["rate", "idle", "burst", "pages", "live-pages"],
        default="rate",
    )
    parser.add_argument("--sockets", type=int, default=0, help="one load of this many")
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument(
        "--ws",
        choices=["websockets", "websockets-sansio", "wsproto"],
        default="websockets-sansio",
        help="uvicorn's websocket implementation",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn --workers")
    parser.add_argument("--only", choices=["django", "ceiling"])
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="py-spy the Django server during each load: PREFIX-<sockets>.txt",
    )
    parser.add_argument(
        "--staff", type=int, default=10, help="staff sessions for sockets"
    )
    parser.add_argument(
        "--products", type=int, help="products loaded (40; pages: 10,000)"
    )
    parser.add_argument(
        "--history",
        type=int,
        help="changes logged for the first product (0; pages: 500)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="pages: clients at once"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="pages: package then admin, N times"
    )
    parser.add_argument(
        "--served",
        action="store_true",
        help="pages: served by uvicorn on PostgreSQL, against the admin only",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=200,
        help="pages in process: requests per page, side and round",
    )
    parser.add_argument("--editors", type=int, default=4, help="back-to-back editors")
    parser.add_argument(
        "--cycle",
        choices=sorted(CYCLES),
        default="form",
        help="a change: the form's GET and POST, or as a person makes it "
        "(the product's page, the form, its POST, the page it redirects to)",
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--conn-max-age", type=int, help="example project's DB_CONN_MAX_AGE"
    )
    parser.add_argument(
        "--changed-products",
        type=int,
        default=0,
        help="changes go to the first N products (0: all; live-pages: 40)",
    )
    live = parser.add_argument_group("live-pages")
    live.add_argument("--list-pages", type=int, default=1000, help="open list pages")
    live.add_argument("--forms", type=int, default=200, help="open edit forms")
    live.add_argument(
        "--refetch",
        type=float,
        default=1.0,
        help="share of list pages that ask for their page again after events",
    )
    live.add_argument(
        "--form-users", type=int, default=20, help="staff users the forms belong to"
    )
    live.add_argument(
        "--idle-seconds", type=float, default=30, help="each idle window (presence)"
    )
    live.add_argument(
        "--scale-forms",
        type=int,
        default=1000,
        help="forms in the idle scale check (0: none)",
    )
    parser.add_argument(
        "--no-db-pool",
        dest="db_pool",
        action="store_false",
        help="the example project without psycopg's pool (DB_POOL=false)",
    )
    args = parser.parse_args()
    pages = args.scenario == "pages"
    if pages and not args.served:
        # In one process on SQLite: no servers, no PostgreSQL (pages_inprocess.py).
        from pages_inprocess import run_in_process

        run_in_process(requests=args.requests, rounds=args.rounds)
        return
    if args.scenario == "live-pages":
        # More products than a list page shows, fewer changed than forms are
        # spread over: most changes miss the page, some hit a form's product.
        args.products = args.products or 100
        args.changed_products = args.changed_products or 40
    if args.products is None:
        args.products = 10_000 if pages else 40
    if args.history is None:
        args.history = 500 if pages else 0
    if pages and not args.seconds:
        args.seconds = 5

    # 5,000 sockets need more descriptors than the usual soft limit of 1,024;
    # the servers and client processes inherit this.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    # A SIGTERM still stops the servers and drops the database (finally:).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="sm-bench-"))
    print(f"logs in {workdir}", flush=True)
    asyncio.run(bench(args, workdir))


if __name__ == "__main__":
    main()
