"""``ravyn db``: Alembic migrations of a project's models and the outbox table, run as a
user runs them (the ``ravyn`` command in the project directory)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from ravyn.database import SqlDatabase

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]

MAIN = """
import os

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ravyn import Ravyn
from ravyn.database import SqlDatabase

db = SqlDatabase(os.environ["DATABASE_URL"])


class Customer(db.Model):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
{extra}

app = Ravyn(extensions={{"db": db}})
"""


def ravyn_db(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ravyn.cli", "db", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def columns(url: str) -> dict[str, list[str]]:
    async def read() -> dict[str, list[str]]:
        database = SqlDatabase(url)
        try:
            async with database.engine.connect() as connection:

                def tables(sync_connection):
                    found = inspect(sync_connection)
                    return {
                        table: sorted(column["name"] for column in found.get_columns(table))
                        for table in found.get_table_names()
                        if table != "alembic_version"
                    }

                return await connection.run_sync(tables)
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_init_migrate_upgrade_downgrade(database_url, tmp_path):
    (tmp_path / "main.py").write_text(MAIN.format(extra=""))
    assert "run `ravyn db init` first" in ravyn_db(tmp_path, database_url, "upgrade").stderr

    init = ravyn_db(tmp_path, database_url, "init")
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "migrations" / "env.py").is_file()
    again = ravyn_db(tmp_path, database_url, "init")
    assert (again.returncode, again.stderr.count("\n")) == (2, 1)  # one line, not a traceback

    first = ravyn_db(tmp_path, database_url, "migrate", "-m", "customers")
    assert first.returncode == 0, first.stderr
    assert ravyn_db(tmp_path, database_url, "upgrade").returncode == 0
    assert columns(database_url) == {
        "customers": ["id", "name"],
        "ravyn_outbox": ["body", "created_at", "event_id", "id", "name", "published_at"],
    }

    extra = "    email: Mapped[str | None] = mapped_column(String(100))"
    (tmp_path / "main.py").write_text(MAIN.format(extra=extra))
    assert ravyn_db(tmp_path, database_url, "migrate", "-m", "customer email").returncode == 0
    assert ravyn_db(tmp_path, database_url, "upgrade").returncode == 0
    assert columns(database_url)["customers"] == ["email", "id", "name"]

    history = ravyn_db(tmp_path, database_url, "history").stdout
    assert "customer email" in history and "(head) (current)" in history
    assert ravyn_db(tmp_path, database_url, "downgrade", "-1").returncode == 0
    assert columns(database_url)["customers"] == ["id", "name"]
    current = ravyn_db(tmp_path, database_url, "current")
    assert current.returncode == 0 and "(head)" not in current.stdout

    unknown = ravyn_db(tmp_path, database_url, "downgrade", "nonsense")
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines()[-1].startswith("ravyn db: Can't locate revision")
