"""Events across two processes: ravyn's transports beside the raw clients, in one run.

For each scenario a consumer process subscribes, then a publisher process sends N messages
of a 256-byte payload as fast as it can. Each message carries its send time
(time.monotonic_ns, one clock for every process of the machine); the consumer records the
emit-to-listener latency of each and the time the last one arrived. Throughput is N over
(last arrival - first send) in a burst; latency comes from a second, paced run (one message
per millisecond), since in a burst it measures the queue. Raw baselines: redis-py
PUBLISH/SUBSCRIBE (publishes pipelined by 100), XADD (pipelined by 100) + XREADGROUP COUNT
100 + XACK per batch, nats-py core publish/subscribe, JetStream publish_async (acks awaited
per 100) + pull fetch(100) + ack.

Beside the rates, the CPU time per message of each process: the consumer's from the moment
it listens and the publisher's from its first send (`time.process_time`), the server's over
the whole burst (/proc/PID/schedstat). On a shared machine the rates move with the other
load; the CPU a message costs the three processes together ("cpu vs raw": the raw clients'
total over ravyn's) is what the rate would be where CPU is the bound. `--backlog` measures
the durable consumers alone: N messages are published while the consumer is set up but not
reading, then it drains them (CPU per message, and the drain rate).

    python bench/bench_transports.py [--n 20000] [--rounds 2] [--only redis] [--backlog]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAYLOAD_SIZE = 256
BATCH = 100
EVENT = "bench.tick"
TIMEOUT = 40.0
PACED = 500  # messages of the latency run, one per millisecond

# scenario -> (baseline it is compared with, target ratio)
SCENARIOS: dict[str, tuple[str | None, float | None]] = {
    "raw redis pub/sub": (None, None),
    "ravyn redis broadcast": ("raw redis pub/sub", 0.7),
    "raw redis streams": (None, None),
    "ravyn redis durable": ("raw redis streams", 0.9),
    "raw nats core": (None, None),
    "ravyn nats broadcast": ("raw nats core", 0.7),
    "ravyn nats broadcast+js": ("raw nats core", None),
    "raw nats jetstream": (None, None),
    "ravyn nats durable": ("raw nats jetstream", 0.9),
}
DURABLE_SCENARIOS = (
    "raw redis streams",
    "ravyn redis durable",
    "raw nats jetstream",
    "ravyn nats durable",
)


def stamped(now_ns: int) -> bytes:
    """A 256-byte raw message starting with its send time."""
    return f"{now_ns:020d}".encode().ljust(PAYLOAD_SIZE, b".")


def payload(now_ns: int) -> dict[str, object]:
    """A payload whose JSON is 256 bytes, carrying its send time."""
    return {"sent": now_ns, "pad": "x" * (PAYLOAD_SIZE - 30)}


class Recorder:
    def __init__(self, n: int, backlog: bool) -> None:
        self.n = n
        self.backlog = backlog
        self.latencies: list[int] = []
        self.done = asyncio.Event()

    async def ready(self) -> None:
        """Say the consumer listens; with a backlog, wait until it is published. The
        consumer's CPU time counts from here."""
        print("ready", flush=True)
        if self.backlog:
            await asyncio.to_thread(sys.stdin.readline)
        self.first = time.monotonic_ns()
        self.cpu = time.process_time()

    def record(self, sent_ns: int) -> None:
        self.latencies.append(time.monotonic_ns() - sent_ns)
        if len(self.latencies) >= self.n:
            self.finished()

    def finished(self) -> None:
        self.last = time.monotonic_ns()
        self.cpu = time.process_time() - self.cpu
        self.done.set()

    async def wait(self) -> dict[str, object]:
        try:
            await asyncio.wait_for(self.done.wait(), TIMEOUT)
        except TimeoutError:
            self.finished()
        return {
            "received": len(self.latencies),
            "first": self.first,
            "last": self.last,
            "cpu": self.cpu,
            "latencies": self.latencies,
        }


# --- consumers: say they are ready, then print a JSON result ------------------------------


async def consume_raw_redis_pubsub(url: str, recorder: Recorder) -> dict[str, object]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("raw:tick")
    await recorder.ready()

    async def read() -> None:
        while not recorder.done.is_set():
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                recorder.record(int(message["data"][:20]))

    task = asyncio.create_task(read())
    result = await recorder.wait()
    task.cancel()
    return result


