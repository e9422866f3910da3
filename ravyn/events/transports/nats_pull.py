"""Pull requests of one JetStream durable consumer, answered on one inbox.

nats-py's `fetch(n)` waits for each of the n messages with a timeout of its own (a task per
message): about 30 µs of CPU per message, three times what the messages cost when one
subscription callback collects the answers to one pull request (measured on a 2-core box,
`bench/bench_transports.py`). So the consumer asks for a batch (`$JS.API.CONSUMER.MSG.NEXT`
with `batch` and `expires`), the callback appends what comes to a list, and `fetch` takes
from it. A request stays open until the server sent its batch or it expires (status 408);
no second request is sent while one is open, so a quiet stream costs one request per
`expires`, and a stream in full flow one per batch.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg

STATUS = "Status"
DESCRIPTION = "Description"
HEARTBEAT = "100"
REQUEST_OVER = ("404", "408")  # no messages (now), expired: ask again
ANSWER_MARGIN = 0.5
"""Seconds past a request's expiry to wait for its 408, before taking it as lost."""


class PullError(ConnectionError):
    """The server refused a pull request: the consume loop pauses, then recovers."""


class BatchPull:
    def __init__(
        self, nc: Client, stream: str, durable: str, batch_size: int, expires: float
    ) -> None:
        self._nc = nc
        self._request_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.batch_size = batch_size
        self.expires = expires
        self._arrived: list[Msg] = []
        self._wake = asyncio.Event()
        self._credit = 0  # messages the open request may still bring
        self._open_until = 0.0  # when it expires (time.monotonic)
        self._refused: str | None = None
        self._inbox = ""
        self.subscription: Any = None

    async def subscribe(self) -> None:
        self._inbox = self._nc.new_inbox()
        self.subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)

    def drained(self) -> bool:
        """The open request brought part of its batch and nothing waits to be taken: the
        consumer had no more messages for us when the server last answered."""
        return (
            not self._arrived
            and 0 < self._credit < self.batch_size
            and time.monotonic() < self._open_until
        )

    async def fetch(self) -> list[Msg]:
        """Up to `batch_size` messages; [] when none came before the request expired."""
        if not self._arrived:
            now = time.monotonic()
            self._wake.clear()
            if self._credit <= 0 or now >= self._open_until:
                await self._request(now)
            try:
                await asyncio.wait_for(self._wake.wait(), self._open_until - now + ANSWER_MARGIN)
            except TimeoutError:
                self._credit = 0  # the request or its answer was lost (a reconnection)
                return []
            if self._refused is not None:
                refused, self._refused = self._refused, None
                raise PullError(f"JetStream refused the pull request: {refused}")
            await asyncio.sleep(0)  # let the callback take the rest of the same read
        batch = self._arrived[: self.batch_size]
        del self._arrived[: self.batch_size]
        return batch

    async def _request(self, now: float) -> None:
        self._credit = self.batch_size
        self._open_until = now + self.expires
        request = {"batch": self.batch_size, "expires": int(self.expires * 1e9)}
        await self._nc.publish(self._request_subject, json.dumps(request).encode(), self._inbox)

    async def _on_message(self, message: Msg) -> None:
        headers = message.headers or {}
        status = headers.get(STATUS)
        if status is None:
            self._arrived.append(message)
            self._credit -= 1
        elif status == HEARTBEAT:
            return
        else:  # that request is over; anything else than 404/408 refused it (409 consumer
            # deleted, leadership change; 503 no responders: the consumer is gone)
            self._credit = 0
            if status not in REQUEST_OVER:
                self._refused = f"{status} {headers.get(DESCRIPTION, '')}".strip()
        self._wake.set()
