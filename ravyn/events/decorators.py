"""``@observable(send=..., listen=...)``: declare what a function emits and reacts to."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

import anyio
import anyio.from_thread

from ravyn.events.binding import return_annotation
from ravyn.events.context import current_bus
from ravyn.events.errors import ObservableError
from ravyn.events.listener import Listener, listener_name
from ravyn.events.policy import NO_POLICY, ListenerPolicy
from ravyn.events.registry import Registry, Sender, active_registry

F = TypeVar("F")

SPEC_ATTRIBUTE = "__ravyn_observable__"
ATTACH_HOOK = "__ravyn_attach_observable__"
CALLED_BY_ATTRIBUTE = "__ravyn_called_by__"
"""Set by a decorator that keeps the function beneath it to call later (``@scheduler``): an
``@observable(send=...)`` written above it would wrap a function that nothing calls."""


@dataclass(frozen=True, slots=True)
class ObservableSpec:
    """What ``@observable`` declared on a function.

    ``func`` is the undecorated function (a route handler calls it, then emits ``send``
    itself); ``wait`` None means "the app's setting".
    """

    func: Callable[..., Any]
    send: tuple[str, ...] = ()
    listen: tuple[str, ...] = ()
    wait: bool | None = None
    broadcast: bool = False
    policy: ListenerPolicy = NO_POLICY

    @property
    def is_method(self) -> bool:
        """A function defined in a class body taking ``self``: it listens once attached to
        an instance (``attach(obj)``)."""
        parameters = list(inspect.signature(self.func).parameters)
        owner = self.func.__qualname__.rpartition(".")[0]
        return (
            bool(parameters)
            and parameters[0] == "self"
            and bool(owner)
            and not (owner.endswith("<locals>"))
        )

    def listener(self, func: Callable[..., Any]) -> Listener:
        """A Listener calling ``func`` (the function, its sending wrapper or a bound method)."""
        return Listener(func, self.listen, broadcast=self.broadcast, policy=self.policy)


def observable_spec(obj: Any) -> ObservableSpec | None:
    """The spec ``@observable`` put on ``obj``, or None."""
    return getattr(obj, SPEC_ATTRIBUTE, None)


def observable(
    send: list[str] | tuple[str, ...] = (),
    listen: list[str] | tuple[str, ...] = (),
    *,
    wait: bool | None = None,
    broadcast: bool = False,
    **policy: Any,
) -> Callable[[F], F]:
    """Make a function send events (one per name in ``send``, payload = its return value,
    after it returns successfully) and/or listen to events (names or ``*`` wildcards).

    Listener policy, the fields of ``ListenerPolicy``: ``timeout`` seconds per attempt,
    ``retry`` (``Retry`` or a number of attempts), ``max_concurrency`` executions at once in
    this process. ``broadcast`` (with a transport): run in every process rather than once
    per cluster. ``wait=True`` makes the sender wait for local listeners before returning
    (or before a route's response).
    """
    for names, argument in ((send, "send"), (listen, "listen")):
        if isinstance(names, str):
            raise ObservableError(
                f"observable({argument}=...) takes a list of event names: write "
                f"{argument}=[{names!r}]."
            )
    if not send and not listen:
        raise ObservableError("observable() needs send=[...] and/or listen=[...] event names.")
    NO_POLICY.merged(**policy)  # an unknown or invalid policy field fails at decoration

    def decorate(target: F) -> F:
        if isinstance(target, staticmethod | classmethod):
            if listen and isinstance(target, classmethod):
                raise ObservableError(
                    f"{target.__func__.__qualname__} is a classmethod: a listener needs "
                    "no class. Use a staticmethod, a module function, or an instance method "
                    "registered with attach(instance)."
                )
            return type(target)(decorate(target.__func__))
        caller = getattr(target, CALLED_BY_ATTRIBUTE, None)
        if send and caller is not None:
            name = getattr(target, "__qualname__", target)
            raise ObservableError(
                f"@observable(send=...) is above {caller} on {name}: {caller} "
                "calls the function beneath it, which would never send. Write "
                f"{caller} above @observable(send=[...])."
            )
        spec = _merged_spec(target, send, listen, wait, broadcast, policy)
        registry = active_registry()
        if hasattr(target, ATTACH_HOOK):
            _register(registry, spec, spec.func)
            getattr(target, ATTACH_HOOK)(spec)
            return target
        result = _sending_wrapper(spec) if spec.send else spec.func
        setattr(result, SPEC_ATTRIBUTE, spec)
        _register(registry, spec, result)
        return cast(F, result)

    return decorate


def attach(instance: object, registry: Registry | None = None) -> list[Listener]:
    """Register the ``@observable(listen=...)`` methods of ``instance`` as listeners.

    A listener is named after its class and method, so attaching a second instance of the
    same class replaces the first one's listeners.
    """
    registry = registry if registry is not None else active_registry()
    attached = []
    for attribute in dir(type(instance)):
        spec = observable_spec(inspect.getattr_static(instance, attribute, None))
        if spec is not None and spec.listen and spec.is_method:
            attached.append(registry.add_listener(spec.listener(getattr(instance, attribute))))
    return attached


def _merged_spec(
    target: Any,
    send: list[str] | tuple[str, ...],
    listen: list[str] | tuple[str, ...],
    wait: bool | None,
    broadcast: bool,
    policy: dict[str, Any],
) -> ObservableSpec:
    """The spec of ``target`` with this decoration's arguments (a second ``@observable``
    on the same function adds to the first)."""
    previous = observable_spec(target)
    if previous is None:
        func = getattr(target, "__wrapped__", target) if hasattr(target, ATTACH_HOOK) else target
        return ObservableSpec(
            func, tuple(send), tuple(listen), wait, broadcast, NO_POLICY.merged(**policy)
        )
    return replace(
        previous,
        send=tuple(dict.fromkeys((*previous.send, *send))),
        listen=tuple(dict.fromkeys((*previous.listen, *listen))),
        wait=previous.wait if wait is None else wait,
        broadcast=previous.broadcast or broadcast,
        policy=previous.policy.merged(**policy),
    )


def _register(registry: Registry, spec: ObservableSpec, callable_: Callable[..., Any]) -> None:
    listener = spec.listener(callable_) if spec.listen and not spec.is_method else None
    if spec.send:
        registry.add_sender(
            Sender(listener_name(spec.func), spec.send, return_annotation(spec.func))
        )
    if listener is not None:
        registry.add_listener(listener)


def _sending_wrapper(spec: ObservableSpec) -> Callable[..., Any]:
    func, send, wait = spec.func, spec.send, bool(spec.wait)
    source = listener_name(func)  # the name the catalogue shows for this sender
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def send_after(*args: Any, **kwargs: Any) -> Any:
            result = await func(*args, **kwargs)
            await current_bus().emit_many(send, result, wait=wait, source=source)
            return result

        return send_after

    @functools.wraps(func)
    def send_after_sync(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        _emit_from_sync_code(send, result, wait, source)
        return result

    return send_after_sync


def _emit_from_sync_code(send: tuple[str, ...], payload: Any, wait: bool, source: str) -> None:
    """Emit from a sync sender: through the event loop when called in one of its worker
    threads, in a fresh loop when there is none; impossible on the loop's own thread."""
    bus = current_bus()

    async def emit() -> None:
        await bus.emit_many(send, payload, wait=wait, source=source)

    try:
        anyio.from_thread.run(emit)
        return
    except RuntimeError:
        pass  # not in a worker thread of a running event loop
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        anyio.run(emit)
        return
    raise ObservableError(
        f"The sync sender {source} was called on the event loop thread, where it cannot "
        "wait to emit. Make it `async def`, or call it in a worker thread "
        "(await anyio.to_thread.run_sync(...))."
    )
