"""The hub's fan-out: bounded queues, overflow policies, subscriptions, history replay."""

from __future__ import annotations

import fnmatch
import json
from datetime import UTC, datetime

import anyio
import pytest

from ravyn.bridge.hub import PING, BridgedEvent, Client, Dropped, Hub
from ravyn.events.envelope import SIGNATURE, Event

pytestmark = pytest.mark.timeout(10)


def make_event(name: str, number: int) -> Event:
    return Event(
        name=name, payload={"n": number}, id=f"{name}-{number}", emitted_at=datetime.now(UTC)
    )


def make_hub(**options: object) -> Hub:
    return Hub(matches=lambda pattern, name: fnmatch.fnmatchcase(name, pattern), **options)


async def take(client: Client, count: int) -> list[BridgedEvent | Dropped]:
    """The next `count` things the client's stream yields (pings are a failure here)."""
    items: list[BridgedEvent | Dropped] = []
    with anyio.fail_after(2):
        async for item in client.stream(ping_interval=60):
            assert item is not PING
            items.append(item)
            if len(items) == count:
                break
    return items


async def test_each_client_receives_only_its_subscription() -> None:
    hub = make_hub()
    comments = hub.connect(["new_comment"])
    users = hub.connect(["user.*"])
    for name in ("new_comment", "user.created", "order.paid", "user.deleted"):
        hub.publish(make_event(name, 1))

    assert [item.name for item in await take(comments, 1)] == ["new_comment"]
    assert [item.name for item in await take(users, 2)] == ["user.created", "user.deleted"]


async def test_events_are_the_json_envelope_without_the_signature() -> None:
    hub = make_hub()
    client = hub.connect(["a"])
    event = make_event("a", 7)
    signed = Event(
        name="a",
        payload={"n": 7},
        id="a-7",
        emitted_at=event.emitted_at,
        headers={SIGNATURE: "secret-hmac", "correlation-id": "req-1"},
    )
    hub.publish(signed)

    (item,) = await take(client, 1)
    sent = json.loads(item.json)
    assert sent["name"] == "a" and sent["id"] == "a-7" and sent["payload"] == {"n": 7}
    assert sent["headers"] == {"correlation-id": "req-1"}


async def test_drop_oldest_keeps_the_newest_and_counts_the_dropped() -> None:
    hub = make_hub(queue_size=3)
    client = hub.connect(["a"])
    for number in range(5):
        hub.publish(make_event("a", number))

    items = await take(client, 4)
    assert items[0] == Dropped(2)
    assert [item.id for item in items[1:]] == ["a-2", "a-3", "a-4"]
    assert hub.client_count == 1


async def test_disconnect_policy_ends_the_stream_and_forgets_the_client() -> None:
    hub = make_hub(queue_size=2, overflow="disconnect")
    slow = hub.connect(["a"])
    for number in range(3):
        hub.publish(make_event("a", number))

    assert slow.evicted.is_set()
    assert hub.client_count == 0
    with anyio.fail_after(2):
        assert [item async for item in slow.stream(ping_interval=60)] == []


async def test_a_full_client_does_not_affect_another() -> None:
    hub = make_hub(queue_size=2, overflow="disconnect")
    slow = hub.connect(["a"])
    fast = hub.connect(["a"])
    received: list[str] = []
    for number in range(10):
        hub.publish(make_event("a", number))
        received += [item.id for item in await take(fast, 1)]

    assert slow.evicted.is_set() and not fast.evicted.is_set()
    assert received == [f"a-{number}" for number in range(10)]


async def test_idle_stream_pings() -> None:
    hub = make_hub()
    client = hub.connect(["a"])
    with anyio.fail_after(2):
        async for item in client.stream(ping_interval=0.01):
            assert item is PING
            break


async def test_resubscribing_drops_queued_events_no_longer_wanted() -> None:
    hub = make_hub()
    client = hub.connect(["a", "b"])
    hub.publish(make_event("a", 1))
    hub.publish(make_event("b", 1))
    hub.subscribe(client, ["b"])
    hub.publish(make_event("a", 2))
    hub.publish(make_event("b", 2))

    assert [item.id for item in await take(client, 2)] == ["b-1", "b-2"]


async def test_replay_after_last_event_id_then_live() -> None:
    hub = make_hub(history_size=10)
    for number in range(4):
        hub.publish(make_event("a", number))
        hub.publish(make_event("b", number))
    client = hub.connect(["a"], last_event_id="a-1")
    hub.publish(make_event("a", 4))

    assert not client.history_gap
    assert [item.id for item in await take(client, 3)] == ["a-2", "a-3", "a-4"]


async def test_replay_reports_a_gap_when_the_id_is_forgotten() -> None:
    hub = make_hub(history_size=2)
    for number in range(5):
        hub.publish(make_event("a", number))
    client = hub.connect(["a"], last_event_id="a-0")

    assert client.history_gap
    hub.publish(make_event("a", 5))
    assert [item.id for item in await take(client, 1)] == ["a-5"]


async def test_disconnect_cleans_up_every_group() -> None:
    hub = make_hub()
    clients = [hub.connect(["a"]), hub.connect(["a"]), hub.connect(["b", "c"])]
    hub.subscribe(clients[0], ["c"])
    for client in clients:
        hub.disconnect(client)
        hub.disconnect(client)

    assert hub.client_count == 0
    assert hub._groups == {}


def test_rejects_unknown_overflow_policy() -> None:
    with pytest.raises(ValueError, match="drop_oldest, disconnect"):
        make_hub(overflow="block")
