"""Each test registers into its own registry and runs its own bus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ravyn.events import EventBus, Registry, bus_context, use_registry


@pytest.fixture
def registry() -> Iterator[Registry]:
    with use_registry(Registry()) as registry:
        yield registry


@pytest.fixture
def bus(registry: Registry) -> Iterator[EventBus]:
    """An unstarted bus on the test's registry, current for ``trigger_event``."""
    bus = EventBus(registry, grace_period=1.0)
    with bus_context(bus):
        yield bus
