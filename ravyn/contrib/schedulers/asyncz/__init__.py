"""Scheduled jobs on asyncz: `@scheduler(...)` declares, `scheduler_lifespan(bus)` runs them.

Importing this package does not import asyncz; declaring a job does.
"""

from ravyn.contrib.schedulers.asyncz.decorator import ScheduledJob, registered_jobs, scheduler
from ravyn.contrib.schedulers.asyncz.runner import configure_scheduler, scheduler_lifespan

__all__ = [
    "ScheduledJob",
    "configure_scheduler",
    "registered_jobs",
    "scheduler",
    "scheduler_lifespan",
]
