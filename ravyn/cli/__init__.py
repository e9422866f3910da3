"""The ``ravyn`` command.

Each subcommand is one module of ``ravyn/cli/commands/`` with a ``register(commands)``
function (see ``ravyn/cli/command.py``): adding a module adds a subcommand, nothing else to
edit. A failure the user can fix is one line on stderr and an exit code (2: what was typed,
3: a server that cannot be reached); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from ravyn.cli import commands
from ravyn.cli.command import CommandError


def build_parser() -> argparse.ArgumentParser:
    from ravyn import __version__

    parser = argparse.ArgumentParser(prog="ravyn", description="ravyn command line.")
    parser.add_argument("--version", action="version", version=f"ravyn {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except CommandError as exc:
        if args.debug:
            traceback.print_exc()
        hint = "" if args.debug else " (--debug shows the traceback)" if exc.__cause__ else ""
        print(f"ravyn {args.command}: {exc}{hint}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
