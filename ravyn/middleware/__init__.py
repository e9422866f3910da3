"""Middleware: request id + access log, exception responses, middleware definitions."""

from lilya.middleware import DefineMiddleware

from ravyn.middleware.request_context import RequestContextMiddleware

__all__ = ["DefineMiddleware", "RequestContextMiddleware"]
