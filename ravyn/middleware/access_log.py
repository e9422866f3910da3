"""The access line: one structured line per request, cheap enough to leave on.

Through structlog's API the line costs about 7 µs of CPU: a logger resolved from its proxy
on every call, then the processor chain, then ``print``. Under ravyn's own JSON
configuration (``configure_logging(json=True)``, whose chain is known) the line is rendered
here instead: the same keys in the same order, context variables included, one msgspec
encode and one ``write`` system call, under 1 µs; nothing at all when the level filters it
out. With no context variable bound (the usual request) the line is a ``msgspec.Struct``,
whose keys msgspec encodes once, not a dict built and walked per request, and its time is a
``datetime`` that msgspec writes as structlog's ISO text. Under any other structlog
configuration (the console renderer, a process's own processors) the line goes through
structlog like every other line.

Each line is written whole, as soon as the request ends, and nothing is kept in memory: a
process killed with SIGKILL loses no line of a response it finished sending.
"""

from __future__ import annotations

import codecs
import contextvars
import io
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from structlog.contextvars import STRUCTLOG_KEY_PREFIX, merge_contextvars

from ravyn.logging import json_lines

access_logger = structlog.get_logger("ravyn.access")
_encoder = msgspec.json.Encoder(enc_hook=repr)
LINE_CAPACITY = 320
"""Bytes set aside for a line before msgspec encodes it: a usual line fits, so the encoder
does not grow its output as it goes (a longer line still grows it)."""


class _AccessLine(msgspec.Struct):
    """The line when no context variable is bound: structlog's keys in structlog's order."""

    method: str
    path: str
    status: int | None
    duration_ms: float
    request_id: str
    event: str
    level: str
    timestamp: datetime  # msgspec writes TimeStamper(fmt="iso", utc=True)'s text


def write_access_line(
    method: str, path: str, status: int | None, duration_ms: float, request_id: str
) -> None:
    """Log the ``request`` line of one finished request."""
    lines = json_lines()
    if lines is None:
        access_logger.info(
            "request",
            method=method,
            path=path,
            status=status,
            duration_ms=duration_ms,
            request_id=request_id,
        )
        return
    if lines.level > logging.INFO:
        return
    line: _AccessLine | dict[str, Any]
    if _bound_context_variables():
        # The order structlog's chain gives: the fields and event, then context variables
        # (``setdefault``: a field keeps its place and value), level, time.
        line = merge_contextvars(
            None,
            "info",
            {
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "request_id": request_id,
                "event": "request",
            },
        )
        line["level"] = "info"
        line["timestamp"] = datetime.now(UTC)
    else:
        line = _AccessLine(
            method, path, status, duration_ms, request_id, "request", "info", datetime.now(UTC)
        )
    _write_to_stderr(line)


def _bound_context_variables() -> bool:
    """Whether any structlog context variable is bound (not unbound: ``...``) right now."""
    context = contextvars.copy_context()
    for variable in context:
        if variable.name.startswith(STRUCTLOG_KEY_PREFIX) and context[variable] is not Ellipsis:
            return True
    return False


# sys.stderr when last written, and its file descriptor when a line may skip its layers.
_stderr: tuple[Any, int | None] = (None, None)


def _write_to_stderr(line: _AccessLine | dict[str, Any]) -> None:
    """Encode ``line`` and write it to ``sys.stderr`` as it is now (servers and test runners
    swap it): one ``os.write`` on its descriptor, no text layer, no buffer, no flush call,
    when the stream allows it; through the stream otherwise."""
    global _stderr
    stream, descriptor = _stderr
    if stream is not sys.stderr:
        stream = sys.stderr
        descriptor = _direct_descriptor(stream)
        _stderr = (stream, descriptor)
    data = bytearray(LINE_CAPACITY)
    _encoder.encode_into(line, data)
    data += b"\n"
    if descriptor is None or stream.closed:  # closed: its number may be another file's now
        stream.write(data.decode())
        stream.flush()
        return
    while data:  # one call for a line of a few hundred bytes; more if a signal cuts it
        del data[: os.write(descriptor, data)]


def _direct_descriptor(stream: Any) -> int | None:
    """The descriptor under ``stream`` if writing there directly keeps the stream's lines in
    order and in its encoding: a stream that passes each line on at once (line-buffered as
    a process's stderr, or unbuffered as under ``python -u``) and encodes UTF-8, as msgspec
    does. (Only an unfinished line, text printed without its newline yet, is still held by
    such a stream: it comes after the access line instead of cutting it in two.)"""
    try:
        immediate = stream.line_buffering or isinstance(stream.buffer, io.FileIO)
        utf8 = codecs.lookup(stream.encoding).name == "utf-8"
        descriptor = stream.fileno()
    except (AttributeError, LookupError, OSError, ValueError):  # not a file: capsys, StringIO
        return None
    return descriptor if immediate and utf8 else None
