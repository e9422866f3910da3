"""The log level and format a user asks for apply to every line of ``ravyn run``."""

import json
import re

import pytest

from tests.cli.processes import running, wait_until_serving
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(90)

APP = """\
from ravyn import Ravyn, get, observable
from ravyn.logging import get_logger


@get("/")
async def home() -> dict:
    get_logger("app").debug("home_served")  # a debug-level fact
    return {"hello": "world"}


@observable(listen=["never_sent"])  # a catalogue warning at start
async def waiting() -> None: ...


app = Ravyn(routes=[home])
"""


def serve_once(tmp_path, *options: str, program: str = "ravyn.cli", **variables: str) -> str:
    """Start ``ravyn run`` (or another server), request /, stop; all the process wrote."""
    (tmp_path / "app.py").write_text(APP)
    port = free_port()
    command = ["run"] if program == "ravyn.cli" else ["app:app"]
    command += ["--port", str(port), *options]
    log = tmp_path / "server.log"
    with running(*command, cwd=tmp_path, log=log, program=program, **variables) as server:
        wait_until_serving(f"http://127.0.0.1:{port}/", server)
    return server.output


@pytest.mark.parametrize(
    "options, variables",
    [(["--log-level", "warning"], {}), ([], {"RAVYN_LOG_LEVEL": "WARNING"})],
    ids=["flag", "environment"],
)
def test_warning_level_in_json_hides_info_lines(tmp_path, options, variables):
    output = serve_once(tmp_path, *options, RAVYN_LOG_JSON="true", **variables)
    records = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert {record["level"] for record in records} == {"warning"}
    assert [record["event"] for record in records] == ["event_catalogue_warning"]


def test_json_lines_for_the_server_and_ravyn_alike(tmp_path):
    output = serve_once(tmp_path, RAVYN_LOG_JSON="true")
    records = [json.loads(line) for line in output.splitlines()]
    started = next(r for r in records if r["event"].startswith("Started server process"))
    assert (started["logger"], started["level"]) == ("uvicorn.error", "info")
    catalogue = next(r for r in records if r["event"] == "event_catalogue")
    row = {"event": "never_sent", "senders": [], "listeners": ["app:waiting"]}
    assert catalogue["events"] == [row]
    assert any(r["event"] == "request" and r["path"] == "/" for r in records)


def test_console_lines_show_the_catalogue_as_a_table(tmp_path):
    output = re.sub(r"\x1b\[[0-9;]*m", "", serve_once(tmp_path, RAVYN_LOG_JSON="false"))
    lines = output.splitlines()
    catalogue = next(i for i, line in enumerate(lines) if "event_catalogue " in line)
    assert lines[catalogue + 1].split() == ["EVENT", "SENDERS", "LISTENERS"]
    assert lines[catalogue + 2].split() == ["never_sent", "-", "app:waiting"]
    assert any("Started server process" in line and "[info" in line for line in lines)


def test_the_settings_apply_under_another_server_too(tmp_path):
    """``uvicorn app:app``: the app configures logging from RAVYN_LOG_* as it starts."""
    output = serve_once(
        tmp_path, program="uvicorn", RAVYN_LOG_LEVEL="WARNING", RAVYN_LOG_JSON="true"
    )
    ravyn_lines = output.splitlines()[
        output.splitlines().index(
            next(line for line in output.splitlines() if "event_catalogue_warning" in line)
        ) :
    ]
    records = [json.loads(line) for line in ravyn_lines]
    assert [record["event"] for record in records] == ["event_catalogue_warning"]
    assert "bus_started" not in output and 'event_catalogue"' not in output


def test_debug_facts_stay_hidden_at_the_default_level(tmp_path):
    output = serve_once(tmp_path, program="uvicorn", RAVYN_LOG_JSON="true")
    assert '"event":"event_catalogue"' in output
    assert '"level":"debug"' not in output
    debug = serve_once(tmp_path, program="uvicorn", RAVYN_LOG_JSON="true", RAVYN_LOG_LEVEL="DEBUG")
    assert '"event":"home_served"' in debug and '"event":"home_served"' not in output
