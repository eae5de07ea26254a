"""The chaos run: guarantees under load and faults at once (issue 13).

    python benchmarks/chaos.py                          # what `make chaos` runs
    python benchmarks/chaos.py --dashboards 100 --seconds 30

Two uvicorn processes of the example project (DEBUG off, as its container
runs it) on a PostgreSQL database of the run's own, reached through a TCP
proxy that can cut it off, and a redis-server of the run's own; dashboards
split between them; changes through the product form at a steady rate.
Meanwhile Redis is killed and restarted, PostgreSQL is cut off and restored,
one server is SIGKILLed and restarted, and ten watching users are demoted.
Then it prints a table of what must have stayed true and exits 1 if
anything did not. The run itself: tests/helpers/chaos.py; the checks:
tests/helpers/chaos_verdict.py; the reduced version in `make test`:
tests/faults/test_chaos.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.chaos import ChaosPlan, run_chaos  # noqa: E402
from tests.helpers.chaos_verdict import table, verdict  # noqa: E402
from tests.helpers.example_site import (  # noqa: E402
    PRODUCTION_SECRET_KEY,
    ExamplePostgres,
    manage,
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dashboards", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=90.0, help="of changes")
    args = parser.parse_args()
    plan = ChaosPlan(dashboards=args.dashboards, rate=args.rate, seconds=args.seconds)

    # A SIGTERM still stops the processes and drops the database (finally:).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="sm-chaos-"))
    print(f"logs in {workdir}", flush=True)
    postgres = ExamplePostgres(
        {
            "DB_HOST": os.environ.get("DB_HOST", "127.0.0.1"),
            "DB_PORT": os.environ.get("DB_PORT", "5432"),
            "POSTGRES_USER": os.environ.get("POSTGRES_USER", "postgres"),
            "POSTGRES_PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
        },
        f"shop_manager_chaos_{os.getpid()}_{uuid.uuid4().hex[:6]}",
    )
    static_root = str(workdir / "static")
    collected = manage(
        "collectstatic",
        "--noinput",
        DEBUG="false",
        SECRET_KEY=PRODUCTION_SECRET_KEY,
        STATIC_ROOT=static_root,
    )
    if collected.returncode != 0:
        raise SystemExit(collected.stderr)
    postgres.migrate_template()
    try:
        with postgres.copy() as database_env:
            print(
                f"{plan.dashboards:,} dashboards, {plan.rate:g} changes/s for "
                f"{plan.seconds:g} s, with faults ...",
                flush=True,
            )
            rows = verdict(run_chaos(plan, database_env, static_root, workdir))
    finally:
        postgres.drop_template()
    print(table(rows))
    broken = [row for row in rows if row.ok is False]
    print(
        f"\n{len(broken)} guarantee(s) broken" if broken else "\nevery guarantee held"
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
