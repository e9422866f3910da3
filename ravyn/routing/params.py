"""Markers that say where a handler parameter comes from, when its name and type do not.

``token: str = Header(alias="x-token")``, ``session: str = Cookie()``,
``tags: list[str] = Query(default=[])``, ``item: dict = Body()``,
``user_name: str = Form(alias="user-name")``, ``avatar: UploadFile = File(alias="picture")``.
"""

from __future__ import annotations

from typing import Any

import msgspec

NOT_SET: Any = msgspec.NODEFAULT


class Param:
    """Base of the source markers: an optional ``default`` and the ``alias`` on the wire."""

    source = ""
    __slots__ = ("alias", "default")

    def __init__(self, default: Any = NOT_SET, *, alias: str | None = None) -> None:
        self.default = default
        self.alias = alias

    def wire_name(self, name: str) -> str:
        return self.alias or name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class Query(Param):
    """A query string parameter (the default for scalars of GET-like handlers)."""

    source = "query"
    __slots__ = ()


class Header(Param):
    """A request header; without ``alias``, ``x_token`` reads the ``x-token`` header."""

    source = "header"
    __slots__ = ()

    def wire_name(self, name: str) -> str:
        return (self.alias or name.replace("_", "-")).lower()


class Cookie(Param):
    """A cookie of the request."""

    source = "cookie"
    __slots__ = ()


class Body(Param):
    """The whole JSON body, converted to the parameter's annotation."""

    source = "body"
    __slots__ = ()


class Form(Param):
    """A field of the body, sent as a form (urlencoded or multipart) or as JSON; needed
    only for an alias, or for a field of a handler whose other scalars read the query."""

    source = "body"
    __slots__ = ()


class File(Param):
    """A multipart file, for an alias or a default; an ``UploadFile`` (or
    ``list[UploadFile]``) annotation alone is enough otherwise."""

    source = "file"
    __slots__ = ()
