import json
from collections.abc import AsyncIterator

import websockets


async def follow(url: str, events: list[str]) -> AsyncIterator[dict]:
    """Yield each event the bridge at `url` (ws://host/events/ws) sends for `events`."""
    async with websockets.connect(f"{url}?events={','.join(events)}") as websocket:
        async for message in websocket:
            data = json.loads(message)
            if "type" not in data:  # an Event envelope: name, payload, id, emitted_at...
                yield data
            elif data["type"] == "overflow":  # we were too slow: the oldest were dropped
                print(f"missed {data['dropped']} events")
            # "subscribed" confirms the subscription, "ping" keeps the connection alive


# async for event in follow("ws://localhost:8000/events/ws", ["new_comment"]):
#     print(event["name"], event["payload"])
