"""``UploadFile``: one file of a multipart request, as a handler receives it.

The bytes go to a spooled temporary file: in memory up to ``SPOOL_MAX_SIZE``, on disk past
it, so a large upload never sits whole in memory. Once on disk, reads and writes run in a
worker thread so they never block the event loop. The route closes every file of its
request when the request ends (``BindingPlan.bind`` registers them as cleanups).
"""

from __future__ import annotations

from tempfile import SpooledTemporaryFile
from typing import Any

import anyio.to_thread

SPOOL_MAX_SIZE = 1024 * 1024  # bytes kept in memory before the file rolls over to disk


class UploadFile:
    """``filename``, ``content_type``, ``headers`` (the part's, lower-case names), ``size``
    and the spooled ``file``; ``await read()``, ``seek()``, ``close()``."""

    __slots__ = ("filename", "content_type", "headers", "size", "file")

    def __init__(
        self,
        filename: str,
        content_type: str = "application/octet-stream",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.filename = filename
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.size = 0
        self.file: Any = SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE)  # noqa: SIM115 - closed by close()

    @property
    def _on_disk(self) -> bool:
        return bool(getattr(self.file, "_rolled", True))

    async def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._on_disk or self.file.tell() + len(data) > SPOOL_MAX_SIZE:
            await anyio.to_thread.run_sync(self.file.write, data)
        else:
            self.file.write(data)

    async def read(self, size: int = -1) -> bytes:
        if self._on_disk:
            return await anyio.to_thread.run_sync(self.file.read, size)
        return self.file.read(size)

    async def seek(self, offset: int) -> None:
        self.file.seek(offset)

    async def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return f"UploadFile(filename={self.filename!r}, size={self.size})"