async def consume_raw_redis_streams(url: str, recorder: Recorder) -> dict[str, object]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    await client.delete("raw:stream")  # nothing left from a previous run
    await client.xgroup_create("raw:stream", "bench", id="$", mkstream=True)
    await recorder.ready()

    async def read() -> None:
        while not recorder.done.is_set():
            reply = await client.xreadgroup(
                "bench", "c1", {"raw:stream": ">"}, count=BATCH, block=1000
            )
            for _, entries in reply or ():
                for _, fields in entries:
                    recorder.record(int(fields[b"d"][:20]))
                await client.xack("raw:stream", "bench", *(entry_id for entry_id, _ in entries))

    task = asyncio.create_task(read())
    result = await recorder.wait()
    task.cancel()
    return result


async def consume_raw_nats_core(url: str, recorder: Recorder) -> dict[str, object]:
    import nats

    nc = await nats.connect(url)

    async def on_message(message) -> None:
        recorder.record(int(message.data[:20]))

    await nc.subscribe("raw.tick", cb=on_message)
    await nc.flush()
    await recorder.ready()
    result = await recorder.wait()
    await nc.close()
    return result


async def consume_raw_nats_jetstream(url: str, recorder: Recorder) -> dict[str, object]:
    import nats
    from nats.js.api import ConsumerConfig, DeliverPolicy

    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="RAW", subjects=["raw.js"])
    subscription = await js.pull_subscribe(
        "raw.js", durable="bench", stream="RAW",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW, max_ack_pending=10_000),
    )  # fmt: skip
    await recorder.ready()

    async def read() -> None:
        while not recorder.done.is_set():
            try:
                messages = await subscription.fetch(BATCH, timeout=1)
            except nats.errors.TimeoutError:
                continue
            for message in messages:
                recorder.record(int(message.data[:20]))
                await message.ack()

    task = asyncio.create_task(read())
    result = await recorder.wait()
    task.cancel()
    return result


def options(scenario: str) -> dict[str, object]:
    """ "ravyn nats broadcast" runs on core NATS only (jetstream=False): with JetStream on,
    every publish waits for the stream, and "+js" shows what that costs a broadcast."""
    return {"jetstream": False} if scenario == "ravyn nats broadcast" else {}


async def consume_ravyn(
    url: str, recorder: Recorder, scenario: str, broadcast: bool
) -> dict[str, object]:
    from ravyn.events.bus import EventBus
    from ravyn.events.listener import Listener
    from ravyn.events.registry import Registry
    from ravyn.events.transports import transport_from_url

    async def on_tick(sent: int) -> None:
        recorder.record(sent)

    registry = Registry()
    registry.add_listener(Listener(on_tick, (EVENT,), broadcast=broadcast))
    if recorder.backlog:  # make the consumer group, then read only once the backlog is there
        async with EventBus(registry, transport=transport_from_url(url, **options(scenario))):
            pass
        await recorder.ready()
    async with EventBus(registry, transport=transport_from_url(url, **options(scenario))):
        if not recorder.backlog:
            await recorder.ready()
        return await recorder.wait()


# --- publishers: return the send start time and CPU time --------------------------------


async def publish_raw_redis(url: str, n: int, stream: bool, batch: int) -> tuple[int, float]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(url)
    await client.ping()
    started, cpu = time.monotonic_ns(), time.process_time()
    for start in range(0, n, batch):
        await pace(batch)
        pipe = client.pipeline(transaction=False)
        for _ in range(min(batch, n - start)):
            if stream:
                fields = {"d": stamped(time.monotonic_ns())}
                pipe.xadd("raw:stream", fields, maxlen=100_000, approximate=True)
            else:
                pipe.publish("raw:tick", stamped(time.monotonic_ns()))
        await pipe.execute()
    await client.aclose()
    return started, cpu


async def publish_raw_nats(url: str, n: int, jetstream: bool, batch: int) -> tuple[int, float]:
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    started, cpu = time.monotonic_ns(), time.process_time()
    for start in range(0, n, batch):
        await pace(batch)
        if jetstream:
            acks = [
                await js.publish_async("raw.js", stamped(time.monotonic_ns()))
                for _ in range(min(batch, n - start))
            ]
            await asyncio.gather(*acks)
        else:
            for _ in range(min(batch, n - start)):
                await nc.publish("raw.tick", stamped(time.monotonic_ns()))
            if batch == 1:
                await nc.flush()
    await nc.flush()
    await nc.close()
    return started, cpu


