"""How a route decorator tells the OpenAPI document which errors it may answer with.

A decorator that can answer for the handler (a rate limit's 429, a timeout's 504) sets an
``openapi_responses`` attribute on the function it returns: one ``DeclaredResponse`` or a
list. The document follows the handler's ``__wrapped__`` chain, so stacked decorators each
declare their own, and lists every one as an ``HTTPError`` response of the operation::

    wrapper.openapi_responses = DeclaredResponse(429, "Too many requests.", retry_after=True)

A middleware that can answer for every route it wraps (a load shedder's 503) declares them
with an ``openapi_responses(**options)`` classmethod instead: what it answers depends on
how it is configured. The document lists them on every operation under it (the app's
middleware, or an ``Include``'s or a gateway's)::

    @classmethod
    def openapi_responses(cls, **options) -> list[DeclaredResponse]: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

RESPONSES_ATTRIBUTE = "openapi_responses"


@dataclass(frozen=True)
class DeclaredResponse:
    """``status`` and the ``description`` of when it is answered; ``retry_after``: the
    response carries a ``Retry-After`` header (seconds)."""

    status: int
    description: str
    retry_after: bool = False


def declared_responses(
    handler: Callable[..., Any], around: Iterable[DeclaredResponse] = ()
) -> dict[int, DeclaredResponse]:
    """The responses declared along ``handler``'s decorators and ``around`` it (by its
    middleware), one per status: two declaring the same status (a circuit breaker's and a
    bulkhead's 503) are joined."""
    found: dict[int, DeclaredResponse] = {}
    for declared in (*around, *_declared(handler)):
        same = found.get(declared.status)
        if same is not None:
            description = same.description
            if declared.description not in description:  # the same pattern twice says it once
                description = f"{description} {declared.description}"
            declared = DeclaredResponse(
                declared.status, description, same.retry_after or declared.retry_after
            )
        found[declared.status] = declared
    return found


def middleware_responses(definitions: Iterable[Any]) -> list[DeclaredResponse]:
    """What the middleware of ``definitions`` (``DefineMiddleware`` entries) declare they
    may answer for every route they wrap."""
    found: list[DeclaredResponse] = []
    for cls, args, kwargs in definitions:
        declare = getattr(cls, RESPONSES_ATTRIBUTE, None)
        if callable(declare):
            found.extend(declare(*args, **kwargs))
    return found


def _declared(handler: Any) -> Iterator[DeclaredResponse]:
    while handler is not None:
        declared = getattr(handler, RESPONSES_ATTRIBUTE, None)
        if isinstance(declared, DeclaredResponse):
            yield declared
        elif declared is not None:
            yield from declared
        handler = getattr(handler, "__wrapped__", None)
