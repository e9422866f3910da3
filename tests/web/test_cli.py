import json
import subprocess
import sys

import pytest

from ravyn.cli import build_parser, main
from ravyn.events import Registry, use_registry
from tests.support.samples import ROOT

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
    worker = build_parser().parse_args(["worker", "a", "b", "--transport", "redis://x"])
    assert (worker.modules, worker.transport) == (["a", "b"], "redis://x")


def test_ravyn_run_serves_the_first_app():
    """The README's command: start the server, request, stop."""
    import httpx

    from tests.support.servers import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ravyn.cli", "run", "docs_src.first_app:app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = []
        for line in process.stdout:  # uvicorn says when it listens
            output.append(line)
            if "Uvicorn running on" in line:
                break
        else:
            pytest.fail("ravyn run exited:\n" + "".join(output))
        assert httpx.get(f"http://127.0.0.1:{port}/").json() == {"hello": "world"}
    finally:
        process.terminate()
        process.wait(timeout=15)
