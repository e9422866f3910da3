"""What a subcommand module provides, and the error it raises for the user to fix.

A module of ``ravyn/cli/commands/`` is a subcommand when it defines::

    def register(commands):
        parser = add_command(commands, "hello", handler=hello, help="say hello")
        parser.add_argument("--name", default="world", help="who to greet")

    def hello(args: argparse.Namespace) -> None: ...

``add_command`` gives every subcommand the same help layout (defaults shown) and ``--debug``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

USAGE_ERROR = 2  # what was typed cannot work: a target, a module, an option
UNREACHABLE = 3  # a server (Redis, NATS) the command needs cannot be reached


class CommandError(Exception):
    """A failure the user can fix: printed as one line, the process exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class HelpFormatter(argparse.HelpFormatter):
    """Each option's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        shown = action.default not in (None, False, "", argparse.SUPPRESS)
        if shown and "%(default)" not in help_text and action.option_strings:
            help_text += " (default: %(default)s)"
        return help_text


def add_command(
    commands: Any, name: str, *, handler: Callable[[argparse.Namespace], None], help: str
) -> argparse.ArgumentParser:
    """A subcommand parser whose handler runs with the parsed arguments."""
    parser = commands.add_parser(name, help=help, description=help, formatter_class=HelpFormatter)
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error, not only its line"
    )
    parser.set_defaults(handler=handler)
    return parser
