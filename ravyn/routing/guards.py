"""``Guard``: a dependency written as a decorator, for checks such as authentication.

A guard is a dependency that no parameter takes: it runs before the handler and may refuse
the request (raise ``NotAuthorized``). ``Guard(check)`` is an ``Inject`` that can also be
written as a decorator, under ``@get(...)``, on a whole ``Controller`` class, or above the
route decorator; in ``dependencies={...}`` of an ``Include``, a ``Gateway`` or the app it is
the dependency it is. A parameter defaulting to a guard (``user = auth.login_required``)
receives the guard's value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ravyn.routing.dependencies import Inject

T = TypeVar("T")

GUARDS_ATTRIBUTE = "__ravyn_guards__"


class Guard(Inject):
    """``Guard(check)``: run ``check`` (a dependency callable) before the handlers it decorates.

    An authentication guard shows in the OpenAPI document when ``check`` declares its
    security scheme (``ravyn.openapi.security``).
    """

    __slots__ = ("key",)

    def __init__(self, check: Callable[..., Any]) -> None:
        super().__init__(check)
        # the name it is declared under: never a parameter name, so no parameter takes it
        self.key = f"guard:{getattr(check, '__qualname__', check)}@{id(self):x}"

    def __call__(self, target: T) -> T:
        """Guard ``target``: a route handler or ``Controller`` class (anything declaring
        ``dependencies``) gets the guard first among them; a plain function is marked, and
        the route decorator applied over it reads the mark."""
        dependencies = getattr(target, "dependencies", None)
        if isinstance(dependencies, Mapping):
            target.dependencies = {self.key: self, **dependencies}  # type: ignore[attr-defined]
        else:
            setattr(target, GUARDS_ATTRIBUTE, {self.key: self, **declared_guards(target)})
        return target

    def __repr__(self) -> str:
        return f"Guard({getattr(self.callable, '__qualname__', self.callable)!r})"


def declared_guards(func: Any) -> dict[str, Guard]:
    """The guards decorators put on ``func``, the outermost first."""
    return dict(getattr(func, GUARDS_ATTRIBUTE, {}))
