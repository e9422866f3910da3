"""`@scheduler(...)`: declare that a function runs on a schedule.

Declaring registers a `ScheduledJob` in the active registry when the module is imported,
as `@observable` registers a listener; the app's scheduler (`AppScheduler`) starts the
jobs of its registry. The function itself is returned unchanged, so calling it by hand
still runs it (and sends its events).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, TypeVar

from ravyn.events.decorators import CALLED_BY_ATTRIBUTE
from ravyn.events.registry import Registry, active_registry

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_LOCK_TTL = 60.0
"""Seconds a cluster-wide "fired" mark lives; longer than the clock skew between processes."""

# asyncz's own spelling of the option, and the spelling users know from APScheduler.
_OPTION_ALIASES = {"misfire_grace_time": "mistrigger_grace_time"}
# add_task parameters that the decorator sets itself.
_RESERVED_OPTIONS = {"fn_or_task", "fn", "trigger", "name", "replace_existing", "trigger_args"}


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """One declared job: what to call, when, and the asyncz options of its task."""

    name: str
    func: Callable[..., Any]
    trigger: Any  # an asyncz trigger
    options: dict[str, Any] = field(default_factory=dict)
    lock_ttl: float = DEFAULT_LOCK_TTL

    @property
    def origin(self) -> str:
        return f"{self.func.__module__}:{self.func.__qualname__}"


def scheduler(
    name: str | None = None,
    cron: str | None = None,
    trigger: Any = None,
    *,
    timezone: tzinfo | str | None = None,
    lock_ttl: float = DEFAULT_LOCK_TTL,
    **options: Any,
) -> Callable[[F], F]:
    """Run the decorated function on a schedule while the app runs.

    Give either `cron=` (a five-field crontab string, days of week counted as crontab
    does: 0 or 7 = Sunday) or `trigger=` (any asyncz trigger, e.g. `IntervalTrigger`).
    `name` (default: the function's name) names the job in logs and in the cluster-wide
    once-per-fire key; `timezone` applies to `cron=`. Other keyword arguments are asyncz
    task options, passed through: `id`, `max_instances`, `coalesce`,
    `misfire_grace_time` (asyncz: `mistrigger_grace_time`), `next_run_time`, `store`,
    `executor`, `args`, `kwargs`. Place it above `@observable(send=[...])`.
    """
    make = job_factory(name, cron, trigger, timezone=timezone, lock_ttl=lock_ttl, **options)

    def declare(func: F) -> F:
        register_job(active_registry(), make(func))
        setattr(func, CALLED_BY_ATTRIBUTE, "@scheduler(...)")  # refuses @observable(send) above
        return func

    return declare


def job_factory(
    name: str | None = None,
    cron: str | None = None,
    trigger: Any = None,
    *,
    timezone: tzinfo | str | None = None,
    lock_ttl: float = DEFAULT_LOCK_TTL,
    **options: Any,
) -> Callable[[Callable[..., Any]], ScheduledJob]:
    """Check the arguments of `@scheduler(...)` (or `app.scheduler.add`) now; return what
    makes the job of a function."""
    job_trigger = _trigger_from(cron, trigger, timezone)
    task_options = _checked_options(options)
    if lock_ttl <= 0:
        raise ValueError(f"lock_ttl must be a positive number of seconds, got {lock_ttl!r}")

    def make(func: Callable[..., Any]) -> ScheduledJob:
        if not callable(func):
            raise TypeError(f"@scheduler decorates a function, got {func!r}")
        return ScheduledJob(
            name=name or func.__name__,
            func=func,
            trigger=job_trigger,
            options=task_options,
            lock_ttl=lock_ttl,
        )

    return make


def _trigger_from(cron: str | None, trigger: Any, timezone: tzinfo | str | None) -> Any:
    if (cron is None) == (trigger is None):
        raise ValueError(
            "@scheduler needs exactly one of cron='0 2 * * *' or "
            "trigger=IntervalTrigger(seconds=30) (any asyncz trigger)"
        )
    try:
        from asyncz.triggers.base import BaseTrigger

        from ravyn.contrib.schedulers.asyncz.crontab import crontab_trigger
    except ImportError:
        raise ImportError(
            "@scheduler needs the asyncz package: install ravyn with its 'scheduler' extra"
        ) from None
    if cron is not None:
        return crontab_trigger(cron, timezone)
    if timezone is not None:
        raise ValueError("timezone= applies to cron=; give a trigger its own timezone")
    if not isinstance(trigger, BaseTrigger):
        raise TypeError(
            f"trigger= must be an asyncz trigger (CronTrigger, IntervalTrigger, DateTrigger, "
            f"...), got {trigger!r}"
        )
    return trigger


def _checked_options(options: dict[str, Any]) -> dict[str, Any]:
    from asyncz.schedulers.asyncio import AsyncIOScheduler

    renamed = {_OPTION_ALIASES.get(key, key): value for key, value in options.items()}
    known = set(inspect.signature(AsyncIOScheduler.add_task).parameters) - {"self"}
    unknown = sorted(set(renamed) - (known - _RESERVED_OPTIONS))
    if unknown:
        allowed = sorted((known - _RESERVED_OPTIONS) | set(_OPTION_ALIASES))
        raise TypeError(f"@scheduler got unknown option(s) {unknown}; asyncz accepts {allowed}")
    return renamed


def register_job(registry: Registry, job: ScheduledJob) -> ScheduledJob:
    """Add a job; re-importing its module replaces it, another function may not take its name."""
    for existing in registry.jobs:
        if existing.name == job.name and existing.origin != job.origin:
            raise ValueError(
                f"two scheduled jobs are named {job.name!r} ({existing.origin} and "
                f"{job.origin}): give one of them @scheduler(name=...)"
            )
    return registry.add_job(job)
