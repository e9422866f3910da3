"""What ``ravyn openapi`` and ``ravyn asyncapi`` do: load the app, print (or write) one of
its documents as indented JSON, the same bytes for the same app."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from ravyn.cli.command import CommandError, add_command
from ravyn.cli.targets import add_app_arguments, app_from_arguments

Build = Callable[[Any], dict[str, Any]]


def add_document_command(commands: Any, name: str, build: Build, help: str) -> None:
    """Add the subcommand ``name`` printing ``build(app)``."""
    parser = add_command(
        commands, name, handler=lambda args: print_document(args, build), help=help
    )
    add_app_arguments(parser)
    parser.add_argument("--output", "-o", help="write the JSON to this file, not stdout")


def print_document(args: argparse.Namespace, build: Build) -> None:
    app = app_from_arguments(args)
    text = msgspec.json.format(msgspec.json.encode(build(app)), indent=2).decode() + "\n"
    if args.output is None:
        print(text, end="")
        return
    try:
        Path(args.output).write_text(text)
    except OSError as exc:
        raise CommandError(f"cannot write --output {args.output}: {exc.strerror}") from exc
