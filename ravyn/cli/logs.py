"""``--log-level`` and the ``RAVYN_LOG_*`` settings, applied to every line a command's
process writes (ravyn's, the server's, the application's)."""

from __future__ import annotations

import argparse

from ravyn.cli.command import CommandError
from ravyn.logging import configure_logging, parse_level
from ravyn.settings import RavynSettings


def add_log_level(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error", "critical"],
        type=str.lower,
        help="lowest level written (default: $RAVYN_LOG_LEVEL, else info); "
        "RAVYN_LOG_JSON=true writes JSON lines",
    )


def read_settings() -> RavynSettings:
    """The ``RAVYN_*`` settings; a wrong value is the user's one-line error."""
    try:
        return RavynSettings.from_env()
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def log_options(args: argparse.Namespace) -> tuple[bool | None, str]:
    """(json, level): the flag beats ``RAVYN_LOG_LEVEL``; ``RAVYN_LOG_JSON`` picks JSON."""
    settings = read_settings()
    level = (args.log_level or settings.log_level).upper()
    try:
        parse_level(level)
    except ValueError as exc:
        raise CommandError(f"RAVYN_LOG_LEVEL: {exc}") from None
    return settings.log_json, level


def apply_log_options(args: argparse.Namespace) -> tuple[bool | None, str]:
    """Configure logging for this process from ``args`` and the settings; returns them."""
    json, level = log_options(args)
    configure_logging(json=json, level=level)
    return json, level
