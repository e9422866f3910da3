"""The payload an event must carry for its listeners, for events no sender types.

An event emitted only by ``trigger_event``, or by a sender whose return annotation says
nothing (none, ``Any``, ``dict``), has no declared payload; its listeners still say what they
need, by the same rules their binding follows (``ravyn.events.binding``):

| listener parameter              | what the payload must be                    |
|---------------------------------|---------------------------------------------|
| annotated ``Event``, or none    | anything                                    |
| ``payload: T``                  | a value of ``T``                            |
| any other name                  | an object with that property (of its type); |
|                                 | required unless the parameter has a default |

Every listener receives the same payload, so a sender must send what all of them accept:
the listeners' requirements are combined with ``allOf`` (their field parameters merged into
one object: the properties of all, required when any listener requires it; a property two
listeners type differently must fit both). A listener's default is its own, not the
payload's, so no ``default`` is shown.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from ravyn.events.envelope import Event
from ravyn.events.listener import Listener
from ravyn.openapi.schemas import Components

UNTYPED = (Any, object, dict, dict[str, Any])
"""Return annotations that say nothing of a payload's fields (none at all is ``Any``)."""


def says_nothing(annotation: Any) -> bool:
    """Whether a sender's return annotation leaves its payload undescribed."""
    return any(annotation == untyped for untyped in UNTYPED)


def required_payload(listeners: list[Listener], components: Components) -> dict[str, Any] | None:
    """The schema of a payload every one of ``listeners`` binds; None when none binds
    anything from it."""
    properties: dict[str, list[Any]] = {}  # field -> its distinct annotations
    required: list[str] = []
    payload_types: list[Any] = []
    for listener in listeners:
        for name, annotation, has_default in _bound_parameters(listener.func):
            if name == "payload":
                if annotation not in (Any, object) and annotation not in payload_types:
                    payload_types.append(annotation)
                continue
            types = properties.setdefault(name, [])
            if annotation not in types:
                types.append(annotation)
            if not has_default and name not in required:
                required.append(name)
    parts = [components.schema(annotation) for annotation in payload_types]
    if properties:
        parts.insert(0, _object(properties, required, components))
    if len(parts) > 1:
        return {"allOf": parts}
    return parts[0] if parts else None


def _object(
    properties: dict[str, list[Any]], required: list[str], components: Components
) -> dict[str, Any]:
    described: dict[str, Any] = {}
    for name, types in properties.items():
        schemas = [components.schema(annotation) for annotation in types]
        described[name] = schemas[0] if len(schemas) == 1 else {"allOf": schemas}
    schema: dict[str, Any] = {"type": "object", "properties": described}
    if required:
        schema["required"] = required
    return schema


def _bound_parameters(func: Any) -> list[tuple[str, Any, bool]]:
    """(name, annotation, has a default) of each parameter bound from the payload: the
    envelope (``Event``) is left out."""
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: as the binding, the raw ones
        hints = dict(getattr(func, "__annotations__", {}))
    bound = []
    for parameter in inspect.signature(func).parameters.values():
        annotation = hints.get(parameter.name, Any)
        if annotation is Event:
            continue
        has_default = parameter.default is not inspect.Parameter.empty
        bound.append((parameter.name, annotation, has_default))
    return bound
