"""The chaos run (issue 13): the example project as production serves it, two
uvicorn processes on one PostgreSQL (through a TCP proxy that can cut it off)
and one redis-server of the run's own, many dashboards split between them,
changes through the product form at a steady rate, and meanwhile: Redis
killed for a few seconds, PostgreSQL cut off, one server process SIGKILLed
and restarted, and ten watching users demoted.

``run_chaos`` runs it and returns what happened; :mod:`.chaos_verdict` checks
the guarantees against it and prints the table. ``make chaos``
(``benchmarks/chaos.py``) runs it at full size, ``tests/faults/test_chaos.py``
a reduced one.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any

from benchmarks.clients import FormFields
from tests.helpers.chaos_dashboards import Dashboard, HttpOutcome
from tests.helpers.chaos_fleet import Fleet
from tests.helpers.example_site import (
    PRODUCTION_SECRET_KEY,
    ExampleServer,
    Visitor,
    manage,
)
from tests.helpers.faults import TcpProxy
from tests.helpers.servers import RedisServer, redis_server_binary

__all__ = ["ChaosPlan", "ChaosRun", "Window", "run_chaos"]

PASSWORD = "chaos-password-not-secret"
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
# Where in the run each fault starts, as a share of the changes' duration;
# memory is read just before the first one.
MEMORY_AT, REDIS_AT, POSTGRES_AT, KILL_AT, DEMOTE_AT = 0.08, 0.1, 0.3, 0.5, 0.7
# Handshakes in flight at once from all client processes.
CONNECTS_IN_FLIGHT = 50
# Dashboards per client process (at least two processes).
DASHBOARDS_PER_CLIENT = 250
# How often the run asks the client processes where their dashboards are.
POLL_SECONDS = 0.2
SESSION_COOKIE = "sessionid"  # the example project's (Django's default)
# The longest a served request waits for a database connection: the example
# project's DB_POOL_TIMEOUT (5 s from Django 6.1, 10 s before).
POOL_TIMEOUT = 10.0


@dataclass
class ChaosPlan:
    dashboards: int = 1000
    rate: float = 10.0  # changes per second, through the product form
    seconds: float = 90.0  # how long changes are made
    victims: int = 10  # watching users demoted in the run
    victim_tabs: int = 2  # each victim's dashboards, one per server
    accounts: int = 10  # staff sessions the other dashboards share
    outage: float = 5.0  # seconds Redis is dead and PostgreSQL cut off
    products: int = 40
    catch_up: float = 60.0  # bound on the wait for every dashboard to hold all
    clients: int = 0  # client processes for the dashboards; 0: one per 250

    def client_processes(self) -> int:
        return self.clients or max(2, -(-self.dashboards // DASHBOARDS_PER_CLIENT))


@dataclass
class Window:
    """A fault, from when it was done to when it was over (monotonic), and
    which servers it touched; ``log_spans`` are the byte ranges each of
    their logs grew by meanwhile."""

    fault: str
    started: float
    ended: float
    servers: tuple[int, ...]
    log_spans: dict[int, tuple[int, int]] = field(default_factory=dict)

    def overlaps(self, outcome: HttpOutcome) -> bool:
        """Whether an exchange was in progress while this fault lasted: one
        begun before it may fail too, one begun after it must not."""
        return (
            outcome.server in self.servers
            and outcome.started <= self.ended
            and outcome.started + outcome.seconds >= self.started
        )


@dataclass
class ChaosRun:
    plan: ChaosPlan
    mark: int = 0  # the newest event id before the dashboards connected
    logged: dict[int, int] = field(default_factory=dict)  # event id -> product id
    dashboards: list[Dashboard] = field(default_factory=list)
    http: list[HttpOutcome] = field(default_factory=list)  # the editor's
    saved: int = 0
    offered: int = 0
    skipped: int = 0
    windows: list[Window] = field(default_factory=list)
    # Victim username -> the newest event id once its demotion committed.
    demoted_after: dict[str, int] = field(default_factory=dict)
    victim_of: dict[int, str] = field(default_factory=dict)  # dashboard index
    rss_before: list[float] = field(default_factory=list)  # MB, per server
    rss_after: list[float] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    connect_seconds: float = 0.0
    catch_up_seconds: float | None = None  # None: not every dashboard caught up
    # When the changes began (monotonic), and the longest each client
    # process's loop was late (s): a late client misses the server's pings.
    started: float = 0.0
    client_lags: list[float] = field(default_factory=list)
    # Wall time of each part of the run, in order.
    phases: dict[str, float] = field(default_factory=dict)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Database:
    """The run's PostgreSQL database, read directly (never through the proxy)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(
            host=self.env.get("DB_HOST", "127.0.0.1"),
            port=int(self.env.get("DB_PORT", "5432")),
            user=self.env.get("POSTGRES_USER", "postgres"),
            password=self.env.get("POSTGRES_PASSWORD", ""),
            dbname=self.env["POSTGRES_DB"],
        ) as connection:
            return list(connection.execute(sql).fetchall())

    def latest_event_id(self) -> int:
        return int(
            self.rows("SELECT coalesce(max(id), 0) FROM shop_manager_productevent")[0][
                0
            ]
        )

    def events_after(self, mark: int) -> dict[int, int]:
        rows = self.rows(
            "SELECT id, product_pk FROM shop_manager_productevent "
            f"WHERE id > {int(mark)}"
        )
        return {int(event_id): int(product or 0) for event_id, product in rows}


