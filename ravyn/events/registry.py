"""Registry: what is wired: listeners by event name, senders, scheduled jobs, the cache.

One per app, on top of the process default (or of the registry active when the app was
made): an app sees what its modules declared there, plus what was registered on the app
itself, which no other app sees. So two apps or two tests never share listeners, jobs or
caches. Lookups by event name are cached; any registration, in any registry, clears them
(``Registry.generation``: one number to compare, so a cache checks it without a call).
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from ravyn.events.binding import payload_fields as typed_payload_fields
from ravyn.events.errors import ListenerBindingError
from ravyn.events.listener import Listener

logger = structlog.get_logger("ravyn.events")

RUNTIME_SENDER = "(emitted at runtime)"


@dataclass(frozen=True, slots=True)
class Sender:
    """A function that emits ``events`` with its return value as payload.

    ``payload_type`` is its return annotation (``Any`` when it has none): the AsyncAPI
    document describes the events' payloads with it, wherever the function was defined.
    """

    name: str
    events: tuple[str, ...]
    payload_type: Any = Any

    @property
    def payload_fields(self) -> frozenset[str] | None:
        """The fields of a typed payload (Struct, dataclass or TypedDict), used to refuse at
        decoration a listener that needs a field never sent; None when not typed so."""
        return typed_payload_fields(self.payload_type)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """A regex for a wildcard pattern, None for a plain name.

    ``*`` matches any run of characters except ``.``: ``user.*`` matches ``user.created``
    but neither ``user`` nor ``user.profile.updated``; ``user_*`` matches ``user_created``.
    """
    if "*" not in pattern:
        return None
    return re.compile("[^.]*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def is_pattern(name: str) -> bool:
    """Whether ``name`` is a wildcard pattern rather than one event name."""
    return "*" in name


def matches(pattern: str, name: str) -> bool:
    """Whether the event ``name`` is selected by ``pattern`` (a name or a wildcard)."""
    regex = compile_pattern(pattern)
    return pattern == name if regex is None else regex.match(name) is not None


class Registry:
    """Listeners, senders and scheduled jobs by name; the catalogue of what is wired.

    With a ``parent``, it also sees everything registered there (live), while what is
    registered here stays here. ``cache`` is the backend of ``@cache()`` without one for
    code running on this registry's bus (made by ``ravyn.core.caches`` on first use).
    """

    generation: ClassVar[int] = 0
    """Grows with every registration in any registry: what was built from lookups (the
    bus's targets, the documents) is stale once it changed."""

    def __init__(self, parent: Registry | None = None) -> None:
        self.parent = parent
        self.cache: Any = None
        self.scheduler_options: dict[str, Any] | None = None
        self._listeners: dict[str, Listener] = {}
        self._senders: dict[str, Sender] = {}
        self._jobs: dict[str, Any] = {}  # name -> ScheduledJob, or None: removed here
        self._runtime_events: set[str] = set()
        self._lookup: dict[str, tuple[Listener, ...]] = {}
        self._lookup_generation = Registry.generation

    @property
    def listeners(self) -> tuple[Listener, ...]:
        return tuple(self._all_listeners().values())

    @property
    def senders(self) -> tuple[Sender, ...]:
        return tuple(self._all_senders().values())

    @property
    def jobs(self) -> tuple[Any, ...]:
        """The scheduled jobs (``ravyn.contrib.schedulers``), in declaration order."""
        jobs = dict(self.parent._all_jobs()) if self.parent is not None else {}
        jobs.update(self._jobs)
        return tuple(job for job in jobs.values() if job is not None)

    def add_job(self, job: Any) -> Any:
        """Register a scheduled job under ``job.name`` (replacing one of that name)."""
        self._jobs[job.name] = job
        self._changed()
        return job

    def remove_job(self, name: str) -> None:
        """Forget the job ``name`` here (a parent's job is hidden, not removed there)."""
        if self.parent is not None and name in self.parent._all_jobs():
            self._jobs[name] = None
        else:
            self._jobs.pop(name, None)
        self._changed()

    def options_for_scheduler(self) -> dict[str, Any]:
        """The asyncz scheduler options set here, else in a parent, else none."""
        if self.scheduler_options is not None:
            return self.scheduler_options
        return self.parent.options_for_scheduler() if self.parent is not None else {}

    def add_listener(self, listener: Listener) -> Listener:
        """Register ``listener``; one with the same name is replaced (decorating twice or
        re-importing a module registers once).

        Raises ListenerBindingError when a sender's typed payload lacks a field the listener
        requires.
        """
        for sender in self._all_senders().values():
            _check_compatible(sender, listener)
        previous = self._all_listeners().get(listener.name)
        if previous is not None and _origin(previous.func) is not _origin(listener.func):
            logger.warning(
                "listener_replaced",
                listener=listener.name,
                reason="another function has the same module:qualname; give each listener "
                "a unique name (functions made by a factory need distinct __qualname__)",
            )
        self._listeners[listener.name] = listener
        self._changed()
        return listener

    def add_sender(self, sender: Sender) -> Sender:
        """Record a sender, for the catalogue and the payload cross-check."""
        for listener in self._all_listeners().values():
            _check_compatible(sender, listener)
        self._senders[sender.name] = sender
        self._changed()
        return sender

    def listeners_for(self, name: str) -> tuple[Listener, ...]:
        """Every listener selected by event ``name`` (exact names and wildcards), cached."""
        if self._lookup_generation != Registry.generation:
            self._lookup_generation = Registry.generation
            self._lookup.clear()
        found = self._lookup.get(name)
        if found is None:
            found = tuple(
                listener
                for listener in self._all_listeners().values()
                if any(matches(pattern, name) for pattern in listener.events)
            )
            self._lookup[name] = found
            self._runtime_events.add(name)
        return found

    def catalogue(self) -> dict[str, Any]:
        """What is wired, as plain data: events with their senders and listeners, and
        warnings for events sent with no listener and listeners of events nothing sends."""
        sent: dict[str, list[str]] = {}
        listeners = self._all_listeners().values()
        for sender in self._all_senders().values():
            for name in sender.events:
                sent.setdefault(name, []).append(sender.name)
        for name in self._runtime_events - sent.keys():  # emitted, but no declared sender
            sent[name] = [RUNTIME_SENDER]
        names = set(sent)
        names.update(
            pattern
            for listener in listeners
            for pattern in listener.events
            if compile_pattern(pattern) is None
        )
        events = [
            {
                "name": name,
                "senders": sorted(set(sent.get(name, ()))),
                "listeners": [listener.name for listener in self._match_uncached(name)],
            }
            for name in sorted(names)
        ]
        warnings = [
            {
                "kind": "sent_without_listener",
                "event": entry["name"],
                "message": f"{entry['name']!r} is sent by {', '.join(entry['senders'])} "
                "but nothing listens to it: if its listeners are in another module, name it in "
                "Ravyn(observers=['myapp.listeners']) (or import it before building the app).",
            }
            for entry in events
            if entry["senders"] and not entry["listeners"]
        ]
        warnings.extend(
            {
                "kind": "listened_but_never_sent",
                "event": pattern,
                "listener": listener.name,
                "message": f"{listener.name} listens to {pattern!r} but no sender emits it"
                + _did_you_mean(pattern, sent),
            }
            for listener in listeners
            for pattern in listener.events
            if not any(matches(pattern, name) for name in sent)
        )
        return {"events": events, "warnings": warnings}

    def _match_uncached(self, name: str) -> list[Listener]:
        return [
            listener
            for listener in self._all_listeners().values()
            if any(matches(pattern, name) for pattern in listener.events)
        ]

    def _changed(self) -> None:
        Registry.generation += 1

    def _all_listeners(self) -> dict[str, Listener]:
        if self.parent is None:
            return self._listeners
        return {**self.parent._all_listeners(), **self._listeners}

    def _all_senders(self) -> dict[str, Sender]:
        if self.parent is None:
            return self._senders
        return {**self.parent._all_senders(), **self._senders}

    def _all_jobs(self) -> dict[str, Any]:
        if self.parent is None:
            return self._jobs
        return {**self.parent._all_jobs(), **self._jobs}


def _origin(func: Any) -> Any:
    """The user's function behind a bound method or a sending wrapper."""
    return inspect.unwrap(getattr(func, "__func__", func))


def _check_compatible(sender: Sender, listener: Listener) -> None:
    if sender.payload_fields is None or sender.name == listener.name:
        return
    missing = listener.binding.required_fields - sender.payload_fields
    if not missing:
        return
    for name in sender.events:
        if any(matches(pattern, name) for pattern in listener.events):
            raise ListenerBindingError(
                f"Listener {listener.name} needs payload field(s) {sorted(missing)} of event "
                f"{name!r}, but its sender {sender.name} returns only "
                f"{sorted(sender.payload_fields)}. Rename the parameter(s), give them a "
                "default, or take `payload` / `event: Event` instead."
            )


_default_registry = Registry()
_active_registry: ContextVar[Registry | None] = ContextVar("ravyn_active_registry", default=None)


def default_registry() -> Registry:
    """The process-wide registry used when no other is active."""
    return _default_registry


def active_registry() -> Registry:
    """The registry ``@observable`` registers into: the one set by ``use_registry``, else
    the process default."""
    return _active_registry.get() or _default_registry


@contextmanager
def use_registry(registry: Registry | None = None) -> Iterator[Registry]:
    """Register into ``registry`` (a new one if None) inside the block: isolates tests and
    apps from each other's listeners."""
    registry = registry if registry is not None else Registry()
    token = _active_registry.set(registry)
    try:
        yield registry
    finally:
        _active_registry.reset(token)


def _did_you_mean(pattern: str, sent: Iterable[str]) -> str:
    """The end of a never-sent warning: the sent name a typo was meant to be, if one is close."""
    close = difflib.get_close_matches(pattern, list(sent), n=1, cutoff=0.8)
    if close:
        return f": did you mean {close[0]!r}?"
    return " (trigger_event or another process may; check the name)."
