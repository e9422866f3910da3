from __future__ import annotations

from collections.abc import Iterator

import pytest

from ravyn.contrib.schedulers.asyncz import decorator, runner


@pytest.fixture(autouse=True)
def isolated_jobs() -> Iterator[list[decorator.ScheduledJob]]:
    """Each test declares its own jobs; the process-wide list is restored afterwards."""
    saved_jobs = list(decorator.registered_jobs)
    saved_options = dict(runner.scheduler_options)
    decorator.registered_jobs.clear()
    yield decorator.registered_jobs
    decorator.registered_jobs[:] = saved_jobs
    runner.scheduler_options.clear()
    runner.scheduler_options.update(saved_options)
