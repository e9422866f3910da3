"""An open event stream does not hold the server: it ends as soon as the server starts to
shut down (SIGTERM, Ctrl+C, a --reload), under plain ``uvicorn`` and ``ravyn run``.

Real server processes, a real streaming client (httpx) reading the stream in a thread."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.processes import running
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(90)

SAMPLE = "docs_src.bridge.comments:app"
RELOADING_APP = """
from ravyn import Include, Ravyn, get
from ravyn.bridge import EventBridge

bridge = EventBridge(events=["news.*"])


@get("/version")
async def version() -> dict:
    return {"version": 1}


app = Ravyn(routes=[version, Include("/events", app=bridge)])
"""


class StreamReader(threading.Thread):
    """Reads an event stream until it ends; says when it was subscribed and when it ended."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.subscribed = threading.Event()
        self.lines: list[str] = []
        self.ended_at: float | None = None

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, timeout=httpx.Timeout(5, read=None)) as response:
                for line in response.iter_lines():
                    self.lines.append(line)
                    self.subscribed.set()
        except httpx.HTTPError as error:
            self.lines.append(f"error: {error!r}")
        finally:
            self.ended_at = time.monotonic()

    def connect(self) -> StreamReader:
        self.start()
        assert self.subscribed.wait(15), f"the stream never opened: {self.lines}"
        assert self.lines[0].startswith(": subscribed to")
        return self


@pytest.mark.parametrize(
    ("program", "command"),
    [("uvicorn", [SAMPLE]), ("ravyn.cli", ["run", SAMPLE])],
    ids=["uvicorn", "ravyn-run"],
)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_open_event_stream_ends_when_the_server_stops(tmp_path, program, command, signum):
    port = free_port()
    log = tmp_path / "server.log"
    with running(*command, "--port", str(port), program=program, log=log) as server:
        server.wait_for("Uvicorn running on")  # bound, and the app started
        reader = StreamReader(f"http://127.0.0.1:{port}/events/stream").connect()
        server.process.send_signal(signum)  # the server process itself, as Ctrl+C or k8s
        stopping_at = time.monotonic()
        server.process.wait(timeout=20)  # uvicorn ends by re-raising the signal it caught
        reader.join(10)
    assert "Finished server process" in server.output
    assert reader.ended_at is not None, "the client is still reading"
    assert reader.ended_at - stopping_at < 5, server.output  # typically about 0.1 s
    assert ": the server is shutting down" in reader.lines


def test_ravyn_run_reload_restarts_with_an_event_stream_open(tmp_path: Path):
    source = tmp_path / "reloading.py"
    source.write_text(RELOADING_APP)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = ["run", "reloading:app", "--port", str(port), "--reload"]
    with running(*command, cwd=tmp_path, log=tmp_path / "server.log") as server:
        server.wait_for("Application startup complete")  # the socket is bound before
        reader = StreamReader(f"{url}/events/stream").connect()
        source.write_text(RELOADING_APP.replace('"version": 1', '"version": 2'))
        server.wait_for("Application startup complete", count=2)
        reader.join(10)
        assert reader.ended_at is not None, "the old worker's stream is still open"
        assert httpx.get(f"{url}/version", timeout=10).json() == {"version": 2}
        assert StreamReader(f"{url}/events/stream").connect().lines  # the new worker streams
