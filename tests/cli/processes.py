"""The ``ravyn`` command run as a user runs it: a real process, its output in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.samples import ROOT

START_TIMEOUT = 60.0  # a server process starting on a loaded machine


def environment(**variables: str) -> dict[str, str]:
    """The test's environment, ravyn importable from this checkout, no RAVYN_* leaking in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RAVYN_")}
    return {**env, "PYTHONPATH": str(ROOT), **variables}


def ravyn(*args: str, cwd: Path = ROOT, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run ``ravyn ARGS`` to its end."""
    return subprocess.run(
        [sys.executable, "-m", "ravyn.cli", *args],
        cwd=cwd,
        env=environment(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )


class Process:
    """A long-running ``ravyn`` command (server or worker); ``output`` is all it wrote."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        log: Path,
        variables: dict[str, str],
        program: str = "ravyn.cli",
    ) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", program, *args],
                cwd=cwd,
                env=environment(**variables),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # --reload and --workers start children
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, count: int = 1, timeout: float = START_TIMEOUT) -> None:
        """Until ``text`` was written ``count`` times; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"exited {self.process.returncode} before {text!r}:\n" + self.output
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output}")
            time.sleep(0.05)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()


@contextmanager
def running(
    *args: str, cwd: Path = ROOT, log: Path, program: str = "ravyn.cli", **variables: str
) -> Iterator[Process]:
    """``ravyn ARGS`` (or ``python -m PROGRAM ARGS``) until the block ends."""
    process = Process(list(args), cwd, log, variables, program)
    try:
        yield process
    finally:
        process.stop()


def wait_until_serving(url: str, process: Process, timeout: float = START_TIMEOUT) -> None:
    """Until ``url`` answers 200 (for a server whose log level hides its startup line)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, verify=False, timeout=2).status_code == 200:
                return  # (another answer: a process of another test run holds the port)
        except httpx.TransportError:
            pass
        if process.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{url} never answered:\n{process.output}") from None
        time.sleep(0.05)
