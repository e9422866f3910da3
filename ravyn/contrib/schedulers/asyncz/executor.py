"""asyncz's asyncio executor, made to tell each run its scheduler and scheduled time.

asyncz calls a task's function without its scheduled run time, yet a cluster needs it:
every process must name one fire identically to claim it once. The executor receives the
run times; it puts them, with the app scheduler it belongs to, in a ContextVar, which the
asyncio task it creates copies, and `scheduled_run()` reads them back inside the run.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asyncz.executors.asyncio import AsyncIOExecutor

if TYPE_CHECKING:
    from ravyn.contrib.schedulers.asyncz.runner import AppScheduler

_pending_runs: ContextVar[tuple[AppScheduler, list[datetime]] | None] = ContextVar(
    "ravyn_scheduled_runs", default=None
)


class FireTimeExecutor(AsyncIOExecutor):
    """Runs coroutine tasks on the running loop, like AsyncIOExecutor, with their run times."""

    def __init__(self, scheduler: AppScheduler, **options: Any) -> None:
        super().__init__(**options)
        self.app_scheduler = scheduler

    def do_send_task(self, task: Any, run_times: list[datetime]) -> None:
        token = _pending_runs.set((self.app_scheduler, list(run_times)))
        try:
            super().do_send_task(task, run_times)
        finally:
            _pending_runs.reset(token)


def scheduled_run() -> tuple[AppScheduler | None, datetime]:
    """The app scheduler and scheduled time (UTC) of the run in progress.

    asyncz calls the function once per run time it hands over (several only when
    `coalesce=False` and runs were missed), in order, so each call takes the next one.
    A job run by another executor gets no scheduler and the current time.
    """
    pending = _pending_runs.get()
    if pending is None or not pending[1]:
        return None, datetime.now(UTC).replace(microsecond=0)
    return pending[0], pending[1].pop(0).astimezone(UTC)
