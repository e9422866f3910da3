"""A new user's first hour, in a fresh directory: the pages' files saved as the pages say,
run with the commands the pages give."""

import json
import shutil
import subprocess
import sys

import httpx
import pytest

from tests.cli.processes import environment, ravyn, running
from tests.support.samples import ROOT
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(120)
SAMPLES = ROOT / "docs_src"


def serve_and_register(directory, payload: dict) -> str:
    """`ravyn run app:app` in ``directory``, POST /register, stop: all the server wrote."""
    port = free_port()
    log = directory / "server.log"
    with running("run", "app:app", "--port", str(port), cwd=directory, log=log) as server:
        server.wait_for("Uvicorn running on")
        response = httpx.post(f"http://127.0.0.1:{port}/register", json=payload)
        assert response.status_code == 201, response.text
        server.wait_for(f"Welcome, {payload['email']}!")
    return server.output


def warnings_in(output: str) -> list[str]:
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [record["event"] for record in records if record["level"] in ("warning", "error")]


def test_first_app_saved_as_app_py(tmp_path):
    """first-app.md: save the sample as app.py, run `ravyn run app:app`."""
    shutil.copy(SAMPLES / "first_app.py", tmp_path / "app.py")
    output = serve_and_register(tmp_path, {"email": "ada@example.com", "password": "s3cret"})
    assert warnings_in(output) == []  # it starts clean


def test_listeners_in_another_module(tmp_path):
    """listeners.md: app.py and listeners.py side by side, observers=["listeners"]."""
    for name in ("app.py", "listeners.py"):
        shutil.copy(SAMPLES / "listeners" / name, tmp_path / name)
    output = serve_and_register(tmp_path, {"email": "ada@example.com"})
    assert "audit: user_registered from POST /register" in output
    assert warnings_in(output) == []


def test_forgetting_observers_says_how_to_fix_it(tmp_path):
    shutil.copy(SAMPLES / "listeners" / "listeners.py", tmp_path / "listeners.py")
    source = (SAMPLES / "listeners" / "app.py").read_text()
    (tmp_path / "app.py").write_text(source.replace(', observers=["listeners"]', ""))
    result = ravyn("events", "app:app", cwd=tmp_path)
    [warning] = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert "'user_registered' is sent by app:register but nothing listens to it" in warning
    assert "observers=['myapp.listeners']" in warning


def test_a_misspelt_observers_module_is_one_line(tmp_path):
    shutil.copy(SAMPLES / "listeners" / "listeners.py", tmp_path / "listeners.py")
    source = (SAMPLES / "listeners" / "app.py").read_text()
    (tmp_path / "app.py").write_text(source.replace('["listeners"]', '["listners"]'))
    result = ravyn("run", "app:app", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert "observers=['listners']: no module named 'listners'" in line


def test_a_misspelt_event_name_suggests_the_sent_one(tmp_path):
    shutil.copy(SAMPLES / "listeners" / "app.py", tmp_path / "app.py")
    source = (SAMPLES / "listeners" / "listeners.py").read_text()
    (tmp_path / "listeners.py").write_text(
        source.replace('listen=["user_registered"]', 'listen=["user_registerd"]', 1)
    )
    warnings = [
        line
        for line in ravyn("events", cwd=tmp_path).stdout.splitlines()
        if line.startswith("warning:")
    ]
    assert warnings == [
        "warning: listeners:send_welcome_email listens to 'user_registerd' but no sender "
        "emits it: did you mean 'user_registered'?"
    ]


def test_the_test_client_without_httpx_names_the_extra():
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['httpx'] = None; import ravyn.testclient"],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ImportError: ravyn.testclient needs httpx: install ravyn with its 'testing' extra"
    )


def test_the_testing_page_in_a_fresh_directory(tmp_path):
    """testing.md: the plugin's fixtures test the Redis app of transports.md on memory://
    (no Redis runs), and an async test runs with the configuration the page shows."""
    shutil.copy(SAMPLES / "transports" / "app.py", tmp_path / "app.py")
    for name in ("conftest.py", "test_registration.py", "pytest.ini"):
        shutil.copy(SAMPLES / "testing" / name, tmp_path / name)
    shutil.copy(SAMPLES / "events" / "test_with_capture.py", tmp_path / "test_with_capture.py")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=environment(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),  # nothing there
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_a_route_declared_but_never_added_is_warned(tmp_path):
    source = (SAMPLES / "first_app.py").read_text()
    assert "app.add_route(register)\n" in source
    (tmp_path / "app.py").write_text(source.replace("app.add_route(register)\n", ""))
    warnings = [
        line for line in ravyn("events", cwd=tmp_path).stdout.splitlines() if "warn" in line
    ]
    assert warnings == [
        "warning: app:register sends 'user_registered' but is not a route of this app, so it "
        "never runs: add it (app.add_route(...) or Ravyn(routes=[...]))."
    ]
    port = free_port()
    with running("run", "--port", str(port), cwd=tmp_path, log=tmp_path / "s.log") as server:
        server.wait_for("Uvicorn running on")
    assert "route_not_served" in server.output  # the same warning when the app starts
