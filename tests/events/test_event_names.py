"""An event name is printable text on one line, on every path: emit, decode, every transport."""

from __future__ import annotations

import pytest

from ravyn.events import Event, EventBus, observable
from ravyn.events.codec import Codec, DecodeError

FORGED = "news.x\nevent: admin_only\ndata: {}"


@pytest.mark.parametrize("name", [FORGED, "a\rb", "nul\x00", "", "tab\there", "del\x7f"])
async def test_emit_refuses_a_name_with_control_characters(bus: EventBus, name: str) -> None:
    received: list[str] = []

    @observable(listen=["news.*"])
    async def news(event: Event) -> None:
        received.append(event.name)

    async with bus:
        with pytest.raises(ValueError, match="control characters"):
            await bus.emit(name, {"x": 1})
        await bus.emit("news.ok", {"x": 1}, wait=True)
    assert received == ["news.ok"]  # only the good event arrived


def test_a_decoded_message_with_a_forged_name_is_refused() -> None:
    forged = (
        b'{"name": "news.x\\nevent: admin_only", "id": "1",'
        b' "emitted_at": "2026-01-01T00:00:00Z", "payload": {}}'
    )
    with pytest.raises(DecodeError, match="control characters"):
        Codec().decode(forged)
