"""``ravyn new NAME``: a new project, laid out the way the docs recommend."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ravyn.cli.command import CommandError, add_command
from ravyn.scaffold import create_project


def register(commands: Any) -> None:
    parser = add_command(commands, "new", handler=new, help="create a project")
    parser.add_argument("name", help="the project's package name (lower case, e.g. my_shop)")
    parser.add_argument("--path", default=".", help="the directory to create it in")


def new(args: argparse.Namespace) -> None:
    try:
        root = create_project(args.name, Path(args.path))
    except (ValueError, FileExistsError) as exc:
        raise CommandError(str(exc)) from None
    print(f"Created {root}/. Next: cd {root} && task test && task run (see its README.md)")
