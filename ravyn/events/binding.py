"""How a listener's parameters bind from an Event, compiled once at decoration time.

| parameter                   | receives                                         |
|-----------------------------|--------------------------------------------------|
| none                        | nothing                                          |
| annotated ``Event``         | the envelope                                     |
| named ``payload``           | the payload, converted to its annotation         |
| any other name              | that field of the payload, converted             |

All field parameters are converted together through one msgspec Struct made here, so a
bad payload gives one message naming the field. When every field is a plain scalar (or
untyped) and the payload is a dict, a delivery skips that conversion: each value is read
by key and passed on if it already has the exact annotated type (what msgspec would return
unchanged); anything else (a missing field, an int for a float, a non-dict payload) goes
through msgspec as before, so results and errors are the same, only cheaper.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from ravyn.events.envelope import Event
from ravyn.events.errors import ListenerBindingError

Invoker = Callable[[Event], Any]
Arguments = Callable[[Event], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class EventBinding:
    """A compiled binding: ``invoke(event)`` calls the function with its bound arguments.

    ``shared_arguments``, when not None, makes those arguments (raising
    ``msgspec.ValidationError`` when the payload does not fit) and is the same function
    for every listener with the same parameters: their values are the event's own (the
    envelope, the payload as is, scalar or untyped fields), so a fan-out binds an event
    once for all such listeners. None when binding converts (a typed payload, a container
    field): each listener then gets values of its own.
    """

    invoke: Invoker
    required_fields: frozenset[str]
    shared_arguments: Arguments | None = None


def compile_binding(fn: Callable[..., Any], label: str) -> EventBinding:
    """Compile ``fn``'s parameters into a plan; ``label`` names the listener in errors."""
    hints = _type_hints(fn)
    event_params: list[str] = []
    payload_param: tuple[str, Any] | None = None
    fields: list[tuple[str, Any, Any]] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ListenerBindingError(
                f"Listener {label} takes {'**' if param.kind == param.VAR_KEYWORD else '*'}"
                f"{param.name}: listener parameters bind by name. "
                "Name the payload fields you need, or take `payload` or `event: Event`."
            )
        annotation = hints.get(param.name, Any)
        if isinstance(annotation, str):
            raise ListenerBindingError(
                f"Listener {label}: cannot resolve the annotation {annotation!r} of parameter "
                f"{param.name!r}. Define that type at module level (string annotations are "
                "resolved in the module's namespace) or import it there."
            )
        if annotation is Event:
            event_params.append(param.name)
        elif param.name == "payload":
            payload_param = (param.name, annotation)
        elif param.default is inspect.Parameter.empty:
            fields.append((param.name, annotation, msgspec.NODEFAULT))
        else:
            fields.append((param.name, annotation, param.default))
    required = frozenset(name for name, _, default in fields if default is msgspec.NODEFAULT)
    shared = _shared_arguments(tuple(event_params), payload_param, tuple(fields))
    arguments = shared or _arguments(fn.__name__, event_params, payload_param, fields)
    return EventBinding(_invoker(fn, label, arguments), required, shared)


