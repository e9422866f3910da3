import json
import os
import signal
import subprocess
import sys

import anyio
import httpx
import pytest

from ravyn.cli import build_parser, main
from ravyn.events import Registry, use_registry
from tests.support.samples import ROOT
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def isolated_first_app(monkeypatch):
    """Import docs_src.first_app afresh, its listeners in a registry of this test."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delitem(sys.modules, "docs_src.first_app", raising=False)
    with use_registry(Registry()):
        yield
    sys.modules.pop("docs_src.first_app", None)


def test_events_prints_the_catalogue_table(capsys, isolated_first_app):
    main(["events", "docs_src.first_app:app"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["EVENT", "SENDERS", "LISTENERS"]
    [row] = [line for line in lines if line.startswith("user_registered")]
    assert "docs_src.first_app:register" in row
    assert "docs_src.first_app:send_welcome_email" in row


def test_events_json(capsys, isolated_first_app):
    main(["events", "docs_src.first_app:app", "--json"])
    catalogue = json.loads(capsys.readouterr().out)
    assert catalogue["events"][0]["name"] == "user_registered"
    assert catalogue["warnings"] == []


def test_bad_target_says_what_to_write():
    with pytest.raises(SystemExit, match="module:app"):
        main(["events", "docs_src.first_app"])


def test_run_and_worker_options():
    run = build_parser().parse_args(["run", "m:app", "--port", "9000", "--reload"])
    assert (run.app, run.host, run.port, run.reload) == ("m:app", "127.0.0.1", 9000, True)
    assert build_parser().parse_args(["run", "m:app", "--host", "0.0.0.0"]).host == "0.0.0.0"
    worker = build_parser().parse_args(["worker", "a", "b", "--transport", "redis://x"])
    assert (worker.modules, worker.transport) == (["a", "b"], "redis://x")


def start_ravyn_run(target: str, port: int, *options: str, cwd=ROOT) -> subprocess.Popen[str]:
    """`ravyn run` in its own process group (with --reload, uvicorn starts a child)."""
    return subprocess.Popen(
        [sys.executable, "-m", "ravyn.cli", "run", target, "--host", "127.0.0.1"]
        + ["--port", str(port), *options],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen[str], text: str) -> None:
    """Read the server's output up to the line saying ``text`` (fail if it exits first)."""
    output = []
    for line in process.stdout:
        output.append(line)
        if text in line:
            return
    pytest.fail(f"ravyn run exited before {text!r}:\n" + "".join(output))


def stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


def test_ravyn_run_serves_the_first_app():
    """The README's command: start the server, request, stop."""
    port = free_port()
    process = start_ravyn_run("docs_src.first_app:app", port)
    try:
        read_until(process, "Application startup complete")
        assert httpx.get(f"http://127.0.0.1:{port}/").json() == {"hello": "world"}
    finally:
        stop(process)


def test_ravyn_run_reload_serves_the_edited_code(tmp_path):
    source = tmp_path / "reloading_app.py"
    source.write_text(
        "from ravyn import Ravyn, get\n\n"
        "@get('/')\n"
        "async def home() -> dict:\n"
        "    return {'version': 1}\n\n"
        "app = Ravyn(routes=[home])\n"
    )
    port = free_port()
    process = start_ravyn_run("reloading_app:app", port, "--reload", cwd=tmp_path)
    try:
        read_until(process, "Application startup complete")
        assert httpx.get(f"http://127.0.0.1:{port}/").json() == {"version": 1}
        source.write_text(source.read_text().replace("'version': 1", "'version': 2"))
        read_until(process, "Reloading")
        read_until(process, "Application startup complete")
        assert httpx.get(f"http://127.0.0.1:{port}/").json() == {"version": 2}
    finally:
        stop(process)


async def test_ravyn_worker_runs_listeners_fed_by_redis(redis_url, tmp_path):
    """`ravyn worker module --transport URL`: listeners run, SIGTERM drains and exits 0."""
    from ravyn.events import EventBus, Registry
    from ravyn.events.transports.redis import RedisTransport

    log = tmp_path / "worker.log"
    command = ["worker", "docs_src.transports.listeners", "--transport", redis_url]
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ravyn.cli", *command, "--grace", "5"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        await wait_for_line(log, "worker_ready")
        async with EventBus(Registry(), transport=RedisTransport(redis_url)) as bus:
            await bus.emit("user_registered", {"email": "cli@example.com"})
        await wait_for_line(log, "welcome email sent to cli@example.com")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


async def wait_for_line(log, text: str, timeout: float = 15.0) -> None:
    """The worker is another process: watch its output for ``text``."""
    with anyio.fail_after(timeout):
        while text not in log.read_text():
            await anyio.sleep(0.02)
