"""What one heartbeat's presence announcements cost the process that hears
them back, in process, no server: ``Presence.heard_update`` for each of a
process's own open edit forms (what its fan-out does with the
``presence.update`` messages its tick published), at several form counts.

    python benchmarks/presence_echo.py                 # 200, 1,000 and 2,000 forms
    python benchmarks/presence_echo.py --forms 1000 --products 100

Needs nothing but the package (the test settings: SQLite, in-memory layer);
``--scenario live-pages`` measures the whole cost on a served process.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Form:
    """A socket on an edit form: what Presence delivers its frames to."""

    def deliver(self, text: str) -> None:
        pass


def heard_back(forms: int, products: int, users: int) -> float:
    """CPU seconds for one tick's announcements heard back."""
    from shop_manager.live.presence import Presence, _Local
    from shop_manager.live.protocol import PresenceUpdate

    presence = Presence()
    rng = random.Random(15)
    for n in range(forms):
        local = _Local(rng.randrange(products), f"key-{n}", f"Editor {n % users}")
        presence._add_local(Form(), local)
    updates = [
        PresenceUpdate(local.product, local.key, local.name, left=False)
        for local in presence.local.values()
    ]
    for update in updates:  # Everyone known, as after the first tick.
        presence.heard_update(update)
    started = time.process_time()
    for update in updates:
        presence.heard_update(update)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, nargs="*", default=[200, 1000, 2000])
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from shop_manager.conf import DEFAULTS

    ticks = 60 / DEFAULTS["HEARTBEAT_SECONDS"]  # A minute's, at the default.
    print(f"{'forms':>6} {'ms per tick':>12} {'µs per form':>12} {'CPU s/min':>10}")
    for forms in args.forms:
        took = heard_back(forms, args.products, args.users)
        print(
            f"{forms:>6} {1000 * took:>12.1f} {1e6 * took / forms:>12.0f} "
            f"{ticks * took:>10.2f}"
        )


if __name__ == "__main__":
    main()
