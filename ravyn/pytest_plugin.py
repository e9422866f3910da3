"""A pytest plugin for the tests of a ravyn app: the ``app``, ``client`` and
``captured_events`` fixtures.

Enable it in the ``conftest.py`` of your tests::

    pytest_plugins = ["ravyn.pytest_plugin"]

and name the app in the pytest configuration (``ravyn_app = main:app``), or define an
``app`` fixture of your own (it wins over this one). ``ravyn_test_transport = memory://``
runs an app built with a Redis or NATS transport on the in-memory one: no broker to start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ravyn.events.testing import Capture, capture
from ravyn.testclient import TestClient


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("ravyn_app", "the app under test, as module:app (e.g. main:app)", default="")
    parser.addini(
        "ravyn_test_transport",
        "event transport the client runs the app on, e.g. memory:// (default: the app's)",
        default="",
    )


@pytest.fixture
def app(pytestconfig: pytest.Config) -> Any:
    """The app named by ``ravyn_app`` (imported from the directory of the configuration)."""
    from ravyn.cli.command import CommandError
    from ravyn.cli.targets import load_app, make_importable

    target = pytestconfig.getini("ravyn_app")
    if not target:
        raise pytest.UsageError(
            "the app fixture needs the app: set ravyn_app = module:app in the pytest "
            "configuration, or define an app fixture in conftest.py"
        )
    make_importable(pytestconfig.rootpath)
    try:
        return load_app(target)
    except CommandError as exc:
        raise pytest.UsageError(f"ravyn_app = {target}: {exc}") from exc


@pytest.fixture
def client(app: Any, pytestconfig: pytest.Config) -> Iterator[TestClient]:
    """A ``TestClient`` with the app running (bus, startup code, scheduler) for the test."""
    transport = pytestconfig.getini("ravyn_test_transport") or None
    with TestClient(app, event_transport=transport) as test_client:
        yield test_client


@pytest.fixture
def captured_events(app: Any, client: TestClient) -> Iterator[Capture]:
    """What the running app emits and how each listener ends, during the test."""
    with capture(app.events) as captured:
        yield captured
