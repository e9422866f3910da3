"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

A form binds to the same parameters as a JSON body's fields; its values are strings that
the body's Struct converts (``"3"`` -> ``3``). Multipart bodies are parsed as they arrive
by python-multipart (the ``forms`` extra), each file streamed into an ``UploadFile``.
Limits refuse abuse with a 413: ``max_body_size`` for the whole body, ``max_form_parts``
fields and files, ``max_form_field_size`` bytes for one field that is not a file.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from ravyn.exceptions import ImproperlyConfigured
from ravyn.routing.request_body import body_chunks, request_body
from ravyn.routing.route_settings import RouteSettings
from ravyn.routing.uploads import UploadFile
from ravyn.routing.validation import form_field_too_large, malformed_form, too_many_form_parts

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"

Fields = list[tuple[str, str]]
Files = dict[str, list[UploadFile]]


def form_media_type(content_type: bytes) -> str | None:
    """``URLENCODED`` or ``MULTIPART`` when the Content-Type says a form, else None."""
    media_type = content_type.partition(b";")[0].strip().lower()
    if media_type == b"application/x-www-form-urlencoded":
        return URLENCODED
    if media_type == b"multipart/form-data":
        return MULTIPART
    return None


async def read_form(
    scope: dict[str, Any],
    receive: Any,
    media_type: str,
    content_type: bytes,
    settings: RouteSettings,
) -> tuple[Fields, Files]:
    """The form's fields (name, text value) in order, and its files by field name, within
    the route's limits."""
    max_parts = settings.max_form_parts
    if media_type == URLENCODED:
        body = await request_body(scope, receive, settings.max_body_size)
        fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        if len(fields) > max_parts:
            raise too_many_form_parts(max_parts)
        return fields, {}
    max_field_size = settings.max_form_field_size
    reader = _MultipartReader(content_type, max_parts, max_field_size)
    try:
        async for chunk in body_chunks(scope, receive, settings.max_body_size):
            await reader.feed(chunk)
        await reader.finish()
    except BaseException:
        for uploads in reader.files.values():
            for upload in uploads:
                await upload.close()
        raise
    return reader.fields, reader.files


class _MultipartReader:
    """Drives python-multipart's push parser: its callbacks record what they saw, then
    ``feed`` acts on it (writing a file's bytes may await a worker thread)."""

    def __init__(self, content_type: bytes, max_parts: int, max_field_size: int) -> None:
        try:
            from python_multipart.multipart import MultipartParser, parse_options_header
        except ImportError:
            raise ImproperlyConfigured(
                "Reading multipart/form-data needs python-multipart: "
                "install ravyn with its 'forms' extra."
            ) from None
        self._parse_options = parse_options_header
        boundary = parse_options_header(content_type)[1].get(b"boundary")
        if not boundary:
            raise malformed_form("the Content-Type has no boundary")
        self.max_parts = max_parts
        self.max_field_size = max_field_size
        self.fields: Fields = []
        self.files: Files = {}
        self._seen: list[tuple[str, bytes]] = []
        self._parts = 0
        self._headers: dict[str, str] = {}
        self._header_name = b""
        self._header_value = b""
        self._name = ""
        self._value = bytearray()
        self._upload: UploadFile | None = None
        callbacks: dict[str, Any] = {}
        for event in ("part_begin", "header_end", "headers_finished", "part_end"):
            callbacks[f"on_{event}"] = lambda event=event: self._seen.append((event, b""))
        for event in ("header_field", "header_value", "part_data"):
            callbacks[f"on_{event}"] = lambda data, start, end, event=event: self._seen.append(
                (event, data[start:end])
            )
        self._parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]

    async def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except ValueError as exc:  # python-multipart's parse errors are ValueErrors
            raise malformed_form(str(exc)) from None
        await self._handle_seen()

    async def finish(self) -> None:
        try:
            self._parser.finalize()
        except ValueError as exc:
            raise malformed_form(str(exc)) from None
        await self._handle_seen()

    async def _handle_seen(self) -> None:
        seen, self._seen = self._seen, []
        for event, data in seen:
            if event == "part_data":
                await self._part_data(data)
            elif event == "header_field":
                self._header_name += data
            elif event == "header_value":
                self._header_value += data
            elif event == "header_end":
                name = self._header_name.decode("latin-1").lower()
                self._headers[name] = self._header_value.decode("latin-1")
                self._header_name = self._header_value = b""
            elif event == "part_begin":
                self._begin_part()
            elif event == "headers_finished":
                self._start_value()
            else:  # part_end
                await self._end_part()

    def _begin_part(self) -> None:
        self._parts += 1
        if self._parts > self.max_parts:
            raise too_many_form_parts(self.max_parts)
        self._headers = {}
        self._value = bytearray()
        self._upload = None

    def _start_value(self) -> None:
        disposition = self._headers.get("content-disposition", "").encode("latin-1")
        options = self._parse_options(disposition)[1]
        name = options.get(b"name")
        if name is None:
            raise malformed_form("a part has no name in its Content-Disposition")
        self._name = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is not None:
            content_type = self._headers.get("content-type", "application/octet-stream")
            self._upload = UploadFile(
                filename.decode("utf-8", "replace"), content_type, self._headers
            )
            self.files.setdefault(self._name, []).append(self._upload)  # closed if parsing fails

    async def _part_data(self, data: bytes) -> None:
        if self._upload is not None:
            await self._upload.write(data)
            return
        self._value += data
        if len(self._value) > self.max_field_size:
            raise form_field_too_large(self._name, self.max_field_size)

    async def _end_part(self) -> None:
        if self._upload is not None:
            await self._upload.seek(0)
        else:
            self.fields.append((self._name, self._value.decode("utf-8", "replace")))
