"""``ravyn db``: Alembic migrations of the app's ``SqlDatabase`` (init, migrate, upgrade,
downgrade, history, current)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ravyn.cli.command import UNREACHABLE, CommandError, add_command
from ravyn.cli.targets import default_target, load_app, make_importable


def register(commands: Any) -> None:
    parser = add_command(commands, "db", handler=db, help="database migrations (Alembic)")
    parser.add_argument("--app", help="module:app (default: main:app or app:app)")
    parser.add_argument("--app-dir", default=".", help="directory the app is imported from")
    parser.add_argument("--database", help="the SqlDatabase's extension name, if the app has two")
    parser.add_argument("--directory", default="migrations", help="where the migrations live")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("init", help="create the migrations directory")
    migrate = actions.add_parser("migrate", help="a new revision from the models' changes")
    migrate.add_argument("-m", "--message", required=True, help="what the revision does")
    upgrade = actions.add_parser("upgrade", help="apply revisions up to REVISION")
    upgrade.add_argument("revision", nargs="?", default="head", help="default: head")
    downgrade = actions.add_parser("downgrade", help="revert to REVISION (e.g. -1, base)")
    downgrade.add_argument("revision")
    actions.add_parser("history", help="list the revisions, the current one marked")
    actions.add_parser("current", help="print the database's revision")


def db(args: argparse.Namespace) -> None:
    try:
        from alembic.util import CommandError as AlembicError
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import OperationalError

        from ravyn.database import SqlDatabase, migrations
    except ImportError as exc:
        raise CommandError(
            "ravyn db needs SQLAlchemy and Alembic: install ravyn with its 'database' extra"
        ) from exc
    if args.action == "init":
        try:
            created = migrations.init(args.directory)
        except FileExistsError as exc:
            raise CommandError(str(exc)) from None
        print(f"Created {created}/: write models, then `ravyn db migrate -m 'first tables'`.")
        return
    app_dir = make_importable(args.app_dir)
    app = load_app(args.app or default_target(app_dir))
    databases = {
        name: extension
        for name, extension in app.extensions.items()
        if isinstance(extension, SqlDatabase)
    }
    if args.database is not None:
        databases = {args.database: databases[args.database]} if args.database in databases else {}
    if len(databases) != 1:
        named = ", ".join(databases) or "none"
        raise CommandError(
            f"the app needs exactly one SqlDatabase extension (found: {named}): "
            "add extensions={'db': SqlDatabase(url)}, or pick one with --database NAME"
        )
    database = next(iter(databases.values()))
    if not (Path(args.directory) / "env.py").is_file():
        raise CommandError(f"no migrations in {args.directory}/: run `ravyn db init` first")
    config = migrations.alembic_config(database, args.directory)
    run = {
        "migrate": lambda: migrations.migrate(config, args.message),
        "upgrade": lambda: migrations.upgrade(config, args.revision),
        "downgrade": lambda: migrations.downgrade(config, args.revision),
        "history": lambda: migrations.history(config),
        "current": lambda: migrations.current(config),
    }[args.action]
    try:
        run()
    except AlembicError as exc:
        raise CommandError(str(exc)) from exc
    except (OperationalError, OSError) as exc:
        where = make_url(database.url).render_as_string(hide_password=True)
        raise CommandError(f"cannot reach the database {where}: {exc}", UNREACHABLE) from exc
