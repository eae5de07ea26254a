"""CSV import and export on PostgreSQL: time and memory.

    python benchmarks/transfer_bench.py                   # 10,000 rows in, 100,000 out
    python benchmarks/transfer_bench.py --import-rows 2000 --export-rows 20000

Creates its own PostgreSQL database (uniquely named, dropped at the end) and
runs the package's own code in this process: the import's preview
(``plan_import``) and apply (``import_table``) of a 10,000-row file, first
creating every product and then changing every price, then the same file
again (nothing to change); and the export view (``ProductExportView``, the
real streamed response, read to the end) over 100,000 products, in a child
process so its peak memory is its own. Prints each figure.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from services import Database


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
        SHOP_MANAGER={"IMPORT_MAX_BYTES": 200 * 1024 * 1024},
    )
    django.setup()


def csv_file(rows: int, price: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["sku", "name", "price", "cost_price", "quantity", "expiry_date"])
    for n in range(rows):
        writer.writerow(
            [
                f"BENCH-{n:06d}",
                f"Bench product {n}",
                price,
                "1.00",
                n % 500,
                "2030-01-31",
            ]
        )
    return buffer.getvalue().encode()


def timed(what: str, action: Any, *args: Any, **kwargs: Any) -> Any:
    start = time.perf_counter()
    result = action(*args, **kwargs)
    print(f"  {what}: {time.perf_counter() - start:.2f} s")
    return result


def bench_import(rows: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from shop_manager.models import ProductEvent
    from shop_manager.transfer import Rights, import_table, plan_import, read_file

    user = get_user_model().objects.create_user("bench", is_staff=True)
    print(f"Import of {rows:,} rows (PostgreSQL):")
    for label, price in (("create", "3.50"), ("update", "4.25"), ("unchanged", "4.25")):
        data = csv_file(rows, price)
        table = read_file(io.BytesIO(data))
        before = ProductEvent.objects.count()
        plan = timed(f"{label}: preview", plan_import, table, Rights())
        counts = {k: v for k, v in plan.counts.items() if v}
        timed(f"{label}: apply  ", import_table, table, Rights(), actor=user)
        logged = ProductEvent.objects.count() - before
        print(f"    {len(data):,} bytes; plan {counts}; {logged:,} change-log entries")
    connection.close()


def seed_products(rows: int) -> None:
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
    print(f"Export of {rows:,} products (PostgreSQL, the streamed view):")
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
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
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
        bench_import(args.import_rows)
        seed_products(args.export_rows)
        connection.close()
        bench_export(database.name, args.export_rows)
    finally:
        from django.db import connections

        connections.close_all()
        database.drop()


if __name__ == "__main__":
    main()