def shell(code: str, env: dict[str, str]) -> str:
    result = manage("shell", "--no-imports", "-c", code, **env)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py shell failed:\n{result.stderr[-3000:]}")
    return result.stdout


def set_up_data(
    plan: ChaosPlan, env: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """Staff accounts, victims, an editor and the products (the bench's
    loader: one ``created`` event each): the products' slugs, and a session
    key for each account but the editor's.

    The sessions are made as ``login()`` makes them (user, backend, the
    password's session hash); the editor logs in through the login page.
    Twenty PBKDF2 logins would measure the hasher on a loaded machine.
    """
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "from importlib import import_module\n"
        "from bench_data import load_products\n"
        "from django.conf import settings\n"
        "from django.contrib import auth\n"
        "from django.contrib.auth.hashers import make_password\n"
        "User = auth.get_user_model()\n"
        # One hash for every account: hashing is what would take the time.
        f"hashed = make_password({PASSWORD!r})\n"
        f"names = [f'chaos-staff-{{n}}' for n in range({plan.accounts})]\n"
        f"names += [f'chaos-victim-{{n}}' for n in range({plan.victims})]\n"
        "User.objects.bulk_create(\n"
        "    User(username=name, password=hashed, is_staff=True)\n"
        "    for name in [*names, 'chaos-editor']\n"
        ")\n"
        "Store = import_module(settings.SESSION_ENGINE).SessionStore\n"
        "backend = next(b for b in settings.AUTHENTICATION_BACKENDS if 'Model' in b)\n"
        "sessions = {}\n"
        "for user in User.objects.filter(username__in=names):\n"
        "    session = Store()\n"
        "    session[auth.SESSION_KEY] = user._meta.pk.value_to_string(user)\n"
        "    session[auth.BACKEND_SESSION_KEY] = backend\n"
        "    session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "    session.create()\n"
        "    sessions[user.username] = session.session_key\n"
        f"slugs = load_products({plan.products})\n"
        "print(json.dumps([slugs, sessions]))\n"
    )
    slugs, sessions = json.loads(shell(code, env).splitlines()[-1])
    return list(slugs), dict(sessions)


def demote(names: list[str], env: dict[str, str]) -> dict[str, int]:
    """Take staff away from each user, one save at a time, as an admin
    would; for each, the newest event id once its save has committed."""
    code = (
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        "from shop_manager.live.feed import latest_event_id\n"
        f"for name in {names!r}:\n"
        "    user = get_user_model().objects.get(username=name)\n"
        "    user.is_staff = False\n"
        "    user.save()\n"
        "    print(json.dumps([name, latest_event_id()]), flush=True)\n"
    )
    lines = [line for line in shell(code, env).splitlines() if line.startswith("[")]
    return {name: int(after) for name, after in map(json.loads, lines)}


def log_in(server: ExampleServer, username: str) -> Visitor:
    visitor = Visitor(server)
    answer = visitor.log_in(username, PASSWORD)
    if answer.status != 302:
        raise RuntimeError(f"login as {username} answered {answer.status}")
    return visitor


