"""``/docs/events``: the AsyncAPI document as one readable HTML page (no script, no asset
from elsewhere): each event, who sends it, who listens (and in which scope), and the
fields of its payload."""

from __future__ import annotations

import html
import json
from typing import Any

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { margin-bottom: 0; } .version { color: #666; }
section { border: 1px solid #ddd; border-radius: 6px; margin: 1.5rem 0; padding: 0 1rem 1rem; }
h2 code { font-size: 1.1rem; } table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #eee; }
td { vertical-align: top; }
.scope { font-size: .8rem; background: #eef; border-radius: 3px; padding: 0 .3rem; }
"""


def events_page(document: dict[str, Any]) -> bytes:
    """The page of an AsyncAPI document made by ``asyncapi_document``."""
    info = document["info"]
    schemas = document["components"]["schemas"]
    operations = document["operations"].values()
    sections = []
    for key, channel in document["channels"].items():
        address = channel["address"]
        senders = [op for op in operations if op["action"] == "send" and _on(op, key)]
        listeners = [op for op in operations if op["action"] == "receive" and _on(op, key)]
        message = document["components"]["messages"].get(key)
        sections.append(_section(address, channel, senders, listeners, message, schemas))
    body = "\n".join(sections) or "<p>No event is sent or listened to.</p>"
    title = html.escape(f"{info['title']} - events")
    servers = ", ".join(
        f"{html.escape(server['protocol'])}://{html.escape(server['host'])}"
        for server in document.get("servers", {}).values()
    )
    transport = f"<p>Transport: {servers}</p>" if servers else "<p>Transport: in memory.</p>"
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(info["title"])} events</h1>
<p class="version">version {html.escape(info["version"])} &middot; AsyncAPI document at the
app's asyncapi URL</p>
{transport}
{body}
</body>
</html>
""".encode()


def _on(operation: dict[str, Any], channel_key: str) -> bool:
    return operation["channel"]["$ref"] == f"#/channels/{channel_key}"


def _section(
    address: str,
    channel: dict[str, Any],
    senders: list[dict[str, Any]],
    listeners: list[dict[str, Any]],
    message: dict[str, Any] | None,
    schemas: dict[str, Any],
) -> str:
    rows = [
        f"<tr><th>sent by</th><td>{_names(senders, 'x-route', 'x-sender')}</td></tr>",
        f"<tr><th>listened by</th><td>{_listeners(listeners)}</td></tr>",
    ]
    if "description" in channel:
        rows.append(f"<tr><th>pattern</th><td>{html.escape(channel['description'])}</td></tr>")
    if message is not None:
        rows.append(f"<tr><th>payload</th><td>{_payload(message['payload'], schemas)}</td></tr>")
    return (
        f'<section id="{html.escape(address)}"><h2><code>{html.escape(address)}</code></h2>'
        f"<table>{''.join(rows)}</table></section>"
    )


def _names(operations: list[dict[str, Any]], *keys: str) -> str:
    names = [html.escape(next(op[k] for k in keys if k in op)) for op in operations]
    return "<br>".join(names) or "-"


def _listeners(operations: list[dict[str, Any]]) -> str:
    items = [
        f'{html.escape(op["x-listener"])} <span class="scope">{html.escape(op["x-scope"])}</span>'
        for op in operations
    ]
    return "<br>".join(items) or "-"


def _payload(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    """The payload's fields and their types, one per line, or its schema as JSON."""
    ref = schema.get("$ref", "")
    resolved = schemas.get(ref.rpartition("/")[2], schema) if ref else schema
    properties = resolved.get("properties")
    if not properties:
        text = json.dumps(schema) if schema else "any value"
        return f"<code>{html.escape(text)}</code>"
    required = set(resolved.get("required", ()))
    lines = [
        f"<code>{html.escape(name)}</code>: {html.escape(_type(field))}"
        + ("" if name in required else " (optional)")
        for name, field in properties.items()
    ]
    return "<br>".join(lines)


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rpartition("/")[2]
    if "anyOf" in schema:
        return " | ".join(_type(member) for member in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    return str(schema.get("type", "any"))
