"""Fan-out benchmark: many dashboard sockets on ONE daphne process, products
changing at a steady rate; prints delivery completeness and latency.

    python benchmarks/dashboard_fanout.py --sockets 1000 --rate 20 --seconds 20 --layer redis-pubsub

It runs the test project (tests.settings) on PostgreSQL (database
``shop_manager_bench``, created and dropped here) and a private redis-server on
a free loopback port. Changes are real ORM saves in this process, so they go
through the change log and the channel-layer notifier exactly as a request's
would. Clients run in separate processes. Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.support import RedisServer, Server, redis_server_binary, server_env  # noqa: E402

DATABASE = "shop_manager_bench"


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", sql],
        check=True,
        capture_output=True,
    )


def run_clients(
    url: str,
    cookie: str,
    origin: str,
    count: int,
    seconds: float,
    ready: Any,
    results: Any,
) -> None:
    """Open ``count`` sockets; record (event id, receive time) for live events."""
    import websockets

    async def one(
        received: list[tuple[int, float]], opened: list[int], failed: list[str]
    ) -> None:
        try:
            await listen(received, opened)
        except Exception as exc:
            failed.append(repr(exc))

    async def listen(received: list[tuple[int, float]], opened: list[int]) -> None:
        async with websockets.connect(
            url,
            additional_headers={"Cookie": cookie, "Origin": origin},
            max_queue=None,
            open_timeout=60,
        ) as socket:
            opened.append(1)
            deadline = time.time() + seconds
            while (left := deadline - time.time()) > 0:
                try:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), left))
                except TimeoutError:
                    break
                if frame["type"] == "event":
                    received.append((frame["id"], time.time()))

    async def main() -> None:
        received: list[list[tuple[int, float]]] = [[] for _ in range(count)]
        opened: list[int] = []
        failed: list[str] = []
        tasks = []
        for index in range(count):
            tasks.append(asyncio.create_task(one(received[index], opened, failed)))
            if index % 50 == 49:
                await asyncio.sleep(0.05)  # Don't stampede the accept queue.
        while len(opened) + len(failed) < count:
            await asyncio.sleep(0.05)
        if failed:
            print(f"{len(failed)} sockets failed to open, e.g. {failed[0]}", flush=True)
        ready.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        results.put(received)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--layer", choices=["redis", "redis-pubsub"], default="redis-pubsub"
    )
    parser.add_argument(
        "--capacity", type=int, default=100, help="core layer channel capacity"
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=1000,
        help="core layer Redis pool size (redis-py 8's default is 100)",
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    args = parser.parse_args()

    binary = redis_server_binary()
    if binary is None:
        sys.exit("redis-server is needed")
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    workdir = Path(tempfile.mkdtemp(prefix="sm-bench-"))
    redis = RedisServer(binary, workdir)
    redis.start()
    env = {
        **server_env(DATABASE, redis.url),
        "CHANNEL_BACKEND": args.layer,
        "CHANNEL_CAPACITY": str(args.capacity),
        "REDIS_MAX_CONNECTIONS": str(args.max_connections),
    }
    server = Server("bench", env, workdir)
    try:
        os.environ.update(env)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.contrib.sessions.backends.db import SessionStore
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from shop_manager.models import Product, ProductEvent

        staff = get_user_model().objects.create_user(
            "bench", password="x", is_staff=True
        )
        session = SessionStore()
        session["_auth_user_id"] = str(staff.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = staff.get_session_auth_hash()
        session.create()
        product = Product.objects.create(name="Bench tea", price=Decimal("1.00"))

        if args.server == "uvicorn":
            server.launch(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(server.port),
                    "--log-level",
                    "warning",
                    "--ws",
                    "websockets",
                    "tests.e2e.asgi:application",
                ],
                env=env,
            )
            server.wait_ready()
        else:
            server.start()
        cookie = f"sessionid={session.session_key}"
        changes = int(args.rate * args.seconds)
        listen_for = args.seconds + 15
        ready = [multiprocessing.Event() for _ in range(args.client_processes)]
        results: Any = multiprocessing.Queue()
        per_process = args.sockets // args.client_processes
        clients = [
            multiprocessing.Process(
                target=run_clients,
                args=(
                    server.socket_url(0).split("?")[0],
                    cookie,
                    server.url,
                    per_process,
                    listen_for,
                    event,
                    results,
                ),
            )
            for event in ready
        ]
        started = time.time()
        for client in clients:
            client.start()
        for event in ready:
            if not event.wait(120):
                sys.exit("clients did not all connect within 120 s")
        print(
            f"{per_process * args.client_processes} handshakes done in "
            f"{time.time() - started:.1f} s (failures, if any, are listed above)"
        )

        server_cpu_before = _cpu_seconds(server.process.pid)  # type: ignore[union-attr]
        committed: dict[int, float] = {}
        interval = 1 / args.rate
        next_at = time.time()
        for n in range(changes):
            product.quantity = n + 1
            product.save()  # Commits; the notifier runs on commit.
            committed[ProductEvent.objects.latest("id").pk] = time.time()
            next_at += interval
            time.sleep(max(0.0, next_at - time.time()))
        send_seconds = time.time() - (next_at - interval * changes)
        received = [
            sockets for _ in clients for sockets in results.get(timeout=listen_for + 60)
        ]
        server_cpu = _cpu_seconds(server.process.pid) - server_cpu_before  # type: ignore[union-attr]
        for client in clients:
            client.join(timeout=10)
        report(args, committed, received, server_cpu, send_seconds)
    finally:
        server.stop()
        redis.stop()
        psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(
    args: Any,
    committed: dict[int, float],
    received: list[list[tuple[int, float]]],
    server_cpu: float,
    send_seconds: float,
) -> None:
    expected = len(committed) * len(received)
    latencies = [
        arrived - committed[event_id]
        for sockets in received
        for event_id, arrived in sockets
        if event_id in committed
    ]
    delivered = len(latencies)
    complete_sockets = sum(
        1 for sockets in received if {i for i, _ in sockets} >= set(committed)
    )
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(
        f"layer {args.layer}, {len(received)} sockets, {len(committed)} changes at {args.rate}/s"
    )
    print(
        f"delivered live: {delivered}/{expected} ({100 * delivered / max(expected, 1):.2f} %)"
    )
    print(f"sockets with every event live: {complete_sockets}/{len(received)}")
    if latencies:
        print(
            f"latency ms: p50 {pct(0.5):.1f}  p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  "
            f"max {latencies[-1] * 1000:.1f}  mean {statistics.fmean(latencies) * 1000:.1f}"
        )
    print(
        f"server CPU: {100 * server_cpu / send_seconds:.0f} % of one core while sending"
    )


if __name__ == "__main__":
    main()
