"""``/docs/events``: the AsyncAPI document as one readable HTML page (no script, no asset
from elsewhere): each event, who sends it, who listens (and in which scope), and the
fields of its payload."""

from __future__ import annotations

import html
import json
from typing import Any

from ravyn.asyncapi.summary import EventSummary, event_summaries

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
    sections = [_section(summary) for summary in event_summaries(document)]
    body = "\n".join(sections) or "<p>No event is sent or listened to.</p>"
    servers = ", ".join(
        f"{html.escape(server['protocol'])}://{html.escape(server['host'])}"
        for server in document.get("servers", {}).values()
    )
    transport = f"<p>Transport: {servers}</p>" if servers else "<p>Transport: in memory.</p>"
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{html.escape(info["title"])} - events</title>
<style>{_STYLE}</style></head>
<body>
<h1>{html.escape(info["title"])} events</h1>
<p class="version">version {html.escape(info["version"])}</p>
{transport}
{body}
</body>
</html>
""".encode()


def _section(summary: EventSummary) -> str:
    senders = "<br>".join(html.escape(sender) for sender in summary.senders) or "-"
    listeners = "<br>".join(
        f'{html.escape(name)} <span class="scope">{html.escape(scope)}</span>'
        for name, scope in summary.listeners
    )
    rows = [
        f"<tr><th>sent by</th><td>{senders}</td></tr>",
        f"<tr><th>listened by</th><td>{listeners or '-'}</td></tr>",
    ]
    if summary.pattern:
        rows.append(f"<tr><th>pattern</th><td>{html.escape(summary.pattern)}</td></tr>")
    if summary.payload is not None:
        rows.append(f"<tr><th>payload</th><td>{_payload(summary)}</td></tr>")
    address = html.escape(summary.address)
    return (
        f'<section id="{address}"><h2><code>{address}</code></h2>'
        f"<table>{''.join(rows)}</table></section>"
    )


def _payload(summary: EventSummary) -> str:
    """The payload's fields and their types, one per line, or its schema as JSON."""
    if summary.fields is None:
        text = json.dumps(summary.payload) if summary.payload else "any value"
        return f"<code>{html.escape(text)}</code>"
    return "<br>".join(
        f"<code>{html.escape(item.name)}</code>: {html.escape(item.type)}"
        + ("" if item.required else " (optional)")
        for item in summary.fields
    )