def payload_fields(annotation: Any) -> frozenset[str] | None:
    """The field names of a typed payload (Struct, dataclass, TypedDict), else None."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return frozenset(field.name for field in msgspec.structs.fields(annotation))
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return frozenset(field.name for field in dataclasses.fields(annotation))
    if typing.is_typeddict(annotation):
        return frozenset(_type_hints(annotation))
    return None


def return_annotation(fn: Callable[..., Any]) -> Any:
    """The resolved return annotation of ``fn`` (Any when absent or unresolvable)."""
    return _type_hints(fn).get("return", Any)


def _type_hints(obj: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except Exception:  # unresolvable forward references: bind untyped rather than refuse
        return dict(getattr(obj, "__annotations__", {}))


def _invoker(fn: Callable[..., Any], label: str, arguments: Arguments) -> Invoker:
    def invoke(event: Event) -> Any:
        try:
            kwargs = arguments(event)
        except msgspec.ValidationError as exc:
            raise binding_error(label, event, exc) from exc
        return fn(**kwargs)

    return invoke


_shared: dict[Any, Arguments] = {}
"""Shared argument makers by parameter list (names, annotations, defaults)."""


def _shared_arguments(
    event_params: tuple[str, ...],
    payload_param: tuple[str, Any] | None,
    fields: tuple[tuple[str, Any, Any], ...],
) -> Arguments | None:
    """The argument maker of listeners with these parameters, when its values are the
    event's own (see ``EventBinding``): one function per parameter list, so equal lists
    share it. None when binding converts, or a default cannot be compared."""
    if payload_param is not None and payload_param[1] not in (Any, object):
        return None
    if any(annotation not in _DIRECT_TYPES for _, annotation, _ in fields):
        return None
    # a default's type too: 0 == False, but a function's default is what it is
    key = (event_params, payload_param is not None, fields, tuple(type(f[2]) for f in fields))
    try:
        arguments = _shared.get(key)
    except TypeError:  # an unhashable default
        return None
    if arguments is None:
        arguments = _shared[key] = _arguments(
            "shared", list(event_params), payload_param, list(fields)
        )
    return arguments


_NO_ARGUMENTS: dict[str, Any] = {}  # never changed: ``fn(**kwargs)`` copies it


def _arguments(
    struct_name: str,
    event_params: list[str],
    payload_param: tuple[str, Any] | None,
    fields: list[tuple[str, Any, Any]],
) -> Arguments:
    """Event -> the keyword arguments of one call; raises ``msgspec.ValidationError``."""
    if not event_params and payload_param is None and not fields:
        return lambda event: _NO_ARGUMENTS
    convert_payload = _payload_converter(payload_param[1]) if payload_param else None
    if not fields:
        if not event_params and convert_payload is _as_is:
            return lambda event: {"payload": event.payload}
        if convert_payload is None:
            names = tuple(event_params)
            return lambda event: dict.fromkeys(names, event)
    fields_type = (
        msgspec.defstruct(
            f"{struct_name}_fields",
            [
                (name, annotation, default)
                if default is not msgspec.NODEFAULT
                else (name, annotation)
                for name, annotation, default in fields
            ],
            kw_only=True,
        )
        if fields
        else None
    )
    convert_fields = _fields_binder(fields, fields_type) if fields_type is not None else None
    if convert_fields is not None and convert_payload is None and not event_params:
        return convert_fields

    def arguments(event: Event) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict.fromkeys(event_params, event)
        if convert_payload is not None:
            kwargs["payload"] = convert_payload(event.payload)
        if convert_fields is not None:
            kwargs.update(convert_fields(event))
        return kwargs

    return arguments


_AS_IS_TYPES = frozenset({int, float, str, bool, bytes})
"""Annotations msgspec returns a value of exactly that type unchanged for."""
_DIRECT_TYPES = _AS_IS_TYPES | {Any, object}
"""Field annotations whose bound value is the payload's own, or an immutable scalar."""
_MISSING: Any = object()


def _fields_binder(
    fields: list[tuple[str, Any, Any]], fields_type: type[msgspec.Struct]
) -> Arguments:
    """Event -> the field parameters' values by name: read directly from a dict payload
    whose values already have their annotated types, else validated in one msgspec call."""
    convert_fields = _fields_converter(fields_type)
    direct: list[tuple[str, type | None, bool]] = []
    for name, annotation, default in fields:
        if annotation is Any or annotation is object:
            direct.append((name, None, default is msgspec.NODEFAULT))
        elif annotation in _AS_IS_TYPES:
            direct.append((name, annotation, default is msgspec.NODEFAULT))
        else:
            return convert_fields  # a container, Struct, union...: msgspec decides

    def bind_fields(event: Event) -> dict[str, Any]:
        payload = event.payload
        if type(payload) is dict:
            kwargs = {}
            for name, expected, required in direct:
                value = payload.get(name, _MISSING)
                if value is _MISSING:
                    if required:
                        break  # msgspec words the error
                    continue  # the function's own default applies
                if expected is not None and type(value) is not expected:
                    break
                kwargs[name] = value
            else:
                return kwargs
        return convert_fields(event)

    return bind_fields


def _fields_converter(fields_type: type[msgspec.Struct]) -> Arguments:
    """Event -> the field parameters' values by name, validated in one msgspec call
    (attribute lookup only for non-dict payloads: it doubles the cost)."""
    convert, as_dict = msgspec.convert, msgspec.structs.asdict

    def convert_fields(event: Event) -> dict[str, Any]:
        payload = event.payload
        if payload is None:  # an event without payload: the parameters' defaults apply
            return as_dict(convert({}, fields_type))
        if type(payload) is dict:
            return as_dict(convert(payload, fields_type))
        return as_dict(convert(payload, fields_type, from_attributes=True))

    return convert_fields


def binding_error(label: str, event: Event, exc: Exception) -> ListenerBindingError:
    """The failure of listener ``label`` whose parameters cannot bind ``event``'s payload."""
    return ListenerBindingError(
        f"Listener {label} cannot bind the payload of event {event.name!r}: {exc}. "
        "Make the sender's payload match the listener's parameters."
    )


def _as_is(payload: Any) -> Any:
    return payload


def _payload_converter(annotation: Any) -> Callable[[Any], Any]:
    if annotation is Any or annotation is object:
        return _as_is
    return lambda payload: msgspec.convert(payload, annotation, from_attributes=True)