async def publish_ravyn(url: str, scenario: str, n: int, batch: int) -> tuple[int, float]:
    from ravyn.events.bus import EventBus
    from ravyn.events.registry import Registry
    from ravyn.events.transports import transport_from_url

    transport = transport_from_url(url, **options(scenario))
    async with EventBus(Registry(), transport=transport, grace_period=30.0) as bus:
        started, cpu = time.monotonic_ns(), time.process_time()
        for _ in range(n):
            await pace(batch)
            await bus.emit(EVENT, payload(time.monotonic_ns()))
    return started, cpu


async def pace(batch: int) -> None:
    """In the latency run (batch 1), send one message per millisecond (about)."""
    if batch == 1:
        await asyncio.sleep(0.001)


async def run_role(role: str, scenario: str, url: str, n: int, batch: int, backlog: bool) -> None:
    if role == "publish":
        # Each publisher returns when the server has everything: its monotonic time and CPU
        # time at the first send.
        if scenario.startswith("ravyn"):
            started, cpu = await publish_ravyn(url, scenario, n, batch)
        elif "redis" in scenario:
            started, cpu = await publish_raw_redis(url, n, "streams" in scenario, batch)
        else:
            started, cpu = await publish_raw_nats(url, n, "jetstream" in scenario, batch)
        print(json.dumps({"started": started, "cpu": time.process_time() - cpu}), flush=True)
        return
    recorder = Recorder(n, backlog)
    consumers = {
        "raw redis pub/sub": lambda: consume_raw_redis_pubsub(url, recorder),
        "raw redis streams": lambda: consume_raw_redis_streams(url, recorder),
        "raw nats core": lambda: consume_raw_nats_core(url, recorder),
        "raw nats jetstream": lambda: consume_raw_nats_jetstream(url, recorder),
    }
    if scenario in consumers:
        result = await consumers[scenario]()
    else:
        result = await consume_ravyn(url, recorder, scenario, broadcast="broadcast" in scenario)
    print(json.dumps(result), flush=True)


# --- orchestration ------------------------------------------------------------------------


CALLER_PATH = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
"""Kept after this checkout in the processes the bench starts (to hide hiredis, say)."""


def spawn(
    role: str, scenario: str, url: str, n: int, batch: int, backlog: bool = False
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, __file__, "--role", role, "--scenario", scenario, "--url", url,
            "--n", str(n), "--batch", str(batch), *(["--backlog"] if backlog else []),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *CALLER_PATH])},
    )  # fmt: skip


