"""The AsyncAPI 3.0 document of an app's events, from the registry's catalogue.

A channel per event name and per wildcard pattern listened to; a message per event whose
payload schema is its senders' return type (for a sender that declares none, what the
event's listeners require: ``listener_payloads.py``); a ``send`` operation per sender (route,
scheduled job, function) and a ``receive`` operation per listener, with its scope
(``broadcast``: every process; else once per cluster); the Event envelope's headers; and
the transport's servers.
"""

from __future__ import annotations

import re
from typing import Any

from ravyn.asyncapi.listener_payloads import required_payload, says_nothing
from ravyn.asyncapi.servers import channel_location, transport_servers
from ravyn.events.envelope import CAUSATION_ID, CORRELATION_ID, TRACEPARENT
from ravyn.events.listener import listener_name
from ravyn.events.registry import compile_pattern, matches
from ravyn.openapi.document import handler_endpoints
from ravyn.openapi.schemas import Components

ASYNCAPI_VERSION = "3.0.0"
_INVALID_KEY = re.compile(r"[^\w.\-]")
HEADERS_SCHEMA = {
    "type": "object",
    "description": "The headers of the ravyn Event envelope that carries the payload.",
    "properties": {
        CORRELATION_ID: {
            "type": "string",
            "description": "The request id (or the first event's id) shared by a chain.",
        },
        CAUSATION_ID: {
            "type": "string",
            "description": "The id of the event whose listener emitted this one.",
        },
        TRACEPARENT: {
            "type": "string",
            "description": "The W3C trace context of the request that started the chain.",
        },
    },
}


def asyncapi_document(app: Any) -> dict[str, Any]:
    """The AsyncAPI document of ``app``'s events (a ``Ravyn``) as plain data."""
    bus = app.events
    catalogue = bus.catalogue()
    listeners = bus.registry.listeners
    listeners_by_name = {listener.name: listener for listener in listeners}
    transport = bus.transport
    senders = {sender.name: sender for sender in bus.registry.senders}
    routes = _sending_routes(app.routes)
    components = Components()
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    for entry in catalogue["events"]:
        name = entry["name"]
        key = _key(name)
        annotations = [
            senders[sender].payload_type if sender in senders else Any  # trigger_event
            for sender in entry["senders"]
        ]
        receivers = [listeners_by_name[listener] for listener in entry["listeners"]]
        messages[key] = _message(name, annotations, receivers, components)
        channels[key] = _channel(name, [key], transport)
        for sender in entry["senders"]:
            operations[_key(f"send.{name}.{sender}")] = _send(key, sender, routes.get(sender))

    patterns = sorted(
        {p for listener in listeners for p in listener.events if compile_pattern(p) is not None}
    )
    for pattern in patterns:
        matched = [
            _key(entry["name"]) for entry in catalogue["events"] if matches(pattern, entry["name"])
        ]
        channels[_key(pattern)] = _channel(pattern, matched, transport)

    for listener in sorted(listeners, key=lambda listener: listener.name):
        for pattern in listener.events:
            operation_id = _key(f"receive.{pattern}.{listener.name}")
            operations[operation_id] = _receive(_key(pattern), listener, channels)

    info: dict[str, Any] = {"title": app.title, "version": app.version}
    if app.description:
        info["description"] = app.description
    document: dict[str, Any] = {"asyncapi": ASYNCAPI_VERSION, "info": info}
    servers = transport_servers(transport)
    if servers:
        document["servers"] = servers
    document["defaultContentType"] = "application/json"
    document["channels"] = channels
    document["operations"] = operations
    document["components"] = {"messages": messages, "schemas": components.finish()}
    return document


def _sending_routes(routes: list[Any]) -> dict[str, str]:
    """Sender name -> the route that runs it (``POST /path``), for the routes that send."""
    found = {}
    for endpoint in handler_endpoints(routes, schema_only=False):
        spec = endpoint.route.observable
        if spec is not None and spec.send:
            methods = "/".join(m for m in endpoint.route.methods if m != "HEAD")
            found[listener_name(spec.func)] = f"{methods} {endpoint.path}"
    return found


def _message(
    name: str, annotations: list[Any], listeners: list[Any], components: Components
) -> dict[str, Any]:
    """The message of event ``name``: its payload is one of its senders' return types; a
    sender that declares none (or no sender at all: ``trigger_event``) is described by what
    the event's listeners bind, when they bind anything."""
    typed: list[Any] = []  # two senders of one type describe it once
    untyped: list[Any] = []
    for annotation in annotations or [Any]:
        group = untyped if says_nothing(annotation) else typed
        if annotation not in group:
            group.append(annotation)
    required = required_payload(listeners, components) if untyped else None
    schemas = [
        components.schema(annotation)
        for annotation in (typed if required is not None else typed + untyped)
    ]
    summary = f"The payload of {name!r}: its sender's return value."
    if required is not None:  # (a slot for now: Components fills it at finish)
        schemas.append(required)
        summary = f"The payload of {name!r}: " + (
            "its senders' return values; for a sender that declares no type, what its "
            "listeners require."
            if typed
            else "no sender declares its type; what its listeners require."
        )
    return {
        "name": name,
        "title": name,
        "summary": summary,
        "headers": HEADERS_SCHEMA,
        "correlationId": {"location": f"$message.header#/{CORRELATION_ID}"},
        "payload": schemas[0] if len(schemas) == 1 else {"anyOf": schemas},
    }


def _channel(address: str, message_keys: list[str], transport: Any) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": address,
        "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in message_keys},
    }
    if compile_pattern(address) is None:
        channel.update(channel_location(transport, address))
    else:
        channel["description"] = f"Every event whose name matches the pattern {address!r}."
    return channel


def _send(channel_key: str, sender: str, route: str | None) -> dict[str, Any]:
    operation = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel_key}"},
        "messages": [{"$ref": f"#/channels/{channel_key}/messages/{channel_key}"}],
        "summary": f"Sent by {route or sender}" + (f" ({sender})" if route else ""),
        "x-sender": sender,
    }
    if route:
        operation["x-route"] = route
    return operation


def listener_scope(listener: Any) -> str:
    """``broadcast`` (runs in every process) or ``once-per-cluster``."""
    return "broadcast" if listener.broadcast else "once-per-cluster"


def _receive(channel_key: str, listener: Any, channels: dict[str, Any]) -> dict[str, Any]:
    scope = listener_scope(listener)
    return {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{channel_key}"},
        "messages": [
            {"$ref": f"#/channels/{channel_key}/messages/{key}"}
            for key in channels[channel_key]["messages"]
        ],
        "summary": f"{listener.name} listens ({scope})",
        "x-listener": listener.name,
        "x-scope": scope,
    }


def _key(text: str) -> str:
    """A channel, message or operation id: letters, digits, ``_``, ``.`` and ``-`` only."""
    return _INVALID_KEY.sub("_", text)
