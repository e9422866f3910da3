"""One call to configure structlog: JSON lines in production, readable console in development.

Every ravyn logger is ``structlog.get_logger("ravyn.<area>")`` and logs key-value events, so
one configuration renders the framework's lines and the application's alike.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog


def configure_logging(json: bool | None = None, level: str | int = "INFO") -> None:
    """Configure structlog for the process.

    ``json=None`` picks JSON when stderr is not a terminal (a container, a log shipper) and
    the console renderer otherwise. ``level`` filters by name ("DEBUG", "INFO", ...).
    """
    if json is None:
        json = not sys.stderr.isatty()
    numeric_level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric_level, int):
        raise ValueError(f"Unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR.")
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors += [
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(serializer=_json_line),
        ]
    else:
        processors.append(structlog.dev.ConsoleRenderer())
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def _json_line(event_dict: dict[str, Any], **_: Any) -> str:
    """msgspec renders a line several times faster than json.dumps; anything it cannot
    encode (an arbitrary object) is rendered with ``repr``."""
    return msgspec.json.encode(event_dict, enc_hook=repr).decode()


def get_logger(name: str = "ravyn") -> Any:
    """A structlog logger named ``name`` (the convention is ``ravyn.<area>`` / your module)."""
    return structlog.get_logger(name)
