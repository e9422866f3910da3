"""The transactional outbox beside a plain emit: commit-to-listener latency and throughput.

Scenarios, each in one process on an in-memory bus, each "request" a transaction that
inserts one row and sends one event whose payload carries its send time
(time.monotonic_ns): the listener records the latency.

- "emit (no database)": the baseline, `emit` alone.
- "commit, then emit": the hand-made way, the event emitted after the commit (lost if
  the process dies in between, sent although a later step fails).
- "outbox": the event written in the transaction, sent by the relay after the commit.

Latency is measured on requests one after another (each waits for its listener);
throughput on N requests made by --concurrency requesters at once (as a server's
concurrent requests), until the last listener ran. SQLite is a
file in a temporary directory; PostgreSQL (--postgres) is a throwaway server started here.

    python bench/bench_outbox.py [--n 2000] [--concurrency 10] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import String  # noqa: E402
from sqlalchemy.orm import Mapped, mapped_column  # noqa: E402

from ravyn import Ravyn, trigger_event  # noqa: E402
from ravyn.database import SqlDatabase  # noqa: E402
from ravyn.events import Listener, Registry, use_registry  # noqa: E402

LATENCY_RUNS = 300


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[int] = []
        self.expected = 0
        self.done = asyncio.Event()

    def expect(self, count: int) -> None:
        self.latencies.clear()
        self.expected = count
        self.done.clear()

    async def on_tick(self, sent: int) -> None:
        self.latencies.append(time.monotonic_ns() - sent)
        if len(self.latencies) >= self.expected:
            self.done.set()


class Scenario:
    """An app with the recorder's listener; with a database URL, a SqlDatabase and a table."""

    def __init__(self, mode: str, url: str | None, recorder: Recorder) -> None:
        self.mode = mode
        registry = Registry()
        registry.add_listener(Listener(recorder.on_tick, ("tick",)))
        self.db: SqlDatabase | None = None
        extensions = {}
        if url is not None:
            self.db = SqlDatabase(url, outbox=mode == "outbox")

            class Tick(self.db.Model):
                __tablename__ = "ticks"
                id: Mapped[int] = mapped_column(primary_key=True)
                note: Mapped[str] = mapped_column(String(50))

            self.tick = Tick
            extensions["db"] = self.db
        with use_registry(registry):
            self.app = Ravyn(extensions=extensions, enable_scheduler=False)

    async def request(self) -> None:
        """One transaction inserting a row, and its event."""
        payload = {"sent": time.monotonic_ns()}
        if self.db is None:
            await trigger_event("tick", payload)
            return
        async with self.db.session() as session:
            session.add(self.tick(note="tick"))
            if self.mode == "outbox":
                await trigger_event("tick", payload)  # into the outbox, in the transaction
        if self.mode == "commit, then emit":
            await trigger_event("tick", payload)


async def measure(mode: str, url: str | None, n: int, concurrency: int) -> dict[str, float]:
    recorder = Recorder()
    scenario = Scenario(mode, url, recorder)
    if scenario.db is not None:
        await scenario.db.create_all()
    async with scenario.app.running():
        latencies = []
        for _ in range(LATENCY_RUNS):
            recorder.expect(1)
            await scenario.request()
            await asyncio.wait_for(recorder.done.wait(), 30)
            latencies.extend(recorder.latencies)
        recorder.expect(n)
        start = time.perf_counter()

        async def requester(count: int) -> None:
            for _ in range(count):
                await scenario.request()

        await asyncio.gather(*(requester(n // concurrency) for _ in range(concurrency)))
        await asyncio.wait_for(recorder.done.wait(), 120)
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "per_second": n / elapsed,
        "p50_ms": statistics.median(latencies) / 1e6,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] / 1e6,
    }


def report(database: str, results: dict[str, dict[str, float]]) -> None:
    base = results["emit (no database)"]
    plain = results["commit, then emit"]
    print(f"\n{database}")
    print(f"{'scenario':<22}{'events/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'vs commit+emit':>16}")
    for name, figures in results.items():
        ratio = figures["per_second"] / plain["per_second"]
        print(
            f"{name:<22}{figures['per_second']:>12,.0f}{figures['p50_ms']:>10.3f}"
            f"{figures['p99_ms']:>10.3f}{ratio:>15.2f}x"
        )
    outbox = results["outbox"]
    print(
        f"outbox throughput is {outbox['per_second'] / plain['per_second']:.2f}x commit-then-"
        f"emit and {outbox['per_second'] / base['per_second']:.4f}x a plain emit; its p50 "
        f"latency adds {outbox['p50_ms'] - plain['p50_ms']:.3f} ms (the relay's pass)"
    )


async def run(n: int, concurrency: int, url: str, name: str) -> None:
    results = {"emit (no database)": await measure("emit (no database)", None, n, concurrency)}
    for mode in ("commit, then emit", "outbox"):
        results[mode] = await measure(mode, url, n, concurrency)
    report(name, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="requests of the throughput run")
    parser.add_argument("--concurrency", type=int, default=10, help="requests at once (throughput)")
    parser.add_argument("--postgres", action="store_true", help="also on a PostgreSQL server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(
            run(
                args.n,
                args.concurrency,
                f"sqlite+aiosqlite:///{directory}/bench.db",
                "SQLite (file)",
            )
        )
    if args.postgres:
        from tests.support.servers import PostgresServer

        server = PostgresServer()
        server.start()
        try:
            asyncio.run(run(args.n, args.concurrency, server.url(), "PostgreSQL 15"))
        finally:
            server.stop()
            server.remove()


if __name__ == "__main__":
    main()
