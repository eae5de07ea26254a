"""What a bench run starts and stops: a PostgreSQL database of its own, a
private redis-server, server processes, and /proc readings of their cost."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Child:
    """A child process writing to a log file in the run's directory."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.log_path = log
        self._log: IO[bytes] = log.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Our own group: stop() ends workers too.
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = "\n".join(
                self.log_path.read_text(errors="replace").splitlines()[-30:]
            )
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}:\n{tail}"
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


class Redis:
    """A private redis-server on a free loopback port; never the shared one."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is needed on PATH")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.child = Child(
            "redis-server",
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            dict(os.environ),
            workdir / "redis.log",
        )
        wait_until(lambda: self._answers(), 10, "redis-server")

    def _answers(self) -> bool:
        self.child.check_alive()
        return port_open(self.port)

    def stop(self) -> None:
        self.child.stop()


class Database:
    """A uniquely named PostgreSQL database, dropped at the end."""

    def __init__(self) -> None:
        self.name = f"shop_manager_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._psql(f"CREATE DATABASE {self.name}")

    @staticmethod
    def _psql(sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [
                "psql",
                "-qAt",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def query(self, sql: str) -> str:
        return self._psql(sql, self.name)

    def drop(self) -> None:
        self._psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def py_spy(pid: int, out: str, seconds: float) -> subprocess.Popen[bytes]:
    """Record ``pid`` and its children for ``seconds`` with py-spy, as
    collapsed stacks (its "raw" format) in ``out``; wait() on the result."""
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--format",
            "raw",
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "200",
            "--duration",
            str(max(1, int(seconds))),
            "-o",
            out,
            "--pid",
            str(pid),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn --workers forks its workers)."""
    found = [pid]
    for parent in found:
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found.extend(int(child) for child in children if int(child) not in found)
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (its own threads, not reaped children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_process(pid: int) -> dict[int, float]:
    return {each: cpu_seconds(each) for each in process_tree(pid)}


def peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM over the tree, in MB (a worker-less uvicorn is one process)."""
    total = 0
    for each in process_tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024
