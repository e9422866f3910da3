"""Alembic migrations for a ``SqlDatabase``, as ``ravyn db`` runs them.

``init`` makes a migrations directory whose ``env.py`` calls ``run_migrations``: the
database (its URL, its models' metadata, the outbox table included) comes from the app that
``ravyn db`` loaded, so there is no ``alembic.ini`` and no second place for the URL.
Revisions are Alembic's own files, generated from Alembic's ``async`` template.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import alembic
from alembic import command
from alembic.config import Config

from ravyn.database.database import SqlDatabase

ENV_PY = '''"""Alembic's environment: ``ravyn db`` hands it the app's SqlDatabase."""

from alembic import context

from ravyn.database.migrations import run_migrations

run_migrations(context)
'''


def alembic_config(database: SqlDatabase, directory: str | Path) -> Config:
    """An Alembic configuration for ``database`` with its scripts in ``directory``."""
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    config.attributes["database"] = database
    return config


def init(directory: str | Path) -> Path:
    """Create the migrations directory: ``env.py``, the revision template, ``versions/``."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists and is not empty: migrations are set up there")
    (target / "versions").mkdir(parents=True)
    template = Path(alembic.__file__).parent / "templates" / "async" / "script.py.mako"
    shutil.copyfile(template, target / "script.py.mako")
    (target / "env.py").write_text(ENV_PY, encoding="utf-8")
    return target


def migrate(config: Config, message: str) -> None:
    """A new revision with what the models changed against the database (autogenerate)."""
    command.revision(config, message=message, autogenerate=True)


def upgrade(config: Config, revision: str = "head") -> None:
    command.upgrade(config, revision)


def downgrade(config: Config, revision: str) -> None:
    command.downgrade(config, revision)


def history(config: Config) -> None:
    command.history(config, indicate_current=True)


def current(config: Config) -> None:
    command.current(config, verbose=False)


def run_migrations(context: Any) -> None:
    """The body of ``env.py``: run Alembic's migrations on the database's async engine (or
    write SQL in offline mode)."""
    database = context.config.attributes.get("database")
    if not isinstance(database, SqlDatabase):
        raise RuntimeError("these migrations run through `ravyn db` (it loads the app's database)")
    metadata = database.Model.metadata
    if context.is_offline_mode():
        context.configure(url=database.url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(context, database))


async def _run_online(context: Any, database: SqlDatabase) -> None:
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(_run_on_connection, context, database)
    finally:
        await database.dispose()


def _run_on_connection(connection: Any, context: Any, database: SqlDatabase) -> None:
    context.configure(
        connection=connection,
        target_metadata=database.Model.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
    )
    with context.begin_transaction():
        context.run_migrations()
