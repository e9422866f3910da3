"""How a guard or a dependency tells the OpenAPI document which credentials it checks.

A dependency (the callable given to ``Inject``, a function or an object) declares the
schemes it enforces with an ``openapi_security`` attribute: one ``SecurityScheme`` or a
list. Every operation whose dependencies (guards included, at any depth) carry one lists
it under ``security`` (all of them required together), and the document defines it once
under ``components/securitySchemes``::

    BEARER = SecurityScheme("bearerAuth", {"type": "http", "scheme": "bearer"})

    async def current_user(request: Request) -> User: ...
    current_user.openapi_security = BEARER
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ravyn.routing.binding import BindingPlan
from ravyn.routing.dependencies import DependencyPlan

SECURITY_ATTRIBUTE = "openapi_security"


@dataclass(frozen=True)
class SecurityScheme:
    """``name``: the key under ``components/securitySchemes``; ``definition``: the OpenAPI
    Security Scheme Object (``{"type": "apiKey", "in": "header", "name": "x-api-key"}``);
    ``scopes``: the OAuth2 / OpenID scopes an operation requires."""

    name: str
    definition: Mapping[str, Any]
    scopes: tuple[str, ...] = field(default=())


def plan_security(plan: BindingPlan) -> list[SecurityScheme]:
    """The schemes declared by the dependencies of ``plan``, each once, in order."""
    found: dict[str, SecurityScheme] = {}
    for dependency in [*plan.guards, *(dependency for _, dependency in plan.dependencies)]:
        for scheme in _declared(dependency):
            found.setdefault(scheme.name, scheme)
    return list(found.values())


def _declared(dependency: DependencyPlan) -> Iterator[SecurityScheme]:
    declared = getattr(dependency.inject.callable, SECURITY_ATTRIBUTE, None)
    if isinstance(declared, SecurityScheme):
        yield declared
    elif declared is not None:
        yield from declared
    for _, argument in dependency.arguments:
        if argument is not None:
            yield from _declared(argument)
