"""Bytes <-> Event for every transport: one envelope on the wire, checked before use.

JSON (msgspec) is the default so that any language can produce an event; msgpack is smaller
and faster when every producer is ravyn. Decoding accepts both (the first byte tells them
apart), so a cluster can switch format without a flag day. Where a message may carry several
events (the broadcast channels), it is an array of encoded events (`frame` / `unframe`).
Anything that is not a valid Event of a wire version this code understands raises
`DecodeError` with the reason: a consumer logs it and goes on, it never crashes on a bad
message. That includes a payload nested deeper than `MAX_NESTING`: the emitter refuses to
encode one (`EventTooDeep`) and the consumer refuses to decode one, so both sides agree on
one limit and a hostile producer cannot push a consumer into `RecursionError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ravyn.events.envelope import Event

if TYPE_CHECKING:
    from ravyn.events.signing import Signer

WIRE_VERSION = 1
DEFAULT_MAX_EVENT_SIZE = 1024 * 1024
MAX_NESTING = 100  # containers inside containers in a payload, for every producer and consumer
Format = Literal["json", "msgpack"]
JSON_FIRST_BYTES = frozenset(b"{[ \t\r\n")
MSGPACK_ARRAY_FIRST_BYTES = frozenset([*range(0x90, 0xA0), 0xDC, 0xDD])


class DecodeError(ValueError):
    """A message that is not an Event this process may deliver (the text says why)."""


class EventTooLarge(ValueError):
    """An event whose encoding is over the size limit: it is never sent."""


class EventTooDeep(ValueError):
    """An event whose payload nests containers deeper than `MAX_NESTING`: it is never sent."""


def nesting_exceeds(value: object, limit: int = MAX_NESTING) -> bool:
    """Whether `value` nests dicts/lists/tuples deeper than `limit` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list | tuple):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _few_brackets(data: bytes) -> bool:
    """JSON with too few brackets to nest deeper than MAX_NESTING (counted at C speed)."""
    return data.count(b"[") + data.count(b"{") <= MAX_NESTING


def _payload_too_deep(payload: object, data: bytes, is_json: bool) -> bool:
    """The nesting check, skipped at C speed when the JSON holds too few brackets to be deep."""
    if not isinstance(payload, dict | list | tuple):
        return False
    if is_json and _few_brackets(data):
        return False
    return nesting_exceeds(payload)


class _WireVersion(msgspec.Struct):
    v: int = 1


