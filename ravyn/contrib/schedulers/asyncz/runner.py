"""Start the declared jobs with the app and stop them with it: `scheduler_lifespan(bus)`.

Each run happens inside `bus_context(bus)`, so `@observable(send=...)` jobs emit on the
app's bus. A failing run is logged and the schedule goes on. With a transport, a run first
claims `schedule:<job>:<scheduled time>` cluster-wide and is skipped if another
process claimed it.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import structlog

from ravyn.contrib.schedulers.asyncz import decorator
from ravyn.contrib.schedulers.asyncz.decorator import ScheduledJob
from ravyn.events.context import bus_context

if TYPE_CHECKING:
    from asyncz.schedulers.asyncio import NativeAsyncIOScheduler

    from ravyn.events.bus import EventBus

logger = structlog.get_logger("ravyn.scheduler")

DEFAULT_SHUTDOWN_GRACE = 5.0

DEFAULT_SCHEDULER_OPTIONS: dict[str, Any] = {"timezone": "UTC"}

scheduler_options: dict[str, Any] = dict(DEFAULT_SCHEDULER_OPTIONS)
"""asyncz scheduler options used by every lifespan; set them with `configure_scheduler`."""

_schedules: dict[str, _Schedule] = {}


def configure_scheduler(**options: Any) -> None:
    """Set scheduler-wide asyncz options: `timezone` (default "UTC"), `stores`,
    `executors`, `task_defaults`, ... Call it before the app starts."""
    scheduler_options.clear()
    scheduler_options.update({**DEFAULT_SCHEDULER_OPTIONS, **options})


@asynccontextmanager
async def scheduler_lifespan(
    bus: EventBus, *, shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE
) -> AsyncIterator[NativeAsyncIOScheduler | None]:
    """Run every declared job while the block runs; without jobs, do nothing.

    Yields the running asyncz scheduler (None without jobs), e.g. to run a job now:
    `asyncz_scheduler.run_task("heartbeat")`. At exit no new run starts; runs in
    progress get `shutdown_grace` seconds to finish, then are cancelled (and logged).
    """
    jobs = list(decorator.registered_jobs)
    if not jobs:
        yield None
        return
    from asyncz.schedulers.asyncio import NativeAsyncIOScheduler

    from ravyn.contrib.schedulers.asyncz.executor import FireTimeExecutor  # needs asyncz

    options = dict(scheduler_options)
    options["executors"] = {"default": FireTimeExecutor(), **options.get("executors", {})}
    asyncz_scheduler = NativeAsyncIOScheduler(**options)
    schedule = _Schedule(bus, jobs)
    _schedules[schedule.id] = schedule
    for job in jobs:
        task_options = {"id": job.name, **job.options}
        asyncz_scheduler.add_task(
            f"{__name__}:run_scheduled_job",  # by reference, so persistent stores can save it
            trigger=job.trigger,
            args=(schedule.id, job.name),
            name=job.name,
            replace_existing=True,
            **task_options,
        )
    await asyncz_scheduler.start()
    logger.info("scheduler_started", jobs=[job.name for job in jobs])
    try:
        yield asyncz_scheduler
    finally:
        asyncz_scheduler.pause()
        await schedule.drain(shutdown_grace)
        await asyncz_scheduler.shutdown(wait=False)
        del _schedules[schedule.id]
        logger.info("scheduler_stopped")


async def run_scheduled_job(schedule_id: str, job_name: str) -> None:
    """What asyncz calls at each fire: run one job of one lifespan."""
    from ravyn.contrib.schedulers.asyncz.executor import scheduled_fire_time

    fire_time = scheduled_fire_time()
    schedule = _schedules.get(schedule_id)
    if schedule is None:  # a task saved by a lifespan that has ended
        return
    await schedule.run(job_name, fire_time.isoformat())


class _Schedule:
    """The jobs of one lifespan, the bus they emit on, and their runs in progress."""

    def __init__(self, bus: EventBus, jobs: list[ScheduledJob]) -> None:
        self.id = uuid.uuid4().hex
        self.bus = bus
        self.jobs = {job.name: job for job in jobs}
        self.running: set[asyncio.Task[Any]] = set()

    async def run(self, job_name: str, fire_time: str) -> None:
        job = self.jobs[job_name]
        log = logger.bind(job=job.name, fire_time=fire_time)
        task = asyncio.current_task()
        assert task is not None
        self.running.add(task)
        try:
            transport = self.bus.transport
            if transport is not None:
                key = f"schedule:{job.name}:{fire_time}"  # the transport adds its prefix
                if not await transport.acquire_once(key, job.lock_ttl):
                    log.debug("scheduled_job_skipped", reason="another process fired it")
                    return
            with bus_context(self.bus):
                await _call(job.func)
            log.info("scheduled_job_done")  # once per cluster: the skips are at debug
        except Exception:
            log.exception("scheduled_job_failed")
        finally:
            self.running.discard(task)

    async def drain(self, grace: float) -> None:
        if not self.running:
            return
        _, unfinished = await asyncio.wait(set(self.running), timeout=grace)
        for task in unfinished:
            task.cancel()
        if unfinished:
            logger.warning("scheduled_jobs_cancelled", count=len(unfinished), grace=grace)
            await asyncio.wait(unfinished)


async def _call(func: Any) -> None:
    """Await a coroutine function; run a sync one in a worker thread (the loop stays free)."""
    if inspect.iscoroutinefunction(func):
        await func()
    else:
        await anyio.to_thread.run_sync(func)
