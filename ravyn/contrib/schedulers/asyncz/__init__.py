"""Scheduled jobs on asyncz: `@scheduler(...)` declares, `app.scheduler` runs and controls.

Importing this package does not import asyncz; declaring a job does.
"""

from ravyn.contrib.schedulers.asyncz.decorator import ScheduledJob, scheduler
from ravyn.contrib.schedulers.asyncz.runner import (
    AppScheduler,
    JobState,
    configure_scheduler,
    scheduler_lifespan,
)

__all__ = [
    "AppScheduler",
    "JobState",
    "ScheduledJob",
    "configure_scheduler",
    "scheduler",
    "scheduler_lifespan",
]
