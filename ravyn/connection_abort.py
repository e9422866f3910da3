"""Dropping a connection whose client stopped reading, which ASGI cannot express.

An ASGI app can only end a response or close a WebSocket; the server then closes the
connection gracefully, and asyncio's graceful close waits for the write buffer to reach a
client that does not read: the connection and its megabytes live on until the client reads
or dies. uvicorn offers no way out (its send callable and its close timers all close
gracefully), so this module reaches, defensively, for the one thing that does: the asyncio
transport behind the server's send callable (`send.__self__.transport`, in each of
uvicorn's HTTP and WebSocket protocols), aborted after a zero SO_LINGER so that the kernel
resets the connection and frees its buffers too. On a server without such a transport
nothing happens: the connection ends as the server closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import MutableMapping
from typing import Any, Protocol, cast

SERVER_SEND = "ravyn.server_send"
"""Scope key: the server's own send callable, kept by the app before middleware wraps it."""

_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 seconds: close sends a RST


class _AbortableTransport(Protocol):
    def abort(self) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


def remember_server_send(scope: MutableMapping[str, Any], send: Any) -> None:
    """Keep the server's send in the scope (the app calls it first thing, per connection)."""
    scope.setdefault(SERVER_SEND, send)


def abort_if_still_unread(scope: MutableMapping[str, Any], send: Any, after: float) -> bool:
    """In `after` seconds, reset the connection if the server still holds data the client
    has not taken. False when the server exposes no transport (nothing is scheduled)."""
    transport = _transport_of(scope.get(SERVER_SEND, send))
    if transport is None:
        return False
    asyncio.get_running_loop().call_later(after, _reset_if_unread, transport)
    return True


def _transport_of(send: Any) -> _AbortableTransport | None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    needed = ("abort", "get_write_buffer_size", "get_extra_info")
    if not all(callable(getattr(transport, name, None)) for name in needed):
        return None
    return cast(_AbortableTransport, transport)


def _reset_if_unread(transport: _AbortableTransport) -> None:
    if transport.get_write_buffer_size() == 0:  # the client took it all, or it is gone
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:  # without it, the connection still ends: with a FIN, not a RST
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
    transport.abort()
