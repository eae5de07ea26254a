"""CSV import and export on PostgreSQL: time and memory, beside PostgreSQL's
own ``COPY`` of the same rows.

    python benchmarks/transfer_bench.py                   # 100,000 rows in and out
    python benchmarks/transfer_bench.py --import-rows 20000 --export-rows 20000
    python benchmarks/transfer_bench.py --profile /tmp/spy   # py-spy, per phase

Creates its own PostgreSQL database (uniquely named, dropped at the end) and
runs the package's own code in this process, as the import page and
``import_products`` do:

1. **Floor**: ``COPY`` of the file into a staging table, and ``COPY`` plus one
   ``INSERT … ON CONFLICT (sku) DO UPDATE`` into the product table: what
   PostgreSQL alone needs to load the same rows (no validation, no change
   log, no slugs). Rolled back, so the import starts from the same state.
2. **Import** of a file with ``--import-rows`` rows, half of them SKUs the
   catalogue already has (with a new price and quantity), half new,
   interleaved: the preview (read the file and ``plan_import``) and the apply
   (read it again and ``import_table``), then the same file again (nothing
   left to change).
3. **Export** of ``--export-rows`` products through the streamed view, read to
   the end, in a child process so its peak memory is its own.

Every time is printed with its ratio to the ``COPY`` floor of the same run.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from services import Database

# The file's columns: what a supplier feed carries.
IMPORT_COLUMNS = (
    "sku",
    "name",
    "price",
    "cost_price",
    "quantity",
    "expiry_date",
    "supplier_number",
)
FIRST_EXPIRY = datetime.date(2030, 1, 1)


def setup_django(database: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-not-secret",
        USE_TZ=True,
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": database,
                "HOST": "127.0.0.1",
                "USER": "postgres",
            }
        },
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "django.contrib.messages",
            "shop_manager",
        ],
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        ROOT_URLCONF="shop_manager.urls",
        # Big enough for the file; the defaults are checked in the tests.
        SHOP_MANAGER={
            "IMPORT_MAX_BYTES": 200 * 1024 * 1024,
            **({"IMPORT_MAX_ROWS": 10_000_000} if _knows_max_rows() else {}),
        },
    )
    django.setup()


def _knows_max_rows() -> bool:
    # So the same script measures the package before that setting existed.
    from shop_manager.conf import DEFAULTS

    return "IMPORT_MAX_ROWS" in DEFAULTS


def spread(n: int, salt: int, values: int) -> int:
    """One of ``values`` for row ``n``, scattered as a real feed's are (not
    in order), the same on every run."""
    digest = hashlib.blake2b(f"{salt}:{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % values


def row(n: int, *, changed: bool) -> list[Any]:
    """Row ``n`` of the file; ``changed`` moves its price and quantity.
    About 9,000 distinct prices, 4,000 costs, 500 quantities, 730 expiry
    dates and 97 suppliers, scattered over the rows."""
    price = 1 + spread(n, 1, 9000) / 100 + (0.25 if changed else 0)
    return [
        f"BENCH-{n:06d}",
        f"Bench product {n}",
        f"{price:.2f}",
        f"{0.5 + spread(n, 2, 4000) / 100:.2f}",
        spread(n, 3, 500) + (3 if changed else 0),
        (FIRST_EXPIRY + datetime.timedelta(days=spread(n, 4, 730))).isoformat(),
        f"SUP-{spread(n, 5, 97)}",
    ]


def csv_file(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(IMPORT_COLUMNS)
    for n in range(rows):
        writer.writerow(row(n, changed=True))
    return buffer.getvalue().encode()


def seed_existing(rows: int) -> int:
    """The file's even rows as products already in the catalogue, with the
    old price and quantity, inserted in bulk with one ``created`` event
    each (as ``log_created`` would)."""
    from decimal import Decimal

    from django.db import transaction

    from shop_manager.changelog import log_created
    from shop_manager.models import Product

    seeded = 0
    with transaction.atomic():
        for start in range(0, rows, 10_000):
            products = []
            for n in range(start, min(start + 10_000, rows), 2):
                sku, name, price, cost, quantity, expiry, supplier = row(
                    n, changed=False
                )
                products.append(
                    Product(
                        sku=sku,
                        name=name,
                        slug=f"bench-product-{n}",
                        price=Decimal(price),
                        cost_price=Decimal(cost),
                        quantity=quantity,
                        expiry_date=datetime.date.fromisoformat(expiry),
                        supplier_number=supplier,
                    )
                )
            log_created(Product.objects.bulk_create(products))
            seeded += len(products)
    return seeded


class Clock:
    """Times phases; every line carries its ratio to the floor."""

    def __init__(self, profile: str | None) -> None:
        self.floor: float | None = None
        self.profile = profile

    @contextmanager
    def phase(self, what: str, slug: str) -> Iterator[dict[str, float]]:
        spy = self._spy(slug)
        result: dict[str, float] = {}
        start = time.perf_counter()
        cpu = time.process_time()
        try:
            yield result
        finally:
            result["seconds"] = time.perf_counter() - start
            result["cpu"] = time.process_time() - cpu
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT.
                spy.wait()
        ratio = f" ({result['seconds'] / self.floor:.1f} x COPY)" if self.floor else ""
        print(
            f"  {what}: {result['seconds']:.2f} s{ratio}, "
            f"{result['cpu']:.2f} s CPU in this process"
        )

    def _spy(self, slug: str) -> subprocess.Popen[bytes] | None:
        if self.profile is None:
            return None
        Path(self.profile).mkdir(parents=True, exist_ok=True)
        spy = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("py-spy")),
                "record",
                "--idle",  # Waiting on PostgreSQL counts too.
                "--format",
                "raw",
                "--rate",
                "100",
                "-o",
                str(Path(self.profile) / f"{slug}.txt"),
                "--pid",
                str(os.getpid()),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # Let it attach before the phase starts.
        return spy


class Parts:
    """Where an apply's time goes: wall and CPU seconds of the steps that
    ``shop_manager.transfer.apply`` calls, wrapped for the duration."""

    STEPS = (
        ("plan_import", "plan again (no locks)"),
        ("_lock", "lock the changed products"),
        ("assign_slugs", "slugs for new products"),
        ("insert_products", "INSERT new products (COPY on PostgreSQL)"),
        ("update_products", "UPDATE changed products"),
        ("log_events", "change log (changelog.log_events)"),
    )

    def __enter__(self) -> Parts:
        from shop_manager import changelog
        from shop_manager.transfer import apply

        self.spent: dict[str, list[float]] = {}
        self.inside = False
        self.restore: list[tuple[Any, str, Any]] = []
        for owner, name in (
            (apply, "plan_import"),
            (apply, "_lock"),
            (apply, "assign_slugs"),
            (apply, "insert_products"),
            (apply, "update_products"),
            (changelog, "log_events"),
        ):
            self._wrap(owner, name)
        return self

    def _wrap(self, owner: Any, name: str) -> None:
        spent = self.spent.setdefault(name, [0.0, 0.0])
        original = getattr(owner, name, None)
        if original is None:  # A version of the package without this step.
            spent[:] = [float("nan")] * 2
            return

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.inside:
                return original(*args, **kwargs)
            self.inside = True
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - wall
                spent[1] += time.process_time() - cpu
                self.inside = False

        setattr(owner, name, timed)
        self.restore.append((owner, name, original))

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self.restore):
            setattr(owner, name, original)

    def print(self) -> None:
        for name, label in self.STEPS:
            wall, cpu = self.spent[name]
            print(f"      {label}: {wall:.2f} s ({cpu:.2f} s CPU)")


def bench_floor(clock: Clock, data: bytes) -> None:
    """PostgreSQL alone: ``COPY`` the file, then upsert it; rolled back."""
    from django.db import connection, transaction

    columns = ", ".join(IMPORT_COLUMNS)
    print("Floor, the same file with PostgreSQL alone (rolled back):")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE staging (sku varchar(64), name varchar(200), "
                "price numeric(10, 2), cost_price numeric(10, 2), quantity integer, "
                "expiry_date date, supplier_number varchar(64)) ON COMMIT DROP"
            )
            with (
                clock.phase("COPY into a staging table", "copy") as copied,
                cursor.copy(
                    f"COPY staging ({columns}) FROM STDIN (FORMAT csv, HEADER)"
                ) as copy,
            ):
                copy.write(data)
            clock.floor = copied["seconds"]
            with clock.phase(
                "COPY + INSERT … ON CONFLICT (sku) DO UPDATE into the product table",
                "upsert",
            ):
                with cursor.copy(
                    f"COPY staging ({columns}) FROM STDIN (FORMAT csv, HEADER)"
                ) as copy:
                    copy.write(data)
                cursor.execute(
                    "INSERT INTO shop_manager_product (sku, name, slug, description, "
                    "price, cost_price, quantity, expiry_date, supplier_number, "
                    "version, created, modified) SELECT DISTINCT ON (sku) sku, name, "
                    "lower(sku), '', price, cost_price, quantity, expiry_date, "
                    "supplier_number, 1, now(), now() FROM staging "
                    "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, "
                    "price = excluded.price, cost_price = excluded.cost_price, "
                    "quantity = excluded.quantity, expiry_date = excluded.expiry_date, "
                    "supplier_number = excluded.supplier_number, "
                    "version = shop_manager_product.version + 1, modified = now()"
                )
        transaction.set_rollback(True)


def bench_import(clock: Clock, rows: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from shop_manager.models import ProductEvent
    from shop_manager.transfer import Rights, import_table, plan_import, read_file

    user = get_user_model().objects.create_user("bench", is_staff=True)
    data = csv_file(rows)
    seeded = seed_existing(rows)
    print(
        f"{rows:,} rows, {len(data) / 2**20:.1f} MB ({', '.join(IMPORT_COLUMNS)}); "
        f"{seeded:,} of their SKUs already in the catalogue"
    )
    bench_floor(clock, data)
    print("Import (the package, one process):")
    for label in ("new and changed", "the same file again"):
        before = ProductEvent.objects.count()
        with clock.phase(f"{label}: preview", f"preview-{label[:3]}"):
            plan = plan_import(read_file(io.BytesIO(data)), Rights())
        counts = {k: v for k, v in plan.counts.items() if v}
        with clock.phase(f"{label}: apply  ", f"apply-{label[:3]}"), Parts() as parts:
            import_table(read_file(io.BytesIO(data)), Rights(), actor=user)
        logged = ProductEvent.objects.count() - before
        print(f"    plan {counts}; {logged:,} change-log entries")
        parts.print()
    print(f"  peak RSS of this process: {_status_kb('VmHWM') / 1024:.0f} MB")
    connection.close()


def seed_export_products(rows: int) -> None:
    """Products for the export, inserted in bulk (the import is measured above)."""
    from decimal import Decimal

    from shop_manager.models import Product

    batch = 5000
    for start in range(0, rows, batch):
        Product.objects.bulk_create(
            Product(
                name=f"Export =product {n}",
                slug=f"export-product-{n}",
                sku=f"EXP-{n:07d}",
                description="A description, with a comma and a line\nbreak.",
                price=Decimal("9.99"),
                cost_price=Decimal("4.10"),
                quantity=n % 1000,
                supplier_number=f"SUP-{n % 97}",
            )
            for n in range(start, min(start + batch, rows))
        )


def export_child(trace: bool) -> dict[str, float]:
    """One export through the view, read to the end; run in a fresh process."""
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from shop_manager.transfer.views import ProductExportView

    request = RequestFactory().get("/products/export.csv?sort=name")
    request.user = User(username="bench", is_staff=True, is_active=True)
    rss_before = _status_kb("VmRSS")
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    response = ProductExportView.as_view()(request)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - start
    figures = {
        "seconds": seconds,
        "bytes": size,
        "lines": lines,
        "rss_before_mb": rss_before / 1024,
        "peak_rss_mb": _status_kb("VmHWM") / 1024,
    }
    if trace:
        figures["python_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    return figures


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def bench_export(database: str, rows: int) -> None:
    print(f"Export of {rows:,} products (the streamed view, as staff):")
    for trace in (False, True):
        done = subprocess.run(
            [sys.executable, __file__, "--export-child", database]
            + (["--trace"] if trace else []),
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if trace:
            print(
                f"  with tracemalloc: Python allocations peaked at "
                f"{figures['python_peak_mb']:.1f} MB ({figures['seconds']:.2f} s)"
            )
        else:
            print(
                f"  {figures['seconds']:.2f} s, {figures['bytes'] / 2**20:.1f} MB "
                f"in {figures['lines']:,} lines; process RSS "
                f"{figures['rss_before_mb']:.0f} MB before, peak "
                f"{figures['peak_rss_mb']:.0f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record each import phase with py-spy (collapsed stacks in DIR)",
    )
    parser.add_argument("--export-child", metavar="DATABASE", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        setup_django(args.export_child)
        print(json.dumps(export_child(args.trace)))
        return
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load}")
    database = Database()
    try:
        setup_django(database.name)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        clock = Clock(args.profile)
        bench_import(clock, args.import_rows)
        with connection.cursor() as cursor:  # The export starts from nothing.
            cursor.execute("TRUNCATE shop_manager_product, shop_manager_productevent")
        seed_export_products(args.export_rows)
        connection.close()
        bench_export(database.name, args.export_rows)
    finally:
        from django.db import connections

        connections.close_all()
        database.drop()


if __name__ == "__main__":
    main()
