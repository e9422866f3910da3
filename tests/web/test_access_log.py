"""The access line: rendered by ravyn under its own JSON configuration, by structlog otherwise,
the same line either way."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import structlog

from ravyn.app import Ravyn
from ravyn.logging import configure_logging
from ravyn.middleware.access_log import _Timestamp, write_access_line
from ravyn.routing import get
from ravyn.testclient import TestClient

pytestmark = pytest.mark.timeout(30)


@get("/ping")
async def ping() -> dict:
    return {"pong": True}


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """What the process writes to stderr (the configuration binds the stream it finds)."""
    yield capsys
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def lines(stderr: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in stderr.readouterr().err.splitlines() if line[:1] == "{"]


@pytest.mark.parametrize(
    "context", [{"tenant": "acme", "level_hint": 1}, {}], ids=["context bound", "no context"]
)
@pytest.mark.parametrize(
    "fields",
    [
        {"method": "GET", "path": "/p", "status": 200, "duration_ms": 0.5, "request_id": "r1"},
        {"method": "GET", "path": '/"é', "status": None, "duration_ms": 12.25, "request_id": "r"},
    ],
    ids=["plain", "escaped path, no status"],
)
def test_the_line_ravyn_renders_is_the_line_structlog_renders(
    stderr: pytest.CaptureFixture[str], context: dict, fields: dict
) -> None:
    configure_logging(json=True, level="INFO")
    structlog.contextvars.bind_contextvars(**context)
    structlog.get_logger("ravyn.access").info("request", **fields)
    write_access_line(**fields)
    by_structlog, by_ravyn = lines(stderr)
    assert list(by_ravyn) == list(by_structlog)  # same keys, same order
    assert by_ravyn.get("tenant") == context.get("tenant") and by_ravyn["level"] == "info"
    assert {k: v for k, v in by_ravyn.items() if k != "timestamp"} == {
        k: v for k, v in by_structlog.items() if k != "timestamp"
    }
    stamp = datetime.fromisoformat(by_ravyn["timestamp"].replace("Z", "+00:00"))
    assert stamp.tzinfo is not None
    assert abs(datetime.now(UTC) - stamp) < timedelta(seconds=5)
    assert by_ravyn["timestamp"] >= by_structlog["timestamp"]


def test_one_line_per_request_and_none_when_the_level_filters_it(
    stderr: pytest.CaptureFixture[str],
) -> None:
    client = TestClient(Ravyn(routes=[ping]))
    configure_logging(json=True, level="INFO")
    client.get("/ping", headers={"x-request-id": "abc-123"})
    [line] = [line for line in lines(stderr) if line["event"] == "request"]
    assert (line["method"], line["path"], line["status"], line["request_id"]) == (
        "GET",
        "/ping",
        200,
        "abc-123",
    )
    configure_logging(json=True, level="WARNING")
    client.get("/ping")
    assert [line for line in lines(stderr) if line["event"] == "request"] == []


def test_a_process_that_configures_structlog_itself_gets_the_line_through_its_chain(
    stderr: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json=True, level="INFO")

    def tag(logger: object, method: str, event_dict: dict) -> dict:
        return {**event_dict, "service": "shop"}

    structlog.configure(
        processors=[tag, structlog.processors.JSONRenderer()],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    TestClient(Ravyn(routes=[ping])).get("/ping")
    [line] = [line for line in lines(stderr) if line["event"] == "request"]
    assert line["service"] == "shop" and line["status"] == 200


@pytest.mark.parametrize(
    "instant_ns",
    [1_764_608_400_000_000_000, 1_764_608_400_000_001_999, 1_764_608_459_123_456_789],
    ids=["whole second", "one microsecond", "fraction"],
)
def test_the_timestamp_is_structlogs_iso_text(
    monkeypatch: pytest.MonkeyPatch, instant_ns: int
) -> None:
    """TimeStamper(fmt="iso", utc=True) writes ``now.isoformat()`` with "Z" for "+00:00"
    (no fraction at all on a whole second)."""
    monkeypatch.setattr(time, "time_ns", lambda: instant_ns)
    instant = datetime.fromtimestamp(instant_ns // 1_000_000_000, UTC).replace(
        microsecond=instant_ns // 1000 % 1_000_000
    )
    assert _Timestamp().now() == instant.isoformat().replace("+00:00", "Z")
