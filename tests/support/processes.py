"""An app served by a real server process (`uvicorn module:app`, `ravyn run ...`) on a free
port of 127.0.0.1, its whole output (stdout and stderr) kept in files for the test to read."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
READY_TIMEOUT = 30.0


class AppProcess:
    """``AppProcess(["uvicorn", "pkg.mod:app"], tmp_path)``: the command gets ``--host`` and
    ``--port``; it runs with the repository importable, in its own process group."""

    def __init__(
        self,
        command: list[str],
        workdir: Path,
        *,
        cwd: Path = ROOT,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.command = [
            sys.executable,
            "-m",
            *command,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.cwd = cwd
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.stdout_path = workdir / f"server-{self.port}.out"
        self.stderr_path = workdir / f"server-{self.port}.err"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppProcess:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=err,
                start_new_session=True,
            )  # fmt: skip
        self.wait_for_output(b"Application startup complete")
        return self

    def output(self) -> bytes:
        """Every byte the process wrote so far, stdout then stderr."""
        return self.stdout_path.read_bytes() + self.stderr_path.read_bytes()

    def wait_for_output(self, text: bytes, timeout: float = READY_TIMEOUT, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while self.output().count(text) < count:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"the server exited:\n{self.output().decode(errors='replace')}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no {text!r} after {timeout} s:\n{self.output().decode(errors='replace')}"
                )
            time.sleep(0.05)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within 15 s (a test's own cleanup)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(15)

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def port_is_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
