"""``ravyn new``: the generated project's two README commands work as written (``task test``
and ``task run``), in the current environment, installing nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]


def environment() -> dict[str, str]:
    """The current venv first on PATH (python, ravyn, task), ravyn from this checkout."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT)}


def ravyn(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ravyn.cli", *args],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("projects")
    created = ravyn("new", "shop", cwd=parent)
    assert created.returncode == 0, created.stderr
    return parent / "shop"


def test_the_project_is_laid_out_as_the_docs_recommend(project):
    files = {path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()}
    assert {
        ".env",
        ".gitignore",
        "README.md",
        "Taskfile.yml",
        "pyproject.toml",
        "shop/__init__.py",
        "shop/settings.py",
        "shop/models.py",
        "shop/controllers.py",
        "shop/listeners.py",
        "shop/jobs.py",
        "shop/main.py",
        "tests/conftest.py",
        "tests/test_orders.py",
    } <= files
    assert "__project__" not in "".join(path.read_text() for path in project.rglob("*.py"))
    readme = (project / "README.md").read_text()
    assert "```bash\ntask run\n```" in readme and "```bash\ntask test\n```" in readme


def test_task_test_runs_the_projects_tests(project):
    result = subprocess.run(
        ["task", "test"],
        cwd=project,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout


def test_task_run_serves_the_app(project):
    port = free_port()
    server = subprocess.Popen(
        ["task", "run", f"PORT={port}"],
        cwd=project,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # task, ravyn and uvicorn: one group to stop
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                placed = httpx.post(f"{base}/api/orders", json={"item": "book"})
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "never served"
                time.sleep(0.1)
        assert placed.status_code == 201
        order = f"{base}/api/orders/{placed.json()['order_id']}"
        while httpx.get(order).json()["status"] != "shipping":  # the listener, after commit
            assert time.monotonic() < deadline, httpx.get(order).json()
            time.sleep(0.05)
        assert (project / "shop.db").is_file()  # the database .env names
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_bad_names_and_places_are_one_line(project, tmp_path):
    bad = ravyn("new", "My-Shop", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr == (
        "ravyn new: 'My-Shop' cannot name a Python package: use lower case letters, digits "
        "and _ (e.g. my_shop)\n"
    )
    taken = ravyn("new", "shop", "--path", str(project.parent), cwd=tmp_path)
    assert taken.returncode == 2 and "exists and is not empty" in taken.stderr


def test_task_migrate_writes_and_applies_a_revision(project, tmp_path):
    env = {**environment(), "RAVYN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db"}
    init = subprocess.run(
        [sys.executable, "-m", "ravyn.cli", "db", "--app", "shop.main:app", "init"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert init.returncode == 0, init.stderr
    migrate = subprocess.run(
        ["task", "migrate", "--", "first tables"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    [revision] = (project / "migrations" / "versions").glob("*.py")
    assert revision.name.endswith("_first_tables.py")
    assert "create_table('orders'" in revision.read_text()
