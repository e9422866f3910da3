"""``ravyn events``, ``ravyn --version`` and the help every subcommand shares."""

import json
import sys

import pytest

from ravyn import __version__
from ravyn.cli import main
from ravyn.events import Registry, use_registry
from tests.cli.processes import ravyn
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
    assert lines[0].split() == ["EVENT", "SENDERS", "LISTENERS", "PAYLOAD"]
    [row] = [line for line in lines if line.startswith("user_registered")]
    assert "docs_src.first_app:register" in row
    assert "docs_src.first_app:send_welcome_email" in row


def test_events_json(capsys, isolated_first_app):
    main(["events", "docs_src.first_app:app", "--json"])
    catalogue = json.loads(capsys.readouterr().out)
    assert catalogue["events"][0]["name"] == "user_registered"
    assert catalogue["warnings"] == []


def test_events_finds_app_py_in_the_current_directory(tmp_path):
    (tmp_path / "app.py").write_text(
        "from ravyn import Ravyn, observable\n\n"
        "@observable(listen=['ping'])\n"
        "async def pong() -> None: ...\n\n"
        "app = Ravyn()\n"
    )
    result = ravyn("events", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split() == ["ping", "-", "app:pong", "-"]


def test_version():
    result = ravyn("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"ravyn {__version__}")


def test_help_shows_the_defaults():
    run_help = " ".join(ravyn("run", "--help").stdout.split())  # as one line, unwrapped
    assert "--port PORT" in run_help and "(default: 8000)" in run_help
    assert "(default: 127.0.0.1)" in run_help
    worker_help = " ".join(ravyn("worker", "--help").stdout.split())
    assert "(default: 10.0)" in worker_help  # --grace
    assert "$RAVYN_EVENT_TRANSPORT" in worker_help


def test_each_command_module_is_a_subcommand():
    """A module of ravyn/cli/commands/ is a subcommand: the listing shows each one."""
    commands = sorted(
        path.stem for path in (ROOT / "ravyn/cli/commands").glob("*.py") if path.stem != "__init__"
    )
    listing = ravyn("--help").stdout
    for command in commands:
        assert f"    {command} " in listing, listing