class Editor:
    """A staff member changing products through the real form, on each
    server in turn (what a load balancer would do)."""

    def __init__(self, visitors: list[Visitor], slugs: list[str]) -> None:
        self.visitors = visitors
        self.slugs = slugs
        self.busy: set[str] = set()
        self.outcomes: list[HttpOutcome] = []
        # When each exchange in progress started, by change.
        self.in_progress: dict[int, float] = {}
        self.saved = 0
        self.skipped = 0

    def change(self, serial: int) -> None:
        slug = self.slugs[serial % len(self.slugs)]
        if slug in self.busy:
            self.skipped += 1
            return
        self.busy.add(slug)
        server = serial % len(self.visitors)
        visitor = self.visitors[server]
        path = f"/products/{slug}/edit/"
        try:
            started = self.in_progress[serial] = time.monotonic()
            try:
                page = visitor.get(path, timeout=15)
            except (OSError, HTTPException) as failed:
                self._failed(started, server, "form page", repr(failed))
                return
            if page.status != 200:
                self._failed(started, server, "form page", f"answered {page.status}")
                return
            form = FormFields()
            form.feed(page.body)
            # Always a new value: a post that changes nothing logs nothing.
            quantity = int(form.fields.get("quantity") or 0)
            form.fields["quantity"] = str((quantity + 1) % 10_000)
            started = self.in_progress[serial] = time.monotonic()
            try:
                posted = visitor.post(path, dict(form.fields))
            except (OSError, HTTPException) as failed:
                self._failed(started, server, "form post", repr(failed))
                return
            if posted.status != 302:
                self._failed(started, server, "form post", f"answered {posted.status}")
                return
            self.outcomes.append(
                HttpOutcome(
                    started, server, "form post", "", time.monotonic() - started
                )
            )
            self.saved += 1
        finally:
            self.in_progress.pop(serial, None)
            self.busy.discard(slug)

    def _failed(self, started: float, server: int, what: str, error: str) -> None:
        self.outcomes.append(
            HttpOutcome(started, server, what, error[:160], time.monotonic() - started)
        )


