from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

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


def _caching_conftest() -> ModuleType:
    """tests/caching/conftest.py, for its shared fixtures (tests is no package)."""
    path = Path(__file__).parents[1] / "caching" / "conftest.py"
    spec = importlib.util.spec_from_file_location("scheduler_caching_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_shared = _caching_conftest()
redis_url = _shared.redis_url
load_docs_src = _shared.load_docs_src


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real nats-server with JetStream (fails under CI=true if missing)."""
    servers = _shared.load_transport_servers()
    server = servers.NATSServer(tmp_path_factory.mktemp("nats-scheduler"))
    server.start()
    yield server.url
    server.stop()
