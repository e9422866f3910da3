"""One call to configure structlog: JSON lines in production, readable console in development.

Every ravyn logger is ``structlog.get_logger("ravyn.<area>")`` and logs key-value events, so
one configuration renders the framework's lines and the application's alike. The standard
library's loggers (uvicorn, asyncz, ...) are routed through the same renderer, so a process
writes one format, JSON when JSON is asked. ``Ravyn()`` applies it (from its settings) when
the process has not configured structlog itself.

What the configuration guarantees, in both modes:

- ravyn's error lines also go to the standard ``logging`` module (logger ``ravyn.<area>``,
  level ERROR, with ``exc_info``), where Sentry's, Datadog's and OpenTelemetry's logging
  integrations pick them up (the handler installed here does not print them twice);
- a traceback is plain text, at most ``MAX_TRACEBACK_FRAMES`` frames per exception and
  ``MAX_TRACEBACK_CHARS`` characters, never local variables (they hold passwords, request
  bodies, headers), with the credentials of URLs masked: cheap to render, never a secret.
"""

from __future__ import annotations

import logging
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import msgspec
import structlog

from ravyn.utils.redaction import redact_credentials
from ravyn.utils.tables import format_table

# uvicorn gives these loggers handlers of their own: they would print in uvicorn's format.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.asgi")
# ravyn writes one access line per request, with its request id: the server's own access
# line would say it again, and cost a request far more than ravyn's (stdlib logging, then
# structlog's formatter). Silenced even if ``uvicorn --no-access-log`` was forgotten.
SERVER_ACCESS_LOGGER = "uvicorn.access"

MAX_TRACEBACK_FRAMES = 30
MAX_TRACEBACK_CHARS = 20_000
_ERROR_METHODS = frozenset({"error", "critical", "exception", "fatal"})
_NOT_FORWARDED = frozenset({"event", "timestamp", "log_level", "level", "exc_info"})
_FORWARDED = "ravyn_forwarded"  # marks a record whose line structlog already wrote

_installed_handler: logging.Handler | None = None


@dataclass(frozen=True, slots=True)
class JSONLines:
    """What ``configure_logging(json=True)`` gave structlog, so that a hot path that knows
    this chain (the access line) can render its line itself, identical and cheaper. Lines
    go to ``sys.stderr`` as it is when written, as ``StderrLogger`` writes them."""

    processors: list[Any]
    """A copy: structlog's own list may be changed in place (``capture_logs`` does)."""
    wrapper_class: type
    logger_factory: Any
    level: int


_json_lines: JSONLines | None = None


def json_lines() -> JSONLines | None:
    """ravyn's JSON configuration if structlog still has it; None once the process
    configured structlog otherwise (its lines then go through its own processors)."""
    installed = _json_lines
    if installed is None:
        return None
    config = structlog.get_config()
    if (
        config["processors"] == installed.processors
        and config["wrapper_class"] is installed.wrapper_class
        and config["logger_factory"] is installed.logger_factory
    ):
        return installed
    return None


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
    global _installed_handler, _json_lines
    if json is None:
        json = not sys.stderr.isatty()
    numeric_level = parse_level(level)
    stamped: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: list[Any] = [format_exception]
    if json:
        renderer.append(structlog.processors.JSONRenderer(serializer=_json_line))
    else:
        renderer.append(_console_renderer())
    processors = [structlog.contextvars.merge_contextvars, *stamped, forward_errors, *renderer]
    wrapper_class = structlog.make_filtering_bound_logger(numeric_level)
    structlog.configure(
        processors=processors,
        wrapper_class=wrapper_class,
        logger_factory=StderrLogger,
        cache_logger_on_first_use=False,
    )
    _json_lines = (
        JSONLines(list(processors), wrapper_class, StderrLogger, numeric_level) if json else None
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(lambda record: not getattr(record, _FORWARDED, False))
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
    access_logger = logging.getLogger(SERVER_ACCESS_LOGGER)
    access_logger.handlers.clear()  # no handler: uvicorn does not even format its line
    access_logger.propagate = False
    return handler


def ensure_logging(json: bool | None, level: str | int) -> None:
    """``configure_logging`` unless the process configured structlog already (its choice wins)."""
    if not structlog.is_configured():
        configure_logging(json=json, level=level)


class StderrLogger(structlog.PrintLogger):
    """Writes each line to ``sys.stderr`` as it is at that moment (servers and test runners
    swap it), and keeps the logger's name for the standard ``logging`` module."""

    def __init__(self, name: str = "", *args: Any) -> None:
        super().__init__(sys.stderr)
        self.name = name


def forward_errors(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: hand ravyn's error lines to the standard ``logging`` module, at
    ERROR with ``exc_info``, so the logging integrations of monitoring services capture them."""
    if method_name in _ERROR_METHODS:
        name = getattr(logger, "name", "")
        if name == "ravyn" or name.startswith("ravyn."):
            fields = " ".join(
                f"{key}={value}" for key, value in event_dict.items() if key not in _NOT_FORWARDED
            )
            logging.getLogger(name).error(
                redact_credentials(f"{event_dict.get('event')} {fields}".rstrip()),
                exc_info=event_dict.get("exc_info"),
                extra={_FORWARDED: True},
            )
    return event_dict


def format_exception(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: ``exc_info`` -> ``exception``, a bounded plain traceback."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        if exc_info[0] is not None:
            event_dict["exception"] = render_traceback(exc_info[1])
    return event_dict


def render_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` (and its causes) as plain text: the innermost
    ``MAX_TRACEBACK_FRAMES`` frames of each exception, no local variables, URL credentials
    masked, cut to ``MAX_TRACEBACK_CHARS`` (the end, where the error is, is kept)."""
    text = "".join(traceback.format_exception(exc, limit=-MAX_TRACEBACK_FRAMES))
    if len(text) > MAX_TRACEBACK_CHARS:
        text = "[traceback cut]\n" + text[-MAX_TRACEBACK_CHARS:]
    return redact_credentials(text)


def _never_locals(sio: Any, exc_info: Any) -> None:
    """The console renderer's exception formatter, should ``exc_info`` reach it unformatted."""
    sio.write("\n" + render_traceback(exc_info[1]))


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
    console = structlog.dev.ConsoleRenderer(exception_formatter=_never_locals)

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
