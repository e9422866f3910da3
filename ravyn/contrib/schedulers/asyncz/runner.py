"""An app's scheduler: its registry's jobs on asyncz while the app runs, and their control.

`AppScheduler` (`app.scheduler`) starts the jobs of its bus's registry with the app and
stops them with it; while the app runs, `jobs()`, `add(...)`, `pause(name)`,
`resume(name)`, `run(name)` and `remove(name)` change them from any handler. Each run
happens inside `bus_context(bus)`, so `@observable(send=...)` jobs emit on the app's bus.
A failing run is logged and the schedule goes on. With a transport, a scheduled run first
claims `schedule:<job>:<scheduled time>` cluster-wide and is skipped if another process
claimed it, so a job runs once per fire time in the cluster, declared or added at runtime.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import structlog

from ravyn.contrib.schedulers.asyncz.decorator import ScheduledJob, job_factory, register_job
from ravyn.events.context import bus_context
from ravyn.events.registry import active_registry

if TYPE_CHECKING:
    from asyncz.schedulers.asyncio import AsyncIOScheduler

    from ravyn.events.bus import EventBus

logger = structlog.get_logger("ravyn.scheduler")

DEFAULT_SHUTDOWN_GRACE = 5.0

DEFAULT_SCHEDULER_OPTIONS: dict[str, Any] = {"timezone": "UTC"}


def configure_scheduler(**options: Any) -> None:
    """Set the asyncz scheduler options of the active registry's apps: `timezone`
    (default "UTC"), `stores`, `executors`, `task_defaults`, ... before the app starts."""
    active_registry().scheduler_options = {**DEFAULT_SCHEDULER_OPTIONS, **options}


@dataclass(frozen=True, slots=True)
class JobState:
    """What `AppScheduler.jobs()` says of one job."""

    name: str
    trigger: str
    next_run_time: datetime | None
    paused: bool


class AppScheduler:
    """The scheduled jobs of one app (its bus's registry) and their asyncz scheduler."""

    def __init__(self, bus: EventBus, *, shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE) -> None:
        self.bus = bus
        self.shutdown_grace = shutdown_grace
        self._asyncz: AsyncIOScheduler | None = None
        self._active = False
        self._paused: set[str] = set()
        self._runs: set[asyncio.Task[Any]] = set()

    # -- control -----------------------------------------------------------------------

    def jobs(self) -> list[JobState]:
        """Every job, with its next run time (None before the app starts or when paused)."""
        states = []
        for job in self.bus.registry.jobs:
            task = self._task(job)
            next_run = getattr(task, "next_run_time", None) if task is not None else None
            states.append(JobState(job.name, str(job.trigger), next_run, job.name in self._paused))
        return states

    def add(
        self,
        func: Callable[..., Any],
        name: str | None = None,
        cron: str | None = None,
        trigger: Any = None,
        **options: Any,
    ) -> ScheduledJob:
        """Schedule ``func`` for this app, with the options of ``@scheduler(...)``; while
        the app runs it is scheduled at once. Only this app runs it."""
        job = job_factory(name, cron, trigger, **options)(func)
        register_job(self.bus.registry, job)
        if self._active:
            self._schedule(job)
        return job

    def pause(self, name: str) -> None:
        """No run of ``name`` until ``resume(name)`` (it sends no events meanwhile)."""
        job = self._job(name)
        self._paused.add(name)
        if self._asyncz is not None:
            self._asyncz.pause_task(_task_id(job))
        logger.info("scheduled_job_paused", job=name)

    def resume(self, name: str) -> None:
        """Schedule ``name`` again from its next fire time."""
        job = self._job(name)
        self._paused.discard(name)
        if self._asyncz is not None:
            self._asyncz.resume_task(_task_id(job))
        logger.info("scheduled_job_resumed", job=name)

    async def run(self, name: str) -> None:
        """Run ``name`` now, once, in this process (its schedule is unchanged)."""
        await self._run(self._job(name), claim=None)

    def remove(self, name: str) -> None:
        """Unschedule ``name`` for this app."""
        job = self._job(name)
        if self._asyncz is not None and self._task(job) is not None:
            self._asyncz.delete_task(_task_id(job))
        self._paused.discard(name)
        self.bus.registry.remove_job(name)
        logger.info("scheduled_job_removed", job=name)

    # -- lifespan ----------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[AsyncIOScheduler | None]:
        """Run the jobs while the block runs. Yields the asyncz scheduler, or None when
        there is no job yet (the first ``add`` starts it). At exit no new run starts;
        runs in progress get ``shutdown_grace`` seconds, then are cancelled (logged)."""
        self._active = True
        try:
            jobs = self.bus.registry.jobs
            for job in jobs:
                self._schedule(job)
            yield self._asyncz
        finally:
            self._active = False
            if self._asyncz is not None:
                self._asyncz.pause()
                await self._drain()
                self._asyncz.shutdown(wait=False)
                self._asyncz = None
                logger.info("scheduler_stopped")

    def _schedule(self, job: ScheduledJob) -> None:
        asyncz = self._asyncz or self._start()
        asyncz.add_task(
            f"{__name__}:run_scheduled_job",  # by reference, so persistent stores can save it
            trigger=job.trigger,
            args=(job.name,),
            name=job.name,
            replace_existing=True,
            **{"id": job.name, **job.options},
        )
        if job.name in self._paused:
            asyncz.pause_task(_task_id(job))

    def _start(self) -> AsyncIOScheduler:
        from asyncz.schedulers.asyncio import AsyncIOScheduler

        from ravyn.contrib.schedulers.asyncz.executor import FireTimeExecutor  # needs asyncz

        options = dict(DEFAULT_SCHEDULER_OPTIONS)
        options.update(self.bus.registry.options_for_scheduler())
        executor = FireTimeExecutor(self)
        options["executors"] = {"default": executor, **options.get("executors", {})}
        asyncz = self._asyncz = AsyncIOScheduler(**options)
        asyncz.start()  # on the running event loop
        logger.info("scheduler_started", jobs=[job.name for job in self.bus.registry.jobs])
        return asyncz

    # -- runs --------------------------------------------------------------------------

    async def fire(self, job_name: str, fire_time: datetime) -> None:
        """A scheduled run (called by asyncz through `run_scheduled_job`)."""
        job = next((job for job in self.bus.registry.jobs if job.name == job_name), None)
        if job is None or job.name in self._paused:
            return  # removed or paused since asyncz queued the run
        await self._run(job, claim=fire_time.isoformat())

    async def _run(self, job: ScheduledJob, claim: str | None) -> None:
        log = logger.bind(job=job.name, fire_time=claim)
        task = asyncio.current_task()
        assert task is not None
        self._runs.add(task)
        try:
            transport = self.bus.transport
            if transport is not None and claim is not None:
                key = f"schedule:{job.name}:{claim}"  # the transport adds its prefix
                if not await transport.acquire_once(key, job.lock_ttl):
                    log.debug("scheduled_job_skipped", reason="another process fired it")
                    return
            with bus_context(self.bus):
                await _call(job.func)
            log.info("scheduled_job_done")  # once per cluster: the skips are at debug
        except Exception:
            log.exception("scheduled_job_failed")
        finally:
            self._runs.discard(task)

    async def _drain(self) -> None:
        if not self._runs:
            return
        _, unfinished = await asyncio.wait(set(self._runs), timeout=self.shutdown_grace)
        for task in unfinished:
            task.cancel()
        if unfinished:
            logger.warning(
                "scheduled_jobs_cancelled", count=len(unfinished), grace=self.shutdown_grace
            )
            await asyncio.wait(unfinished)

    def _job(self, name: str) -> ScheduledJob:
        for job in self.bus.registry.jobs:
            if job.name == name:
                return job
        known = [job.name for job in self.bus.registry.jobs]
        raise KeyError(f"no scheduled job named {name!r}; this app has {known}")

    def _task(self, job: ScheduledJob) -> Any:
        return self._asyncz.get_task(_task_id(job)) if self._asyncz is not None else None


@asynccontextmanager
async def scheduler_lifespan(
    bus: EventBus, *, shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE
) -> AsyncIterator[AsyncIOScheduler | None]:
    """Run the jobs of ``bus.registry`` while the block runs (``AppScheduler.running``)."""
    async with AppScheduler(bus, shutdown_grace=shutdown_grace).running() as asyncz:
        yield asyncz


async def run_scheduled_job(job_name: str) -> None:
    """What asyncz calls at each fire: one run of a job of the scheduler that fired it."""
    from ravyn.contrib.schedulers.asyncz.executor import scheduled_run

    scheduler, fire_time = scheduled_run()
    if scheduler is not None:  # None: a task a stopped scheduler saved in a store
        await scheduler.fire(job_name, fire_time)


def _task_id(job: ScheduledJob) -> str:
    return str(job.options.get("id", job.name))


async def _call(func: Any) -> None:
    """Await a coroutine function; run a sync one in a worker thread (the loop stays free)."""
    if inspect.iscoroutinefunction(func):
        await func()
    else:
        await anyio.to_thread.run_sync(func)