async def wait_for(
    check: Callable[[], bool], timeout: float, interval: float = 0.1
) -> bool:
    """True once ``check()`` is; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)
    return True


async def at(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


class Chaos:
    def __init__(
        self,
        plan: ChaosPlan,
        database_env: dict[str, str],
        static_root: str,
        workdir: Path,
    ) -> None:
        self.plan = plan
        self.run = ChaosRun(plan)
        self.workdir = workdir
        self.database = Database(database_env)
        self.database_env = database_env
        self.static_root = static_root
        self.pool = ThreadPoolExecutor(max_workers=32)
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is needed on PATH")
        self.redis = RedisServer(binary, workdir)
        self.proxy = TcpProxy(
            (
                database_env.get("DB_HOST", "127.0.0.1"),
                int(database_env.get("DB_PORT", "5432")),
            )
        )
        self.servers: list[ExampleServer] = []
        self.editor: Editor | None = None
        self.sessions: dict[str, str] = {}
        self.fleet: Fleet | None = None
        # The ids every allowed dashboard must hold, once the changes ended.
        self.expected: set[int] | None = None
        self._phase_started = time.monotonic()

    def env(self) -> dict[str, str]:
        """The example project's production settings, on the run's Redis."""
        return {
            **self.database_env,
            "DEBUG": "false",
            "SECRET_KEY": PRODUCTION_SECRET_KEY,
            "ALLOWED_HOSTS": "localhost",
            "HTTPS": "false",
            "REDIS_URL": self.redis.url,
            "STATIC_ROOT": self.static_root,
            # The dashboards share a few sessions, far more than 20 each.
            "SOCKETS_PER_USER": str(self.plan.dashboards),
        }

    async def thread(self, job: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, job, *args)

    async def go(self) -> ChaosRun:
        plan, run = self.plan, self.run
        self.redis.start()
        self.proxy.start()
        self.mark_phase()
        try:
            slugs, self.sessions = await self.thread(set_up_data, plan, self.env())
            self.mark_phase("data")
            served = {**self.env(), "DB_PORT": str(self.proxy.port)}
            self.servers = [
                ExampleServer(served, self.workdir / f"server-{name}") for name in "ab"
            ]
            run.logs = [server.log_path for server in self.servers]
            await asyncio.gather(*(self.thread(s.start) for s in self.servers))
            self.mark_phase("servers started")
            return await self._drive(slugs)
        finally:
            for server in self.servers:
                server.stop()
            if self.redis.running():
                self.redis.stop()
            self.proxy.close()
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def _drive(self, slugs: list[str]) -> ChaosRun:
        plan, run = self.plan, self.run
        cookies = {
            name: f"{SESSION_COOKIE}={key}" for name, key in self.sessions.items()
        }
        victims = [f"chaos-victim-{n}" for n in range(plan.victims)]
        editor_a = await self.thread(log_in, self.servers[0], "chaos-editor")
        editor_b = Visitor(self.servers[1])
        editor_b.cookies = editor_a.cookies
        editor = self.editor = Editor([editor_a, editor_b], slugs)

        run.mark = self.database.latest_event_id()
        run.dashboards = self._dashboards(cookies, victims)
        fleet = self.fleet = Fleet(
            run.dashboards, plan.client_processes(), CONNECTS_IN_FLIGHT
        )
        await self.thread(fleet.start)
        follow = asyncio.create_task(self._follow(fleet))
        try:
            started = time.monotonic()
            connected = await wait_for(
                lambda: all(d.first_frame for d in run.dashboards),
                30 + plan.dashboards / 20,
            )
            if not connected:
                raise RuntimeError(
                    f"only {sum(d.first_frame for d in run.dashboards)} of "
                    f"{plan.dashboards} dashboards connected"
                )
            run.connect_seconds = time.monotonic() - started
            self.mark_phase("dashboards connected")
            t0 = run.started = time.monotonic()
            await asyncio.gather(self._changes(editor, t0), self._faults(t0))
            self.mark_phase("changes and faults")
            run.http = editor.outcomes
            run.saved, run.skipped = editor.saved, editor.skipped
            await self._settle()
            self.mark_phase("caught up, memory read")
        finally:
            follow.cancel()
            await asyncio.wait({follow})
            run.dashboards = await self.thread(fleet.stop)
            run.client_lags = fleet.lags
            self.mark_phase("dashboards closed")
        run.logged = self.database.events_after(run.mark)
        return run

    async def _follow(self, fleet: Fleet) -> None:
        """Keep the run's mirrors of the dashboards current."""
        while True:
            await self.thread(fleet.poll, self.expected)
            await asyncio.sleep(POLL_SECONDS)

    def _dashboards(
        self, cookies: dict[str, str], victims: list[str]
    ) -> list[Dashboard]:
        plan, run = self.plan, self.run
        homes: list[tuple[str, int]] = [
            (victim, tab % 2) for victim in victims for tab in range(plan.victim_tabs)
        ]
        others = plan.dashboards - len(homes)
        homes += [(f"chaos-staff-{n % plan.accounts}", n % 2) for n in range(others)]
        dashboards = []
        for index, (user, server) in enumerate(homes):
            dashboard = Dashboard(
                index=index,
                server=server,
                url=f"ws://127.0.0.1:{self.servers[server].port}/ws/products/",
                origin="http://localhost",
                cookie=cookies[user],
                synced=run.mark,
                victim=user in victims,
            )
            if dashboard.victim:
                run.victim_of[index] = user
            dashboards.append(dashboard)
        return dashboards

    async def _changes(self, editor: Editor, t0: float) -> None:
        """Open loop: a change starts every 1/rate s, whatever the last did."""
        count = int(self.plan.rate * self.plan.seconds)
        self.run.offered = count
        jobs = []
        for serial in range(count):
            await at(t0 + serial / self.plan.rate)
            jobs.append(asyncio.ensure_future(self.thread(editor.change, serial)))
        await asyncio.gather(*jobs)

    async def _faults(self, t0: float) -> None:
        seconds, outage = self.plan.seconds, self.plan.outage
        await at(t0 + MEMORY_AT * seconds)
        self.run.rss_before = [rss_mb(self._pid(s)) for s in range(len(self.servers))]

        async def redis_dead() -> None:
            self.redis.kill()
            await asyncio.sleep(outage)
            await self.thread(self.redis.start)

        async def postgres_cut() -> None:
            self.proxy.cut()
            await asyncio.sleep(outage)
            self.proxy.restore()

        async def server_killed() -> None:
            self.servers[1].kill()
            await self.thread(self.servers[1].start)

        windows = [
            await self._window(REDIS_AT, t0, "Redis killed", (0, 1), redis_dead),
            await self._window(
                POSTGRES_AT, t0, "PostgreSQL cut off", (0, 1), postgres_cut
            ),
            await self._window(KILL_AT, t0, "server b SIGKILLed", (1,), server_killed),
        ]
        await at(t0 + DEMOTE_AT * seconds)
        victims = sorted(set(self.run.victim_of.values()))
        self.run.demoted_after = await self.thread(demote, victims, self.env())
        await asyncio.gather(*windows)

    async def _window(
        self,
        share: float,
        t0: float,
        fault: str,
        servers: tuple[int, ...],
        do: Callable[[], Awaitable[None]],
    ) -> asyncio.Task[None]:
        """Do the fault at its time; the task that closes its log spans."""
        await at(t0 + share * self.plan.seconds)
        sizes = [self._log_size(s) for s in servers]
        window = Window(fault, time.monotonic(), 0.0, servers)
        self.run.windows.append(window)
        await do()
        window.ended = time.monotonic()

        async def close_spans() -> None:
            # A server's tracebacks for work begun in the outage may come
            # after it: a request waits up to the pool's timeout for a
            # connection. The span ends once that bound has passed and every
            # exchange begun inside has been answered.
            await at(window.ended + POOL_TIMEOUT)
            await wait_for(lambda: not self._begun_before(window.ended), 30)
            window.log_spans = {
                s: (size, self._log_size(s))
                for s, size in zip(servers, sizes, strict=True)
            }

        return asyncio.create_task(close_spans())

    def _begun_before(self, moment: float) -> bool:
        """Whether an exchange begun before ``moment`` is still unanswered."""
        editor = self.editor
        if editor is not None and any(
            started <= moment for started in list(editor.in_progress.values())
        ):
            return True
        return any(
            d.connecting is not None and d.connecting <= moment
            for d in self.run.dashboards
        )

    async def _settle(self) -> None:
        """Wait (bounded) for every dashboard still allowed to hold every
        logged event and every victim's to be closed; then for the servers'
        memory to stop moving."""
        run = self.run
        self.expected = set(self.database.events_after(run.mark))
        allowed = [d for d in run.dashboards if not d.victim]
        holding = self.fleet.holding if self.fleet is not None else {}
        started = time.monotonic()
        if await wait_for(
            lambda: (
                all(holding.get(d.index) for d in allowed)
                and all(d.forbidden for d in run.dashboards if d.victim)
            ),
            self.plan.catch_up,
        ):
            run.catch_up_seconds = time.monotonic() - started
        readings = [self._rss_all()]
        for _ in range(5):  # Until two readings a second apart agree.
            await asyncio.sleep(1)
            readings.append(self._rss_all())
            if all(
                abs(a - b) <= 0.01 * b
                for a, b in zip(readings[-1], readings[-2], strict=True)
            ):
                break
        run.rss_after = readings[-1]

    def mark_phase(self, done: str = "") -> None:
        now = time.monotonic()
        if done:
            self.run.phases[done] = now - self._phase_started
        self._phase_started = now

    def _rss_all(self) -> list[float]:
        return [rss_mb(self._pid(s)) for s in range(len(self.servers))]

    def _pid(self, server: int) -> int:
        process = self.servers[server].process
        assert process is not None
        return process.pid

    def _log_size(self, server: int) -> int:
        try:
            return os.path.getsize(self.servers[server].log_path)
        except OSError:
            return 0


def run_chaos(
    plan: ChaosPlan, database_env: dict[str, str], static_root: str, workdir: Path
) -> ChaosRun:
    """Run the chaos scenario on a migrated, empty example-project database
    (``database_env``: the example project's POSTGRES_* / DB_* variables)."""
    import resource

    # A server's thousand sockets need more descriptors than the usual 1,024
    # (the servers inherit this process's limit; the clients raise their own).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    return asyncio.run(Chaos(plan, database_env, static_root, workdir).go())