def run_pair(
    scenario: str, url: str, n: int, batch: int, backlog: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start the consumer, wait until it listens, run the publisher (with a backlog: then
    let the consumer read); both results."""
    consumer = spawn("consume", scenario, url, n, batch, backlog)
    assert consumer.stdout is not None
    if consumer.stdout.readline().strip() != "ready":
        raise RuntimeError(f"{scenario}: the consumer did not start")
    publisher = spawn("publish", scenario, url, n, batch)
    published, _ = publisher.communicate(timeout=TIMEOUT + 20)
    received, _ = consumer.communicate("go\n", timeout=TIMEOUT + 20)
    return (
        json.loads(published.strip().splitlines()[-1]),
        json.loads(received.strip().splitlines()[-1]),
    )


def process_cpu(pid: int) -> float:
    """CPU seconds the threads of a process have run so far (the scheduler's count, in ns:
    /proc/PID/stat counts in 10 ms ticks, too coarse for a burst). Every thread: nats-server
    works on several."""
    return (
        sum(
            int(stat.read_text().split()[0])
            for stat in Path(f"/proc/{pid}/task").glob("*/schedstat")
        )
        / 1e9
    )


def measure(scenario: str, url: str, n: int, server_pid: int) -> dict[str, float]:
    """Throughput from a burst of n; latency from a paced run (a burst measures queueing)."""
    server_cpu = process_cpu(server_pid)
    published, burst = run_pair(scenario, url, n, BATCH)
    server_cpu = process_cpu(server_pid) - server_cpu
    elapsed = (burst["last"] - published["started"]) / 1e9
    _, paced = run_pair(scenario, url, PACED, 1)
    percentiles = statistics.quantiles(paced["latencies"], n=100)
    return {
        "received": burst["received"],
        "rate": burst["received"] / elapsed if elapsed > 0 else 0.0,
        "p50": percentiles[49] / 1000,
        "p99": percentiles[98] / 1000,
        "consumer": burst["cpu"] / n * 1e6,
        "publisher": published["cpu"] / n * 1e6,
        "server": server_cpu / n * 1e6,
    }


def measure_backlog(scenario: str, url: str, n: int, server_pid: int) -> dict[str, float]:
    """A durable consumer draining n messages published before it read any (the server's
    CPU counts from the publisher's start: it is the server's cost of both sides)."""
    server_cpu = process_cpu(server_pid)
    _, drained = run_pair(scenario, url, n, BATCH, backlog=True)
    server_cpu = process_cpu(server_pid) - server_cpu
    elapsed = (drained["last"] - drained["first"]) / 1e9
    return {
        "received": drained["received"],
        "rate": drained["received"] / elapsed if elapsed > 0 else 0.0,
        "consumer": drained["cpu"] / n * 1e6,
        "server": server_cpu / n * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs")
    parser.add_argument("--role")
    parser.add_argument("--scenario")
    parser.add_argument("--url")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument(
        "--backlog", action="store_true", help="durable consumers draining a backlog of n"
    )
    args = parser.parse_args()
    if args.role:
        import logging

        import structlog

        structlog.configure(  # results go to stdout; warnings and errors to stderr
            wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        )
        role = run_role(args.role, args.scenario, args.url, args.n, args.batch, args.backlog)
        asyncio.run(role)
        return

    from tests.support.servers import NATSServer, RedisServer

    scenarios = [
        scenario
        for scenario in SCENARIOS
        if (not args.only or args.only in scenario)
        and (not args.backlog or scenario in DURABLE_SCENARIOS)
    ]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Best of `rounds`, scenarios interleaved: other load on the machine then hits the raw
        # clients and ravyn alike instead of skewing one side of a ratio.
        for round_number, scenario in itertools.product(range(args.rounds), scenarios):
            # A fresh server per scenario: no backlog or consumer left from the previous one.
            data = Path(tmp) / f"{round_number}-{scenario}".replace(" ", "_").replace("/", "_")
            data.mkdir()
            server = RedisServer(data) if "redis" in scenario else NATSServer(data)
            if "redis" in scenario:  # measure the transport, not fsync on every write
                server.command = [*server.command[:-6], "--appendonly", "no", "--save", ""]
            server.start()
            try:
                assert server.process is not None
                measured = measure_backlog if args.backlog else measure
                r = measured(scenario, server.url, args.n, server.process.pid)
            finally:
                server.stop()
            best = results.setdefault(scenario, r)
            results[scenario] = {
                **max(best, r, key=lambda x: x["rate"]),
                **{key: min(best[key], r[key]) for key in r if key not in ("rate", "received")},
            }
            print(f"{scenario:<24} {row(r)}   ({r['received']}/{args.n})", flush=True)

    print(
        f"\nSummary, best of {args.rounds}: "
        + (
            f"durable consumers draining {args.n} messages of {PAYLOAD_SIZE} bytes published "
            "before they read (events/s, consumer CPU per event)"
            if args.backlog
            else f"{args.n} messages of {PAYLOAD_SIZE} bytes as fast as possible (events/s, "
            f"CPU per event of each side), then {PACED} at one per ms (latency); publisher "
            "and consumer in two processes"
        )
    )
    measured = set().union(*results.values())
    columns = [column for column in COLUMNS if column[1] in measured]
    header = ["scenario".ljust(24), *(f"{title:>{width}}" for title, _, width in columns)]
    print(" ".join([*header, f"{'vs raw':>11}", f"{'cpu vs raw':>11}", f"{'target':>7}"]))
    for scenario, r in results.items():
        baseline, target = SCENARIOS[scenario]
        ratios = ["", ""]
        if baseline in results:
            raw = results[baseline]
            cpu = [sum(x.get(key, 0.0) for key in CPU_KEYS) for x in (raw, r)]
            rate = r["rate"] / raw["rate"]
            mark = "" if target is None else (" ok" if rate >= target else " LOW")
            ratios = [f"{rate:.2f}x{mark}", f"{cpu[0] / cpu[1]:.2f}x"]
        print(
            f"{scenario:<24} {row(r, columns)} {ratios[0]:>11} {ratios[1]:>11} "
            f"{'' if target is None else f'{target}x':>7}"
        )


# (title, key, width) of the summary's figures
COLUMNS = [
    ("events/s", "rate", 10),
    ("cons us", "consumer", 8),
    ("pub us", "publisher", 8),
    ("srv us", "server", 8),
    ("p50 us", "p50", 8),
    ("p99 us", "p99", 8),
]


CPU_KEYS = ("consumer", "publisher", "server")


def row(r: dict[str, float], columns: list[tuple[str, str, int]] = COLUMNS) -> str:
    return " ".join(
        f"{r[key]:>{width},.{1 if key in CPU_KEYS else 0}f}"
        for _, key, width in columns
        if key in r
    )


if __name__ == "__main__":
    main()
