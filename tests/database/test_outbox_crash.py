"""A process SIGKILLed between its commit and its relay's send loses no event, and the
relays of the surviving processes deliver it exactly once."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ravyn.database import SqlDatabase

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, "-m", "tests.database.outbox_child"]


_clusters = itertools.count()


async def outbox_state(url: str) -> list[bool]:
    db = SqlDatabase(url)
    try:
        async with db.engine.connect() as connection:
            table = db.outbox_table
            rows = await connection.execute(select(table.c.published_at.is_not(None)))
            return [published for (published,) in rows]
    finally:
        await db.dispose()


@pytest.mark.parametrize("transport", ["in memory", "redis"])
async def test_sigkill_between_commit_and_send_loses_nothing(
    database_url, transport, tmp_path, request
):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if transport == "redis":  # the listener is one consumer group across both processes
        prefix = f"crash{os.getpid()}x{next(_clusters)}"
        env["OUTBOX_TRANSPORT"] = f"{request.getfixturevalue('redis_url')}?prefix={prefix}"
    deliveries = tmp_path / "deliveries.txt"
    deliveries.touch()
    subprocess.run([*CHILD, "setup", database_url], env=env, cwd=ROOT, check=True)

    died = subprocess.run(
        [*CHILD, "commit-then-die", database_url, str(deliveries)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr.decode()[-2000:]
    assert await outbox_state(database_url) == [False]  # committed, never sent
    assert deliveries.read_text() == ""

    relays = [
        subprocess.Popen(
            [*CHILD, "relay", database_url, str(deliveries)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for relay in relays:  # both run (and may race) before the test looks
            while relay.stdout.readline() not in (b"ready\n", b""):
                pass  # log lines
        deadline = time.monotonic() + 60
        while await outbox_state(database_url) != [True] or not deliveries.read_text():
            assert time.monotonic() < deadline, "the pending event was never sent"
            time.sleep(0.05)
    finally:
        for relay in relays:
            relay.send_signal(signal.SIGTERM)
        for relay in relays:
            assert relay.wait(timeout=30) == 0
    lines = deliveries.read_text().splitlines()
    assert len(lines) == 1, lines  # once, by one of the two processes
    assert lines[0].split()[1] == "1"
