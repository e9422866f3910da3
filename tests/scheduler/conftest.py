from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ravyn.events.registry import Registry, active_registry, use_registry


class DeclaredJobs:
    """The jobs declared so far in the active registry (read live: a test may make its
    own registry inside the one of this fixture)."""

    def __iter__(self) -> Iterator[Any]:
        return iter(active_registry().jobs)

    def __getitem__(self, index: int) -> Any:
        return active_registry().jobs[index]

    def __len__(self) -> int:
        return len(active_registry().jobs)


@pytest.fixture(autouse=True)
def isolated_jobs() -> Iterator[DeclaredJobs]:
    """Each test declares its jobs (and scheduler options) into a registry of its own."""
    with use_registry(Registry()):
        yield DeclaredJobs()
