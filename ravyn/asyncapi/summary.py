"""The AsyncAPI document read back per event: who sends, who listens (and in which scope),
and the payload's fields. The /docs/events page and ``ravyn events`` both show this."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PayloadField:
    name: str
    type: str
    required: bool


@dataclass
class EventSummary:
    """One channel: an event name, or a wildcard pattern (``pattern`` then says so)."""

    address: str
    pattern: str | None = None
    senders: list[str] = field(default_factory=list)  # routes as "POST /path"
    listeners: list[tuple[str, str]] = field(default_factory=list)  # (listener, scope)
    payload: dict[str, Any] | None = None  # the payload's schema (None for a pattern)
    fields: list[PayloadField] | None = None  # when the payload is an object with fields


def event_summaries(document: dict[str, Any]) -> list[EventSummary]:
    """One summary per channel of ``document`` (made by ``asyncapi_document``), in order."""
    schemas = document["components"]["schemas"]
    messages = document["components"]["messages"]
    summaries: dict[str, EventSummary] = {}
    for key, channel in document["channels"].items():
        summary = EventSummary(address=channel["address"], pattern=channel.get("description"))
        message = messages.get(key)
        if message is not None:
            summary.payload = message["payload"]
            summary.fields = _fields(message["payload"], schemas)
        summaries[f"#/channels/{key}"] = summary
    for operation in document["operations"].values():
        summary = summaries[operation["channel"]["$ref"]]
        if operation["action"] == "send":
            summary.senders.append(operation.get("x-route", operation["x-sender"]))
        else:
            summary.listeners.append((operation["x-listener"], operation["x-scope"]))
    return list(summaries.values())


def _fields(schema: dict[str, Any], schemas: dict[str, Any]) -> list[PayloadField] | None:
    """The payload's fields: of its object schema, or of every member of an ``allOf``
    (a payload several listeners require); None when it has no fields."""
    ref = schema.get("$ref", "")
    resolved = schemas.get(ref.rpartition("/")[2], {}) if ref else schema
    members = resolved.get("allOf", [resolved])
    if len(members) > 1:
        merged: dict[str, PayloadField] = {}
        for member in members:
            for item in _fields(member, schemas) or []:
                known = merged.setdefault(item.name, item)
                if item.required and not known.required:  # required by one: required
                    merged[item.name] = item
        return list(merged.values()) or None
    properties = resolved.get("properties")
    if not properties:
        return None
    required = set(resolved.get("required", ()))
    return [
        PayloadField(name, type_name(item), name in required) for name, item in properties.items()
    ]


def type_name(schema: dict[str, Any]) -> str:
    """A short name for a property's schema: ``integer``, ``string | null``, ``Address``."""
    if "$ref" in schema:
        return schema["$ref"].rpartition("/")[2]
    if "anyOf" in schema:
        return " | ".join(type_name(member) for member in schema["anyOf"])
    if "allOf" in schema:  # a property listeners type differently: it must fit each
        return " & ".join(type_name(member) for member in schema["allOf"])
    if schema.get("type") == "array":
        return f"array of {type_name(schema.get('items', {}))}"
    return str(schema.get("type", "any"))
