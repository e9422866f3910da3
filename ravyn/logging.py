"""One call to configure structlog: JSON lines in production, readable console in development.

Every ravyn logger is ``structlog.get_logger("ravyn.<area>")`` and logs key-value events, so
one configuration renders the framework's lines and the application's alike. The standard
library's loggers (uvicorn, asyncz, ...) are routed through the same renderer, so a process
writes one format, JSON when JSON is asked.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

from ravyn.utils.tables import format_table

# uvicorn gives these loggers handlers of their own: they would print in uvicorn's format.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

_installed_handler: logging.Handler | None = None


class Table(list):
    """Rows (dicts of the same keys) in a log line: an aligned text table in the console,
    a list of objects in JSON. ``logger.info("event_catalogue", events=Table(rows))``."""


def configure_logging(json: bool | None = None, level: str | int = "INFO") -> None:
    """Configure structlog, and the standard library's root logger, for the process.

    ``json=None`` picks JSON when stderr is not a terminal (a container, a log shipper) and
    the console renderer otherwise. ``level`` filters by name ("DEBUG", "INFO", ...), ravyn's
    lines and the server's alike.
    """
    _install(json, level)


def _install(json: bool | None, level: str | int) -> logging.Handler:
    global _installed_handler
    if json is None:
        json = not sys.stderr.isatty()
    numeric_level = parse_level(level)
    stamped: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: list[Any]
    if json:
        renderer = [
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(serializer=_json_line),
        ]
    else:
        renderer = [_console_renderer()]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *stamped, *renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *stamped],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root = logging.getLogger()
    if _installed_handler is not None:
        root.removeHandler(_installed_handler)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    _installed_handler = handler
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
        server_logger.setLevel(logging.NOTSET)
    return handler


def parse_level(level: str | int) -> int:
    """``"warning"``/``"WARNING"``/``30`` -> 30; an unknown name says which ones exist."""
    numeric_level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric_level, int):
        raise ValueError(f"Unknown log level {level!r}: use DEBUG, INFO, WARNING or ERROR.")
    return numeric_level


def server_log_config(json: bool | None, level: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: configure ravyn's logging in each server process.

    uvicorn applies it in every process it starts (``--reload``, ``--workers``), which a
    ``configure_logging`` call in the parent alone would not reach.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "ravyn": {"()": "ravyn.logging.configured_handler", "json": json, "log_level": level}
        },
        "root": {"handlers": ["ravyn"], "level": parse_level(level)},
    }


def configured_handler(json: bool | None, log_level: str) -> logging.Handler:
    """``configure_logging`` as a ``logging.config.dictConfig`` handler factory."""
    return _install(json, log_level)


def _console_renderer() -> Any:
    """structlog's console line, then each ``Table`` value as an aligned table under it."""
    console = structlog.dev.ConsoleRenderer()

    def render(logger: Any, method_name: str, event_dict: dict[str, Any]) -> str:
        table_keys = [key for key, value in event_dict.items() if isinstance(value, Table)]
        tables = {key: event_dict.pop(key) for key in table_keys}
        line = console(logger, method_name, event_dict)
        for key, rows in tables.items():
            line += "\n" + format_table(rows) if rows else f" {key}=(none)"
        return line

    return render


def _json_line(event_dict: dict[str, Any], **_: Any) -> str:
    """msgspec renders a line several times faster than json.dumps; anything it cannot
    encode (an arbitrary object) is rendered with ``repr``."""
    return msgspec.json.encode(event_dict, enc_hook=repr).decode()


def get_logger(name: str = "ravyn") -> Any:
    """A structlog logger named ``name`` (the convention is ``ravyn.<area>`` / your module)."""
    return structlog.get_logger(name)
