from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

import msgspec
import pytest

from ravyn.events.codec import MAX_NESTING, Codec, DecodeError, EventTooDeep, EventTooLarge
from ravyn.events.envelope import Event
from ravyn.events.signing import SIGNATURE_PLACEHOLDER, SignatureError, Signer

pytestmark = pytest.mark.timeout(10)


def make_event(payload: object = None, **headers: str) -> Event:
    return Event(
        name="user_registered",
        payload=payload if payload is not None else {"user_id": 1, "email": "a@b.c"},
        id=uuid.uuid4().hex,
        emitted_at=datetime.now(UTC),
        source="tests",
        headers=headers,
    )


@pytest.mark.parametrize("format", ["json", "msgpack"])
def test_round_trip_keeps_every_field(format: str) -> None:
    event = make_event(**{"correlation-id": "req-1"})
    codec = Codec(format)
    assert codec.decode(codec.encode(event)) == event


def test_decoding_accepts_either_format() -> None:
    event = make_event()
    assert Codec("json").decode(Codec("msgpack").encode(event)) == event
    assert Codec("msgpack").decode(Codec("json").encode(event)) == event


def test_a_hand_written_json_event_decodes() -> None:
    data = (
        b'{"name": "user_registered", "payload": {"user_id": 7}, "id": "abc",'
        b' "emitted_at": "2026-01-01T00:00:00Z"}'
    )
    event = Codec().decode(data)
    assert (event.name, event.payload, event.source, event.headers, event.v) == (
        "user_registered",
        {"user_id": 7},
        "",
        {},
        1,
    )


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"{not json", "not a valid JSON Event"),
        (b'{"name": "x"}', "not a valid JSON Event"),
        (b"\xc1\x00", "not a valid msgpack Event"),
        (b'{"name": "x", "id": "1", "emitted_at": "2026-01-01T00:00:00Z", "v": 2}', "newer"),
        (b'{"name": 1, "v": 3}', "wire version 3 is newer"),
    ],
)
def test_malformed_messages_raise_decode_error_saying_why(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        Codec().decode(data)


def test_size_limit_on_both_sides() -> None:
    codec = Codec(max_size=200)
    with pytest.raises(EventTooLarge, match="over the limit of 200"):
        codec.encode(make_event({"blob": "x" * 300}))
    big = Codec().encode(make_event({"blob": "x" * 300}))
    with pytest.raises(DecodeError, match="over the limit"):
        codec.decode(big)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="'json' or 'msgpack'"):
        Codec("xml")  # type: ignore[arg-type]


@pytest.mark.parametrize("format", ["json", "msgpack"])
def test_signed_events_verify_and_tampering_is_refused(format: str) -> None:
    codec = Codec(format, signer=Signer("s3cret"))
    data = codec.encode(make_event())
    event = codec.decode(data)
    assert len(event.headers["signature"]) == 64
    tampered = data.replace(b"a@b.c", b"x@b.c")
    with pytest.raises(SignatureError, match="forged"):
        codec.decode(tampered)
    with pytest.raises(SignatureError, match="forged"):
        Codec(format, signer=Signer("other")).decode(data)


def test_unsigned_event_is_refused_when_a_secret_is_set() -> None:
    data = Codec().encode(make_event())
    with pytest.raises(SignatureError, match="unsigned"):
        Codec(signer=Signer("s3cret")).decode(data)


def test_a_non_python_producer_can_sign_by_hand() -> None:
    """The documented recipe: sign the bytes with 64 zeros in place, then substitute."""
    body = (
        '{"name":"user_registered","payload":{"user_id":7},"id":"hand-1",'
        '"emitted_at":"2026-01-01T00:00:00Z","headers":{"signature":"'
        + SIGNATURE_PLACEHOLDER
        + '"}}'
    )
    digest = hmac.new(b"s3cret", body.encode(), hashlib.sha256).hexdigest()
    event = Codec(signer=Signer("s3cret")).decode(
        body.replace(SIGNATURE_PLACEHOLDER, digest).encode()
    )
    assert event.payload == {"user_id": 7}


def test_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAVYN_EVENT_SECRET", raising=False)
    assert Signer.from_environment() is None
    monkeypatch.setenv("RAVYN_EVENT_SECRET", "from-env")
    signer = Signer.from_environment()
    assert signer is not None
    data = Codec(signer=signer).encode(make_event())
    Codec(signer=Signer("from-env")).decode(data)


def test_a_signature_header_sent_by_the_caller_is_replaced() -> None:
    codec = Codec(signer=Signer("k"))
    data = codec.encode(make_event(signature="f" * 64))
    assert codec.decode(data).headers["signature"] != "f" * 64
    assert msgspec.json.decode(data)["headers"]["signature"] != SIGNATURE_PLACEHOLDER


@pytest.mark.parametrize("format", ["json", "msgpack"])
def test_a_frame_carries_several_events_each_with_its_own_bytes(format: str) -> None:
    codec = Codec(format, signer=Signer("k"))
    encoded = [codec.encode(make_event()) for _ in range(3)]
    assert codec.unframe(codec.frame(encoded)) == encoded
    assert [codec.decode(data).id for data in codec.unframe(codec.frame(encoded))]
    assert codec.unframe(encoded[0]) == [encoded[0]]


def test_a_malformed_frame_raises_decode_error() -> None:
    with pytest.raises(DecodeError, match="array of events"):
        Codec().unframe(b"[{broken")


def nested(depth: int) -> list:
    """A payload of `depth` lists, one inside the other."""
    outer: list = []
    inner = outer
    for _ in range(depth - 1):
        inner.append([])
        inner = inner[0]
    return outer


@pytest.mark.parametrize("format", ["json", "msgpack"])
def test_the_nesting_limit_is_the_same_on_both_sides(format: str) -> None:
    codec = Codec(format)
    at_limit = make_event(nested(MAX_NESTING))
    assert codec.decode(codec.encode(at_limit)) == at_limit
    for depth in (MAX_NESTING + 1, 980, 5000):
        with pytest.raises(EventTooDeep, match=f"deeper than {MAX_NESTING} levels"):
            codec.encode(make_event(nested(depth)))


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 1000, 5000, 50_000])
def test_a_hostile_deep_message_is_a_decode_error_not_a_recursion_error(depth: int) -> None:
    data = (
        b'{"name": "x", "id": "1", "emitted_at": "2026-01-01T00:00:00Z", "payload": '
        + b"[" * depth
        + b"]" * depth
        + b"}"
    )
    codec = Codec()
    with pytest.raises(DecodeError, match="nested deeper|not a valid"):
        codec.decode(data)
    events, refused = codec.decode_message(b"[" + data + b"]")
    assert events == [] and len(refused) == 1


def test_a_wide_payload_is_not_mistaken_for_a_deep_one() -> None:
    event = make_event({"rows": [{"id": i, "tags": [i]} for i in range(500)]})
    codec = Codec()
    assert codec.decode(codec.encode(event)) == event


def test_a_deep_event_in_a_broadcast_frame_is_refused_alone() -> None:
    codec = Codec()
    shallow = [codec.encode(make_event({"n": n})) for n in range(300)]
    deep = (
        b'{"name": "x", "id": "deep", "emitted_at": "2026-01-01T00:00:00Z", "payload": '
        + b"[" * (MAX_NESTING + 1)
        + b"]" * (MAX_NESTING + 1)
        + b"}"
    )
    events, refused = codec.decode_message(codec.frame([*shallow[:150], deep, *shallow[150:]]))
    assert len(events) == 300 and len(refused) == 1
    assert [event.payload["n"] for event in events] == list(range(300))
