"""Does the webhook relay keep up with a steady stream of changes?

    python benchmarks/webhook_bench.py                   # 200 changes/s, 3 endpoints, 20 s
    python benchmarks/webhook_bench.py --rate 400 --endpoints 3 --seconds 20

Creates its own PostgreSQL database (dropped at the end), three keep-alive
HTTP receivers on 127.0.0.1 (threads of this process, answering 200 at once),
and one ``manage.py shop_manager_relay`` process with the default settings
(except WEBHOOK_ALLOW_PRIVATE_ADDRESSES, for 127.0.0.1). This process logs
changes on a fixed schedule (open loop: a product save each 1/rate s, each in
its own transaction, as a form save would) and every receiver records when
each webhook arrived. Prints the achieved change rate, deliveries per second
per endpoint, delivery latency (arrival minus the event's logged time) and
the backlog when the changes stop, plus the relay's CPU time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from services import Child, Database, cpu_seconds, free_port, wait_until  # noqa: E402


def serve(ports: list[int], control: Connection) -> None:
    """The receivers, in a process of their own so the writers do not slow
    them down: one keep-alive HTTP server per port, answering 204 at once and
    recording each webhook-id's first arrival. ``control`` answers "arrivals"
    with ``{port: {id: time}}`` and the request counts."""
    arrivals: dict[int, dict[int, float]] = {port: {} for port in ports}
    requests = dict.fromkeys(ports, 0)

    def handler(port: int) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                arrived = time.time()
                requests[port] += 1
                arrivals[port].setdefault(int(self.headers["webhook-id"]), arrived)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

        return Handler

    for port in ports:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler(port))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    control.send("ready")
    while control.recv() == "arrivals":
        control.send((arrivals, requests))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200, help="changes per second")
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--writers", type=int, default=4, help="writer threads")
    parser.add_argument(
        "--poll", type=float, default=None, help="WEBHOOK_POLL_SECONDS (default 1)"
    )
    args = parser.parse_args()

    db = Database()
    config: dict[str, Any] = {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True}
    if args.poll is not None:
        config["WEBHOOK_POLL_SECONDS"] = args.poll
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.webhooks.relay_settings",
        "DB_BACKEND": "postgres",
        "POSTGRES_DB": db.name,
        "SHOP_MANAGER_JSON": json.dumps(config),
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DB_BACKEND")})
    os.environ["POSTGRES_DB"] = db.name
    os.environ["SHOP_MANAGER_JSON"] = json.dumps(
        {**config, "NOTIFIERS": {}}  # this process only writes the log
    )
    relay: Child | None = None
    workdir = Path(f"/tmp/webhook_bench_{os.getpid()}")
    workdir.mkdir(exist_ok=True)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from shop_manager.models import Product, ProductEvent
        from shop_manager.webhooks.models import WebhookEndpoint

        call_command("migrate", verbosity=0)
        products = [
            Product.objects.create(name=f"Bench {n}", price="1.00", quantity=1)
            for n in range(40)
        ]
        ports = [free_port() for _ in range(args.endpoints)]
        control, child_end = multiprocessing.Pipe()
        receivers = multiprocessing.Process(
            target=serve, args=(ports, child_end), daemon=True
        )
        receivers.start()
        assert control.recv() == "ready"

        def arrivals() -> tuple[dict[int, dict[int, float]], dict[int, int]]:
            control.send("arrivals")
            answer: tuple[dict[int, dict[int, float]], dict[int, int]]
            answer = control.recv()
            return answer

        for port in ports:
            WebhookEndpoint.objects.create(url=f"http://127.0.0.1:{port}/hook")
        relay = Child(
            "relay",
            [sys.executable, "-m", "django", "shop_manager_relay"],
            env,
            workdir / "relay.log",
        )
        time.sleep(2)  # the relay's start-up, outside the measured window
        relay.check_alive()
        cpu_before = cpu_seconds(relay.pid)
        first_id = (ProductEvent.objects.order_by("-id").first() or 0) and (
            ProductEvent.objects.order_by("-id").values_list("id", flat=True)[0]
        )

        # Several writers, each its own connection, as several server
        # processes would be: one thread alone cannot log 200 changes/s here.
        start = time.monotonic()
        counts = [0] * args.writers

        def write(writer: int) -> None:
            interval = args.writers / args.rate
            mine = products[writer :: args.writers]
            made = 0
            while time.monotonic() - start < args.seconds:
                due = start + writer / args.rate + made * interval
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
                product = mine[made % len(mine)]
                product.quantity += 1
                product.save()
                made += 1
            counts[writer] = made
            connection.close()

        writers = [
            threading.Thread(target=write, args=(n,)) for n in range(args.writers)
        ]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        made = sum(counts)
        write_seconds = time.monotonic() - start
        ids = list(
            ProductEvent.objects.filter(id__gt=first_id).values_list("id", "created")
        )
        last_id = max(event_id for event_id, _ in ids)
        seen, _ = arrivals()
        backlog = [
            sum(1 for event_id, _ in ids if event_id not in seen[port])
            for port in ports
        ]
        stopped = time.monotonic()
        wait_until(
            lambda: all(last_id in got for got in arrivals()[0].values()),
            timeout=120,
            what="the relay to drain",
        )
        drain = time.monotonic() - stopped
        seen, requests = arrivals()
        cpu = cpu_seconds(relay.pid) - cpu_before
        latencies = [
            (seen[port][event_id] - created.timestamp()) * 1000
            for port in ports
            for event_id, created in ids
        ]
        span = [
            max(seen[port][i] for i, _ in ids) - min(seen[port][i] for i, _ in ids)
            for port in ports
        ]
        receivers.terminate()
        connection.close()
    finally:
        if relay is not None:
            relay.stop()
        db.drop()

    print(f"date {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"changes: {made} in {write_seconds:.1f} s = {made / write_seconds:.0f}/s "
        f"(asked {args.rate:g}/s); endpoints: {args.endpoints}; "
        f"WEBHOOK_POLL_SECONDS {config.get('WEBHOOK_POLL_SECONDS', 1)}"
    )
    for n, (port, seconds) in enumerate(zip(ports, span, strict=True)):
        print(
            f"endpoint {n}: {len(ids)} events in {seconds:.1f} s "
            f"= {len(ids) / seconds:.0f}/s, {requests[port]} requests "
            f"({requests[port] - len(seen[port])} repeats)"
        )
    print(
        f"latency ms: p50 {pct(latencies, 0.5):.0f}, p99 {pct(latencies, 0.99):.0f}, "
        f"max {max(latencies):.0f}"
    )
    print(f"backlog when changes stopped: {backlog} events; drained in {drain:.2f} s")
    print(
        f"relay CPU: {cpu:.1f} s over {write_seconds + drain:.1f} s "
        f"({cpu / (write_seconds + drain) * 100:.0f}% of one core)"
    )


if __name__ == "__main__":
    main()
