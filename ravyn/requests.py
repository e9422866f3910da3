"""The request object handlers receive by annotation (``request: Request``): Lilya's."""

from lilya.requests import Connection, Request

__all__ = ["Connection", "Request"]
