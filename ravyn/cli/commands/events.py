"""``ravyn events``: the app's event catalogue (who sends, who listens, the warnings)."""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from ravyn.app import catalogue_table
from ravyn.cli.command import add_command
from ravyn.cli.targets import default_target, load_app, make_importable
from ravyn.utils.tables import format_table


def register(commands: Any) -> None:
    parser = add_command(commands, "events", handler=events, help="print the app's event catalogue")
    parser.add_argument("app", nargs="?", help="module:app (default: main:app or app:app)")
    parser.add_argument("--app-dir", default=".", help="directory the app is imported from")
    parser.add_argument("--factory", action="store_true", help="APP is a function returning it")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def events(args: argparse.Namespace) -> None:
    app_dir = make_importable(args.app_dir)
    app = load_app(args.app or default_target(app_dir), factory=args.factory)
    catalogue = app.events.catalogue()
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(catalogue).decode()))
        return
    print(format_catalogue(catalogue))


def format_catalogue(catalogue: dict[str, Any]) -> str:
    """The catalogue as a text table: event, senders, listeners; then the warnings."""
    rows = catalogue_table(catalogue)
    lines = [format_table(rows)] if rows else ["(no events)"]
    lines += [f"warning: {warning['message']}" for warning in catalogue["warnings"]]
    return "\n".join(lines)
