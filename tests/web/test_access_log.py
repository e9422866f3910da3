"""The access line: rendered by ravyn under its own JSON configuration, by structlog otherwise,
the same line either way; written whole and at once, so a killed server loses none."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import structlog

from ravyn.app import Ravyn
from ravyn.logging import configure_logging
from ravyn.middleware.access_log import _AccessLine, _encoder, write_access_line
from ravyn.routing import get
from ravyn.testclient import TestClient
from tests.cli.processes import running, wait_until_serving
from tests.support.servers import free_port

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
    "microsecond", [0, 1, 120_000, 123_456], ids=["whole second", "1 µs", "120 ms", "fraction"]
)
def test_the_timestamp_is_structlogs_iso_text(microsecond: int) -> None:
    """TimeStamper(fmt="iso", utc=True) writes ``now.isoformat()`` with "Z" for "+00:00"
    (no fraction at all on a whole second); msgspec writes the line's ``datetime`` so too."""
    instant = datetime(2026, 12, 1, 17, 40, 54, microsecond, tzinfo=UTC)
    line = _AccessLine("GET", "/", 200, 0.1, "r", "request", "info", instant)
    assert json.loads(_encoder.encode(line))["timestamp"] == instant.isoformat().replace(
        "+00:00", "Z"
    )


@pytest.mark.parametrize(
    "encoding, line_buffering, unbuffered",
    [
        ("utf-8", True, False),  # a process's stderr
        ("utf-8", False, False),  # lines go through the stream's buffer
        ("utf-8", False, True),
        ("latin-1", True, False),  # lines go through the stream's encoder
    ],
    ids=["line-buffered", "buffered", "unbuffered (python -u)", "latin-1"],
)
def test_lines_keep_their_order_with_what_else_the_stream_writes(
    stderr: pytest.CaptureFixture[str],
    tmp_path: Path,
    encoding: str,
    line_buffering: bool,
    unbuffered: bool,
) -> None:
    """However stderr is opened, each line comes whole, in the stream's encoding, in the
    order it was written in among the stream's other lines: written to the descriptor only
    when the stream holds no finished line back and encodes UTF-8, through it otherwise."""
    configure_logging(json=True, level="INFO")
    path = tmp_path / "stderr.log"
    fields = {"method": "GET", "path": "/é", "status": 200, "duration_ms": 0.5}
    with open(path, "wb", buffering=0 if unbuffered else -1) as binary:
        stream = io.TextIOWrapper(
            binary, encoding, line_buffering=line_buffering, write_through=unbuffered
        )
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "stderr", stream)
            print("before", file=stream, end="")
            for number in range(3):
                print(f" {number}", file=stream)
                write_access_line(**fields, request_id=f"r{number}")
        stream.flush()
    text = path.read_bytes().decode(encoding)
    found = text.splitlines()
    assert found[0::2] == ["before 0", " 1", " 2"]
    assert [json.loads(line)["request_id"] for line in found[1::2]] == ["r0", "r1", "r2"]
    assert json.loads(found[1])["path"] == "/é"


def test_a_closed_stderr_refuses_the_line_as_it_would_any_other(
    stderr: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream closed in place gives its descriptor back: the next file opened may get
    that number, and must not receive log lines meant for stderr."""
    configure_logging(json=True, level="INFO")
    fields = {"method": "GET", "path": "/", "status": 200, "duration_ms": 0.5}
    stream = open(tmp_path / "stderr.log", "w", encoding="utf-8", buffering=1)  # noqa: SIM115
    monkeypatch.setattr(sys, "stderr", stream)
    write_access_line(**fields, request_id="before")
    descriptor = stream.fileno()
    stream.close()
    with open(tmp_path / "data", "w") as other:
        assert other.fileno() == descriptor  # POSIX gives the lowest free number
        with pytest.raises(ValueError, match="closed file"):
            write_access_line(**fields, request_id="after")
    assert (tmp_path / "data").read_text() == ""
    assert '"request_id":"before"' in (tmp_path / "stderr.log").read_text()


SERVED_APP = """\
from ravyn import Ravyn, get


@get("/ping")
async def ping() -> dict:
    return {"pong": True}


app = Ravyn(routes=[ping])
"""


def test_a_server_killed_with_sigkill_has_written_the_line_of_every_response(
    tmp_path: Path,
) -> None:
    """Lines are not held in memory to be written later: after N responses and a SIGKILL
    (no shutdown, no flush), the N lines are in the server's output. (Each line is written
    in the turn of the loop that sends its response, before the server reads the next
    request: the last request only makes sure the one before it was fully handled.)"""
    (tmp_path / "app.py").write_text(SERVED_APP)
    port = free_port()
    url = f"http://127.0.0.1:{port}/ping"
    log = tmp_path / "server.log"
    ids = [f"kill-test-{number}" for number in range(200)]
    with running(
        "run", "--port", str(port), cwd=tmp_path, log=log, RAVYN_LOG_JSON="true"
    ) as server:
        wait_until_serving(url, server)
        with httpx.Client(timeout=10) as client:
            for request_id in [*ids, "last"]:
                assert client.get(url, headers={"x-request-id": request_id}).status_code == 200
        os.killpg(server.process.pid, signal.SIGKILL)
        assert server.process.wait(timeout=10) == -signal.SIGKILL
    written = [
        json.loads(line)["request_id"]
        for line in server.output.splitlines()
        if '"event":"request"' in line
    ]
    assert [request_id for request_id in written if request_id in ids] == ids


def test_one_access_line_per_request_under_uvicorn_too(tmp_path: Path) -> None:
    """``uvicorn app:app`` logs its own access line unless told ``--no-access-log``; once
    ravyn configured logging, only ravyn's line (with the request id) is written."""
    (tmp_path / "app.py").write_text(SERVED_APP)
    port = free_port()
    url = f"http://127.0.0.1:{port}/ping"
    log = tmp_path / "server.log"
    ids = ["first", "second"]
    with running(
        "app:app", "--port", str(port), cwd=tmp_path, log=log, program="uvicorn",
        RAVYN_LOG_JSON="true",
    ) as server:  # fmt: skip
        wait_until_serving(url, server)
        for request_id in ids:
            assert httpx.get(url, headers={"x-request-id": request_id}).status_code == 200
        server.wait_for('"request_id":"second"')
    records = [json.loads(line) for line in server.output.splitlines()]
    assert [r["request_id"] for r in records if r.get("request_id") in ids] == ids
    assert not [r for r in records if r.get("logger") == "uvicorn.access"]
