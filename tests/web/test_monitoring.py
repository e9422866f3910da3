"""Errors reach monitoring: through the standard ``logging`` module (so the logging
integrations of Sentry, Datadog, OpenTelemetry capture them) and the app's ``on_error``."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from structlog.testing import capture_logs

from ravyn import Event, Include, Ravyn, get, websocket
from ravyn.events import Registry, observable, use_registry
from ravyn.exceptions import ImproperlyConfigured
from ravyn.testclient import TestClient
from ravyn.websockets import WebSocket, WebSocketDisconnect
from tests.cli.processes import running
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(60)


class EnvelopeRecorder(ThreadingHTTPServer):
    """A stand-in Sentry ingest endpoint on 127.0.0.1: it keeps every envelope it receives."""

    def __init__(self) -> None:
        self.envelopes: list[list[dict]] = []
        super().__init__(("127.0.0.1", 0), _RecordEnvelope)

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server_address[1]}/1"

    def events(self, timeout: float = 20.0) -> list[dict]:
        """The error events received, waiting until at least one arrives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [
                item for envelope in self.envelopes for item in envelope if "exception" in item
            ]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no error event reached the endpoint: {self.envelopes}")


class _RecordEnvelope(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        encoding = self.headers.get("content-encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        assert encoding in ("", "gzip", "deflate"), encoding
        items = [json.loads(line) for line in body.splitlines() if line.strip()]
        self.server.envelopes.append(items)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[EnvelopeRecorder]:
    server = EnvelopeRecorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_sentry_sample_as_written_reports_its_exception(recorder, tmp_path):
    """The reference page's sample, real sentry-sdk, real uvicorn: nothing but init()."""
    port = free_port()
    command = ["docs_src.reference.ext_sentry:app", "--port", str(port)]
    log = tmp_path / "server.log"
    with running(*command, program="uvicorn", log=log, SENTRY_DSN=recorder.dsn) as server:
        server.wait_for("Uvicorn running on")  # bound, and the app started
        response = httpx.get(f"http://127.0.0.1:{port}/error", timeout=10)
        assert (response.status_code, response.json()) == (
            500,
            {"detail": "Internal Server Error"},
        )
        [event] = recorder.events()
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == (
        "Exception",
        "This error will be sent to Sentry",
    )
    assert exception["stacktrace"]["frames"][-1]["function"] == "trigger_error"
    assert event["logger"] == "ravyn.errors"
    assert event["level"] == "error"


def test_unhandled_errors_reach_the_standard_logging_module(caplog):
    @get("/crash")
    async def crash() -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="ravyn"):
        response = TestClient(Ravyn(routes=[crash])).get("/crash")
    assert response.status_code == 500
    [record] = [record for record in caplog.records if record.name == "ravyn.errors"]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("unhandled_exception method=GET path=/crash")
    assert record.exc_info[0] is ValueError and str(record.exc_info[1]) == "boom"


def test_on_error_sees_every_failure_nothing_handled():
    reported: list[tuple[str, str, dict]] = []

    def on_error(exc: BaseException, details: dict) -> None:
        reported.append((details["event"], str(exc), details))

    with use_registry(Registry()):

        @get("/crash")
        async def crash() -> None:
            raise ValueError("route failed")

        @websocket("/ws")
        async def feed(socket: WebSocket) -> None:
            await socket.accept()
            raise RuntimeError("websocket failed")

        @observable(listen=["order_placed"])
        async def charge(event: Event) -> None:
            raise LookupError("listener failed")

        app = Ravyn(routes=[Include("/api", routes=[crash, feed])], on_error=on_error)
    with TestClient(app) as client:
        assert client.get("/api/crash").status_code == 500
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/api/ws") as ws:
            ws.receive_text()
        with client.portal() as portal:
            portal.call(lambda: app.events.emit("order_placed", {"id": 1}, wait=True))
    assert [(event, message) for event, message, _ in reported] == [
        ("unhandled_exception", "route failed"),
        ("websocket_handler_failed", "websocket failed"),
        ("listener_failed", "listener failed"),
    ]
    assert reported[0][2]["path"] == "/api/crash" and reported[0][2]["request_id"]
    assert reported[2][2]["listener"].endswith("charge")


def test_a_failing_on_error_is_logged_and_the_answer_is_still_a_500():
    def broken_hook(exc: BaseException, details: dict) -> None:
        raise RuntimeError("monitoring is down")

    @get("/crash")
    async def crash() -> None:
        raise ValueError("boom")

    with capture_logs() as logs:
        response = TestClient(Ravyn(routes=[crash], on_error=broken_hook)).get("/crash")
    assert response.status_code == 500
    errors = [log["event"] for log in logs if log["log_level"] == "error"]
    assert errors == ["unhandled_exception", "on_error_failed"]


def test_an_async_on_error_is_refused():
    async def hook(exc: BaseException, details: dict) -> None:  # pragma: no cover
        pass

    with pytest.raises(ImproperlyConfigured, match="plain function"):
        Ravyn(on_error=hook)
