"""The live-events page: a development aid that lists what the bridge's WebSocket sends.

It is a static file with no privileges of its own: it connects to the bridge's endpoint next
to it, so it shows only what the connection is authorized to receive.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lilya.responses import HTMLResponse
from lilya.types import Receive, Scope, Send

_PAGE = Path(__file__).with_name("live.html")


@cache
def _page_html() -> str:
    return _PAGE.read_text(encoding="utf-8")


async def serve_live_page(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI app serving the live-events page."""
    response = HTMLResponse(_page_html(), headers={"cache-control": "no-store"})
    await response(scope, receive, send)
