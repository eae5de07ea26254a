from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from shop_manager import notifiers
from shop_manager.models import Product
from tests.helpers import services
from tests.helpers.example_site import (
    PRODUCTION_SECRET_KEY,
    ExamplePostgres,
    ExampleServer,
    manage,
    migrate,
    migrated_copy,
)

TESTS = Path(__file__).parent
# Folders whose tests form a suite, and the marker each suite's tests get.
SUITES = {"security": "security", "faults": "fault"}
# Written here as well as printed, so `make test` can show every tox env's line.
COUNTS_DIR = "SHOP_MANAGER_CASE_COUNTS"
LOCMEM = {"BACKEND": "shop_manager.notifiers.locmem.LocmemNotifier"}


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Mark the suites' tests by folder; in the PostgreSQL envs, skip
    everything (fail under CI) if PostgreSQL is down."""
    for item in items:
        folder = (
            item.path.relative_to(TESTS).parts[0]
            if item.path.is_relative_to(TESTS)
            else ""
        )
        if folder in SUITES:
            item.add_marker(SUITES[folder])
    if settings.DB_BACKEND != "postgres" or services.reachable(
        *services.postgres_address()
    ):
        return
    host, port = services.postgres_address()
    message = f"PostgreSQL is not reachable at {host}:{port}"
    if services.in_ci():
        raise pytest.UsageError(f"{message}, and CI=true requires it.")
    skip = pytest.mark.skip(reason=f"{message}; start it to run the PostgreSQL env.")
    for item in items:
        item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Escape lone surrogates in captured output: the hostile-input tests log
    them on purpose, and pytest-xdist cannot send such text from a worker
    (its worker crashes, and the run with it)."""
    report: pytest.TestReport = yield
    report.sections = [
        (title, text.encode("utf-8", "backslashreplace").decode("utf-8"))
        for title, text in report.sections
    ]
    return report


@pytest.fixture(autouse=True)
def _services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        if settings.DB_BACKEND != "postgres":
            pytest.skip(
                "needs PostgreSQL: runs in the tox envs with DB_BACKEND=postgres"
            )
        services.require("PostgreSQL", services.postgres_address())
    if request.node.get_closest_marker("redis"):
        services.require("Redis", services.redis_address())


@pytest.fixture(scope="session")
def example_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project's SQLite database, migrated once per run."""
    return migrate(tmp_path_factory.mktemp("example") / "template.sqlite3")


@pytest.fixture
def example_db(example_db_template: Path, tmp_path: Path) -> str:
    """A fresh migrated example-project database for one test."""
    return str(migrated_copy(example_db_template, tmp_path / "db.sqlite3"))


@pytest.fixture(scope="session")
def example_postgres_template() -> Iterator[ExamplePostgres]:
    """The example project's schema in a PostgreSQL database of its own,
    migrated once per run and copied for each test; dropped at the end."""
    server = ExamplePostgres.from_settings(settings.DATABASES["default"])
    server.migrate_template()
    try:
        yield server
    finally:
        server.drop_template()


@pytest.fixture
def example_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """The environment that points the example project at a fresh migrated
    database on this env's backend: SQLite, or PostgreSQL (as production)
    in the PostgreSQL envs."""
    if settings.DB_BACKEND != "postgres":
        template = request.getfixturevalue("example_db_template")
        yield {"SQLITE_PATH": str(migrated_copy(template, tmp_path / "db.sqlite3"))}
        return
    server: ExamplePostgres = request.getfixturevalue("example_postgres_template")
    with server.copy() as env:
        yield env


@pytest.fixture(scope="session")
def example_static_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example project's collected static files: with DEBUG off its pages
    link the hashed names collectstatic writes, and fail without them."""
    root = str(tmp_path_factory.mktemp("example-static"))
    result = manage(
        "collectstatic",
        "--noinput",
        DEBUG="false",
        SECRET_KEY=PRODUCTION_SECRET_KEY,
        STATIC_ROOT=root,
    )
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def example_server(
    example_database: dict[str, str], example_static_root: str, tmp_path: Path
) -> Iterator[Callable[[dict[str, str]], ExampleServer]]:
    """Start the example project under uvicorn, as its container runs it,
    on a fresh database (``example_database``) with ``env`` (which may
    override how it is reached); every server started is stopped at the end."""
    servers: list[ExampleServer] = []

    def start(env: dict[str, str]) -> ExampleServer:
        full_env = {**example_database, **env, "STATIC_ROOT": example_static_root}
        server = ExampleServer(full_env, tmp_path / f"server-{len(servers)}")
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def locmem_outbox() -> Iterator[list[Any]]:
    """Notify only the locmem backend; yields ``shop_manager.notifiers.outbox``."""
    with override_settings(SHOP_MANAGER={"NOTIFIERS": {"test": LOCMEM}}):
        notifiers.outbox.clear()
        yield notifiers.outbox
        notifiers.outbox.clear()


@pytest.fixture
def make_product(db: Any) -> Any:
    def make(**fields: Any) -> Product:
        fields.setdefault("name", "Tea")
        fields.setdefault("price", Decimal("3.50"))
        fields.setdefault("quantity", 10)
        return Product.objects.create(**fields)

    return make


@pytest.fixture
def staff_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        username="staff", password="staff-pass", is_staff=True
    )


@pytest.fixture
def regular_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        username="shopper", password="shopper-pass"
    )


@pytest.fixture
def staff_client(client: Any, staff_user: Any) -> Any:
    client.force_login(staff_user)
    return client


@pytest.fixture
def regular_client(client: Any, regular_user: Any) -> Any:
    client.force_login(regular_user)
    return client


@pytest_asyncio.fixture
async def disconnect_after() -> AsyncIterator[Callable[..., None]]:
    """Register sockets to disconnect once the test ends, passed or failed."""
    sockets: list[WebsocketCommunicator] = []
    yield lambda *more: sockets.extend(more)
    for socket in sockets:
        # A socket the server closed has ended; the test asserted how.
        if not socket.future.done():
            await socket.disconnect()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """LocaleMiddleware leaves a request's language active in the thread that
    served it (the test's own, with the sync test client): a German request
    must not make the next test's labels German."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_channel_layers() -> Iterator[None]:
    """Give every test (each on its own event loop) new channel layer
    instances: channels-redis keeps per-channel asyncio locks that a loop
    closed mid-receive leaves held, which broke the next test's receive."""
    yield
    channel_layers.backends.clear()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say how many security and fault cases ran, on a line of its own that
    does not look like pytest's summary."""
    outcomes: dict[str, dict[str, set[str]]] = {suite: {} for suite in SUITES.values()}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            for suite, seen in outcomes.items():
                if suite in getattr(report, "keywords", {}):
                    seen.setdefault(outcome, set()).add(report.nodeid)
    totals = {
        suite: len(set().union(*seen.values())) for suite, seen in outcomes.items()
    }
    if not any(totals.values()):
        return
    details = "; ".join(
        f"{suite}: "
        + ", ".join(f"{len(ids)} {outcome}" for outcome, ids in seen.items())
        for suite, seen in outcomes.items()
        if seen
    )
    line = (
        f"shop_manager: {totals['security']} security cases and "
        f"{totals['fault']} fault cases ran ({details})"
    )
    terminalreporter.write_line(line)
    directory = os.environ.get(COUNTS_DIR)
    if directory:
        name = os.environ.get("TOX_ENV_NAME", "pytest")
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / f"{name}.txt").write_text(line + "\n")
