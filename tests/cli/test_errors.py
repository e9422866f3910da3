"""A mistake a user can fix is one line and an exit code; the traceback only with --debug."""

import json

import pytest

from tests.cli.processes import ravyn, running
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(90)

USAGE_ERROR, UNREACHABLE = 2, 3


def dead_url(scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{free_port()}"  # nothing listens there


def assert_one_line(stderr: str, command: str, *fragments: str) -> None:
    """Only the command's line (log lines of the process aside), no traceback."""
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if line.startswith(f"ravyn {command}:")]
    for fragment in fragments:
        assert fragment in line


def test_a_missing_module_names_it(tmp_path):
    result = ravyn("run", "nothere:app", cwd=tmp_path)
    assert result.returncode == USAGE_ERROR
    assert_one_line(result.stderr, "run", "no module named 'nothere'", str(tmp_path))
    debug = ravyn("run", "nothere:app", "--debug", cwd=tmp_path)
    assert debug.returncode == USAGE_ERROR
    assert "Traceback" in debug.stderr and "ModuleNotFoundError" in debug.stderr


def test_a_wrong_attribute_suggests_the_app(tmp_path):
    (tmp_path / "main.py").write_text("from ravyn import Ravyn\n\napplication = Ravyn()\n")
    result = ravyn("run", "main:app", cwd=tmp_path)
    assert result.returncode == USAGE_ERROR
    assert_one_line(result.stderr, "run", "no attribute 'app'", "did you mean 'application'?")


def test_an_import_failing_inside_the_app_says_where(tmp_path):
    (tmp_path / "app.py").write_text("from ravyn import Ravyn\nimport missing_dependency\n")
    result = ravyn("run", cwd=tmp_path)
    assert result.returncode == USAGE_ERROR
    assert_one_line(
        result.stderr, "run", "importing 'app' failed", "missing_dependency", "app.py:2"
    )


def test_no_target_and_no_app_file(tmp_path):
    result = ravyn("run", cwd=tmp_path)
    assert result.returncode == USAGE_ERROR
    assert_one_line(result.stderr, "run", "no main.py or app.py", "module:app")


def test_reload_with_workers_is_refused(tmp_path):
    result = ravyn("run", "app:app", "--reload", "--workers", "2", cwd=tmp_path)
    assert result.returncode == USAGE_ERROR
    assert_one_line(result.stderr, "run", "--reload")


def test_a_misspelt_worker_module(tmp_path):
    result = ravyn("worker", "listenrs", "--transport", dead_url("redis"), cwd=tmp_path)
    assert result.returncode == USAGE_ERROR
    assert_one_line(result.stderr, "worker", "no module named 'listenrs'")


def test_a_worker_module_without_listeners(tmp_path):
    (tmp_path / "listeners.py").write_text("async def not_decorated(email: str): ...\n")
    result = ravyn("worker", "listeners", "--transport", dead_url("redis"), cwd=tmp_path)
    assert result.returncode == USAGE_ERROR
    assert_one_line(result.stderr, "worker", "no listeners in listeners", "@observable")


def test_a_worker_without_a_transport():
    result = ravyn("worker", "docs_src.transports.listeners")
    assert result.returncode == USAGE_ERROR
    assert_one_line(result.stderr, "worker", "RAVYN_EVENT_TRANSPORT")


def test_a_worker_with_redis_down():
    url = dead_url("redis")
    result = ravyn("worker", "docs_src.transports.listeners", "--transport", url)
    assert result.returncode == UNREACHABLE
    assert_one_line(result.stderr, "worker", f"cannot reach Redis at {url}", "redis-server")


def test_a_worker_with_nats_down():
    url = dead_url("nats")
    result = ravyn("worker", "docs_src.transports.listeners", "--transport", url)
    assert result.returncode == UNREACHABLE
    assert_one_line(result.stderr, "worker", f"cannot reach NATS at {url} (", "nats-server")
    assert "()" not in result.stderr
    assert "nats_error" not in result.stderr  # no warning per retry before the one line


def test_ravyn_run_with_redis_down(tmp_path):
    url = dead_url("redis")
    (tmp_path / "app.py").write_text(
        "from ravyn import Ravyn, observable\n\n"
        "@observable(listen=['user_registered'])\n"
        "async def welcome(email: str) -> None: ...\n\n"
        f"app = Ravyn(event_transport={url!r})\n"
    )
    with running("run", "--port", str(free_port()), cwd=tmp_path, log=tmp_path / "s.log") as s:
        assert s.process.wait(timeout=60) == UNREACHABLE
    assert "Traceback" not in s.output and '"exception"' not in s.output
    [line] = [line for line in s.output.splitlines() if "lifespan_startup_failed" in line]
    assert f"cannot reach Redis at {url}" in line
    log = tmp_path / "debug.log"
    with running("run", "--port", str(free_port()), "--debug", cwd=tmp_path, log=log) as s:
        assert s.process.wait(timeout=60) == UNREACHABLE
    [line] = [line for line in s.output.splitlines() if "lifespan_startup_failed" in line]
    assert "Traceback" in json.loads(line)["exception"]  # --debug: the whole story
