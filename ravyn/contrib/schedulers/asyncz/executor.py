"""asyncz's asyncio executor, made to tell each run the time it was scheduled for.

asyncz calls a task's function without its scheduled run time, yet a cluster needs it:
every process must name one fire identically to claim it once. The executor receives the
run times; it puts them in a ContextVar, which the asyncio task it creates copies, and
`scheduled_fire_time()` reads them back inside the run.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from asyncz.executors.asyncio import AsyncIOExecutor

_pending_fire_times: ContextVar[list[datetime] | None] = ContextVar(
    "ravyn_scheduled_fire_times", default=None
)


class FireTimeExecutor(AsyncIOExecutor):
    """Runs coroutine tasks on the running loop, like AsyncIOExecutor, with their run times."""

    def do_send_task(self, task: Any, run_times: list[datetime]) -> None:
        token = _pending_fire_times.set(list(run_times))
        try:
            super().do_send_task(task, run_times)
        finally:
            _pending_fire_times.reset(token)


def scheduled_fire_time() -> datetime:
    """The scheduled time of the run in progress, in UTC.

    asyncz calls the function once per run time it hands over (several only when
    `coalesce=False` and runs were missed), in order, so each call takes the next one.
    A job run by another executor gets the current time truncated to the second.
    """
    pending = _pending_fire_times.get()
    if pending:
        return pending.pop(0).astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)
