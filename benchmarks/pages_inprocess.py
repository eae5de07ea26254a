"""``--scenario pages``: each bundled page beside a bare Django view of the same
rows (the floor) and the admin's equivalent, in one process, same run.

The Django test client against the example project's settings (its
middleware, templates and ``SHOP_MANAGER``; ``DEBUG`` off, HTTPS on) on a
fresh SQLite file holding 10,000 products and 2,000 change-log rows, logged
in as one superuser. For each page, ``--rounds`` rounds of ``--requests``
requests to ours, the floor and the admin's, interleaved, so drift in the
machine's load falls on all three; the figure is CPU time per request
(``time.process_time``), the least disturbed by the other jobs on the cores.

    python benchmarks/live_bench.py --scenario pages [--requests 200]
    python benchmarks/pages_inprocess.py --profile /tmp/pages   # cProfile per page
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

__all__ = ["main", "run_in_process"]

# The import preview's file: this many rows, half of them products already in
# the catalogue (a new price and quantity), half new.
IMPORT_ROWS = 200
PRODUCTS = 10_000
EVENTS = 2_000


def _set_up_django(workdir: Path) -> None:
    sys.path[:0] = [str(ROOT / "example_project"), str(HERE)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    os.environ["SECRET_KEY"] = "bench-only-secret-key-" + "x" * 40
    os.environ["SQLITE_PATH"] = str(workdir / "pages.sqlite3")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["STATIC_ROOT"] = str(workdir / "static")
    os.environ.pop("DEBUG", None)
    os.environ.pop("POSTGRES_DB", None)
    os.environ.pop("REDIS_URL", None)
    from django.conf import settings

    # The example project's URLconf plus the bare views under /bare/.
    settings.ROOT_URLCONF = "bare_pages"
    import django

    django.setup()


def _load_data() -> tuple[str, bytes]:
    """10,000 products and 2,000 change-log rows (the first product's
    history); returns that product's slug and the import file."""
    from bench_data import load_products
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The manifest storage's hashed names, as a deployed site has them.
    call_command("collectstatic", interactive=False, verbosity=0)
    slugs = load_products(PRODUCTS, history=EVENTS, log_creation=False)
    lines = ["sku,name,description,price,cost_price,quantity,expiry_date"]
    for n in range(IMPORT_ROWS):
        if n % 2:
            sku, name = f"BP-{n * 7:05d}", f"Bench product {n * 7}"
        else:
            sku, name = f"NEW-{n:05d}", f"Imported product {n}"
        lines.append(f"{sku},{name},Row {n},{n % 90}.50,{n % 40}.25,{n % 70},")
    return slugs[0], ("\n".join(lines) + "\n").encode()


@dataclass
class Side:
    path: str
    post_file: bytes | None = None
    cpu: list[float] = field(default_factory=list)
    requests: int = 0

    @property
    def ms(self) -> float:
        return 1000 * sum(self.cpu) / max(self.requests, 1)


@dataclass
class Page:
    name: str
    ours: Side
    bare: Side
    admin: Side | None


def _pages(slug: str, pk: int, csv_file: bytes) -> list[Page]:
    admin = "/admin/shop_manager/product/"
    change = f"{admin}{pk}/change/"
    return [
        Page("list", Side("/products/"), Side("/bare/products/"), Side(admin)),
        Page(
            "search + sort",
            Side("/products/?q=12&sort=-price"),
            Side("/bare/products/?q=12&sort=-price"),
            Side(f"{admin}?q=12&o=-3"),
        ),
        Page(
            "detail",
            Side(f"/products/{slug}/"),
            Side(f"/bare/products/{slug}/"),
            Side(change),
        ),
        Page(
            "edit form",
            Side(f"/products/{slug}/edit/"),
            Side(f"/bare/products/{slug}/edit/"),
            Side(change),
        ),
        Page(
            "dashboard",
            Side("/dashboard/products/"),
            Side("/bare/dashboard/"),
            Side("/admin/shop_manager/productevent/"),
        ),
        Page(
            "import preview",
            Side("/products/import/", csv_file),
            Side("/bare/import/", csv_file),
            None,
        ),
    ]


