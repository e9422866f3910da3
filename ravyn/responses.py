"""Response classes a handler may return as is (they pass through unchanged): Lilya's."""

from lilya.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainText,
    RedirectResponse,
    Response,
    StreamingResponse,
)

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainText",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]
