"""``ravyn events``: the app's event catalogue (who sends, who listens and in which scope,
the payload's fields, the warnings)."""

from __future__ import annotations

import argparse
from typing import Any

import msgspec

from ravyn.asyncapi import asyncapi_document
from ravyn.asyncapi.document import listener_scope
from ravyn.asyncapi.summary import EventSummary, event_summaries
from ravyn.cli.command import add_command
from ravyn.cli.targets import add_app_arguments, app_from_arguments
from ravyn.utils.tables import format_table


def register(commands: Any) -> None:
    parser = add_command(commands, "events", handler=events, help="print the app's event catalogue")
    add_app_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def events(args: argparse.Namespace) -> None:
    app = app_from_arguments(args)
    catalogue = app.catalogue()
    summaries = {summary.address: summary for summary in event_summaries(asyncapi_document(app))}
    scopes = {listener.name: listener_scope(listener) for listener in app.events.registry.listeners}
    if args.json:
        for entry in catalogue["events"]:
            entry["scopes"] = {name: scopes[name] for name in entry["listeners"]}
            entry["payload_fields"] = summaries[entry["name"]].fields
        print(msgspec.json.format(msgspec.json.encode(catalogue).decode()))
        return
    print(format_catalogue(catalogue, summaries, scopes))


def format_catalogue(
    catalogue: dict[str, Any], summaries: dict[str, EventSummary], scopes: dict[str, str]
) -> str:
    """The catalogue as a text table: event, senders, listeners (a broadcast one says so),
    the payload's fields; then the warnings."""
    rows = []
    for entry in catalogue["events"]:
        summary = summaries[entry["name"]]
        rows.append(
            {
                "event": entry["name"],
                "senders": entry["senders"],
                "listeners": [
                    f"{name} (broadcast)" if scopes.get(name) == "broadcast" else name
                    for name in entry["listeners"]
                ],
                "payload": [
                    f"{item.name}: {item.type}" + ("" if item.required else "?")
                    for item in summary.fields or ()
                ],
            }
        )
    lines = [format_table(rows)] if rows else ["(no events)"]
    lines += [f"warning: {warning['message']}" for warning in catalogue["warnings"]]
    return "\n".join(lines)