def _request(client: Any, side: Side) -> Any:
    if side.post_file is None:
        response = client.get(side.path, secure=True)
    else:
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("products.csv", side.post_file, "text/csv")
        response = client.post(side.path, {"file": upload}, secure=True)
    if response.status_code != 200:
        raise SystemExit(f"{side.path}: {response.status_code}")
    return response


def _measure(client: Any, side: Side, requests: int) -> None:
    started = time.process_time()
    for _ in range(requests):
        _request(client, side)
    side.cpu.append(time.process_time() - started)
    side.requests += requests


def _count_queries(client: Any, side: Side) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _request(client, side)
    return len(queries)


def run_in_process(
    *,
    requests: int = 200,
    rounds: int = 3,
    only: list[str] | None = None,
    profile: str | None = None,
) -> list[Page]:
    workdir = Path(tempfile.mkdtemp(prefix="sm-pages-"))
    _set_up_django(workdir)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from shop_manager.models import Product

    started = time.time()
    slug, csv_file = _load_data()
    user = get_user_model().objects.create_superuser("bench", "b@example.com", "x")
    client = Client()
    client.force_login(user)
    pk = Product.objects.get(slug=slug).pk
    pages = [p for p in _pages(slug, pk, csv_file) if not only or p.name in only]
    load_before = os.getloadavg()[0]
    print(
        f"\n{'page':16} {'ours ms':>8} {'bare ms':>8} {'ratio':>6} "
        f"{'admin ms':>9} {'admin/ours':>10} {'queries':>12}",
        flush=True,
    )
    for page in pages:
        sides = [s for s in (page.ours, page.bare, page.admin) if s is not None]
        for side in sides:  # Warm up: templates compiled, caches filled.
            for _ in range(5):
                _request(client, side)
        queries = [_count_queries(client, side) for side in sides]
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(requests):
                _request(client, page.ours)
            profiler.disable()
            out = f"{profile}-{page.name.split()[0]}.prof"
            profiler.dump_stats(out)
        for _ in range(rounds):
            for side in sides:
                # The admin's pages are ten times dearer: fewer of them.
                many = requests if side is not page.admin else max(5, requests // 4)
                _measure(client, side, many)
        admin = page.admin
        print(
            f"{page.name:16} {page.ours.ms:8.2f} {page.bare.ms:8.2f} "
            f"{page.ours.ms / page.bare.ms:6.2f} "
            f"{admin.ms if admin else float('nan'):9.2f} "
            f"{admin.ms / page.ours.ms if admin else float('nan'):10.2f} "
            f"{'/'.join(str(q) for q in queries):>12}",
            flush=True,
        )
        if rounds > 1:
            # Per round: how steady the machine was.
            spread = [f"{1000 * cpu / requests:.2f}" for cpu in page.ours.cpu]
            print(f"{'':16} ours per round: {' '.join(spread)}", flush=True)
    print(
        f"\n{PRODUCTS:,} products, {EVENTS:,} change-log rows, SQLite, DEBUG off; "
        f"{rounds} rounds of {requests} requests per side (the admin: a quarter); CPU ms per request; "
        f"queries ours/bare/admin; load average {load_before:.1f} → "
        f"{os.getloadavg()[0]:.1f}; {time.time() - started:.0f} s",
        flush=True,
    )
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--page", action="append", help="only this page (repeat)")
    parser.add_argument(
        "--profile", metavar="PREFIX", help="cProfile: PREFIX-<page>.prof"
    )
    args = parser.parse_args(argv)
    run_in_process(
        requests=args.requests, rounds=args.rounds, only=args.page, profile=args.profile
    )


if __name__ == "__main__":
    main()
