"""JetStream publishes of one batch, acknowledged on one inbox.

nats-py's `publish_async` pays, for each message, a semaphore, a random token, a future and
its callback, a standard-library JSON parse of the acknowledgement and a dataclass made from
it: most of a JetStream publish's CPU on the publishing side (measured on a 2-core box,
`bench/bench_transports.py`). The outbox needs one answer per batch: did the stream store
every message of it? So every message of a batch carries the batch's reply subject, one
subscription callback counts the acknowledgements that come back, and the batch is sent
once each message has one; an error refuses the whole batch (the outbox sends it again, and
the `Nats-Msg-Id` header lets the stream drop the copies it already stored). An answer to
an earlier batch (it came after that batch timed out) carries another reply subject and is
ignored.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec

from ravyn.events.transports.contract import TransportUnavailable

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg

STATUS = "Status"
DESCRIPTION = "Description"


class _Answer(msgspec.Struct):
    """What of a JetStream publish acknowledgement matters here: whether it is an error."""

    error: dict[str, Any] | None = None


_answer = msgspec.json.Decoder(_Answer).decode


class BatchPublish:
    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._prefix = ""
        self._batches = 0
        self._reply = ""
        self._waiting = 0  # acknowledgements the current batch still waits for
        self._outcome: asyncio.Future[str | None] | None = None  # None: every one came
        self.subscription: Any = None

    async def subscribe(self) -> None:
        self._prefix = self._nc.new_inbox()
        self.subscription = await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_answer)

    async def publish(
        self, messages: list[tuple[str, bytes, dict[str, str]]], timeout: float
    ) -> None:
        """Publish (subject, data, headers) messages; return once the stream stored them all.

        Raises TransportUnavailable when it refused one, or not all were acknowledged within
        `timeout` seconds (then the batch is to be sent again)."""
        self._batches += 1
        reply = self._reply = f"{self._prefix}.{self._batches}"
        self._waiting = len(messages)
        outcome = self._outcome = asyncio.get_running_loop().create_future()
        publish = self._nc.publish
        for subject, data, headers in messages:
            await publish(subject, data, reply=reply, headers=headers)
        try:
            refused = await asyncio.wait_for(outcome, timeout)
        except TimeoutError:
            raise TransportUnavailable(
                f"JetStream acknowledged {len(messages) - self._waiting} of {len(messages)} "
                f"publishes within {timeout}s: the batch is sent again"
            ) from None
        finally:
            self._outcome = None
        if refused is not None:
            raise TransportUnavailable(f"JetStream refused a publish ({refused}): sent again")

    async def _on_answer(self, message: Msg) -> None:
        outcome = self._outcome
        if outcome is None or outcome.done() or message.subject != self._reply:
            return  # an earlier batch's late answer
        refused = _refusal(message)
        if refused is not None:
            outcome.set_result(refused)
            return
        self._waiting -= 1
        if self._waiting == 0:
            outcome.set_result(None)


def _refusal(message: Msg) -> str | None:
    """Why the stream did not store a message (None when it did)."""
    headers = message.headers
    if headers and STATUS in headers:  # 503: no stream listens on the subject
        return f"{headers[STATUS]} {headers.get(DESCRIPTION, '')}".strip()
    try:
        error = _answer(message.data).error
    except msgspec.DecodeError:
        return f"unreadable acknowledgement {message.data[:200]!r}"
    if error is None:
        return None
    return str(error.get("description") or error)