class Codec:
    """Encodes events in one format, decodes either, enforces size, version and signature."""

    def __init__(
        self,
        format: Format = "json",
        *,
        max_size: int = DEFAULT_MAX_EVENT_SIZE,
        signer: Signer | None = None,
    ) -> None:
        if format not in ("json", "msgpack"):
            raise ValueError(f"unknown event format {format!r}: use 'json' or 'msgpack'")
        self.format = format
        self.max_size = max_size
        self.signer = signer
        self._encode = (
            msgspec.json.Encoder() if format == "json" else msgspec.msgpack.Encoder()
        ).encode
        self._json = msgspec.json.Decoder(Event)
        self._msgpack = msgspec.msgpack.Decoder(Event)
        self._json_frame = msgspec.json.Decoder(list[msgspec.Raw])
        self._msgpack_frame = msgspec.msgpack.Decoder(list[msgspec.Raw])
        self._json_events = msgspec.json.Decoder(list[Event])
        self._msgpack_events = msgspec.msgpack.Decoder(list[Event])

    def frame(self, encoded: list[bytes]) -> bytes:
        """Several encoded events as one message: a JSON (or msgpack) array of them.

        Each element keeps its exact bytes, so each keeps its own signature.
        """
        return self._encode([msgspec.Raw(data) for data in encoded])

    def unframe(self, data: bytes) -> list[bytes]:
        """The encoded events of a message: the elements of an array, else the message."""
        first = data.lstrip()[:1]
        try:
            if first == b"[":
                return [bytes(raw) for raw in self._json_frame.decode(data)]
            if first and first[0] in MSGPACK_ARRAY_FIRST_BYTES:
                return [bytes(raw) for raw in self._msgpack_frame.decode(data)]
        except (msgspec.DecodeError, RecursionError) as exc:
            raise DecodeError(f"not a valid array of events: {exc}") from None
        return [data]

    def decode_message(self, data: bytes) -> tuple[list[Event], list[DecodeError]]:
        """The events of a message that may carry several (see `frame`), and why any of
        them was refused.

        An unsigned array within the size limit decodes in one call (most of the cost of a
        broadcast batch otherwise); anything else, or an array with a bad element, is
        checked event by event, so one bad event refuses itself alone.
        """
        first = data[:1]
        if self.signer is None and len(data) <= self.max_size and first:
            decoder = (
                self._json_events
                if first == b"["
                else self._msgpack_events
                if first[0] in MSGPACK_ARRAY_FIRST_BYTES
                else None
            )
            if decoder is not None:
                try:
                    events = decoder.decode(data)
                except (msgspec.DecodeError, RecursionError):
                    pass  # find the bad element below
                else:
                    # Brackets counted once for the whole frame, not once per event (that
                    # scanned a 500-event frame 500 times: 50x slower broadcast).
                    shallow = first == b"[" and _few_brackets(data)
                    if all(
                        event.v <= WIRE_VERSION
                        and (shallow or not _payload_too_deep(event.payload, data, False))
                        for event in events
                    ):
                        return events, []
        try:
            encoded = self.unframe(data)
        except DecodeError as exc:
            return [], [exc]
        events, refused = [], []
        for item in encoded:
            try:
                events.append(self.decode(item))
            except DecodeError as exc:
                refused.append(exc)
        return events, refused

    def encode(self, event: Event) -> bytes:
        if self.signer is not None:
            event = self.signer.prepare(event)
        try:
            data = self._encode(event)
        except RecursionError:
            data = b""  # nested deeper than any encoder goes: refused just below
        if not data or _payload_too_deep(event.payload, data, self.format == "json"):
            raise EventTooDeep(
                f"event {event.name!r} (id {event.id}) nests its payload deeper than "
                f"{MAX_NESTING} levels: flatten it"
            )
        if self.signer is not None:
            data = self.signer.sign(data)
        if len(data) > self.max_size:
            raise EventTooLarge(
                f"event {event.name!r} (id {event.id}) encodes to {len(data)} bytes, over the "
                f"limit of {self.max_size}: send a reference (an id, a URL) instead of the "
                "data, or raise max_event_size on every process"
            )
        return data

    def decode(self, data: bytes) -> Event:
        if len(data) > self.max_size:
            raise DecodeError(f"message of {len(data)} bytes is over the limit of {self.max_size}")
        if not data:
            raise DecodeError("empty message")
        is_json = data[0] in JSON_FIRST_BYTES
        try:
            event = (self._json if is_json else self._msgpack).decode(data)
        except msgspec.DecodeError as exc:
            raise DecodeError(self._explain(data, is_json, exc)) from None
        except RecursionError:
            raise DecodeError(f"payload nested deeper than {MAX_NESTING} levels") from None
        if event.v > WIRE_VERSION:
            raise DecodeError(self._too_new(event.v))
        if _payload_too_deep(event.payload, data, is_json):
            raise DecodeError(f"payload nested deeper than {MAX_NESTING} levels")
        if self.signer is not None:
            self.signer.verify(data, event)
        return event

    def _explain(self, data: bytes, is_json: bool, exc: msgspec.DecodeError) -> str:
        """Prefer "made by a newer ravyn" over a schema error when the version says so."""
        module = msgspec.json if is_json else msgspec.msgpack
        try:
            version = module.decode(data, type=_WireVersion).v
        except (msgspec.DecodeError, RecursionError):
            version = WIRE_VERSION
        if version > WIRE_VERSION:
            return self._too_new(version)
        return f"not a valid {'JSON' if is_json else 'msgpack'} Event: {exc}"

    @staticmethod
    def _too_new(version: int) -> str:
        return (
            f"wire version {version} is newer than this process understands "
            f"({WIRE_VERSION}): upgrade ravyn here"
        )
