"""Listeners run by the worker processes of the transport tests.

Each records what it did as one line appended to the file named by RAVYN_TEST_OUTCOMES:
`<kind> <pid> <event id>`; the tests read that file to assert across processes.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ravyn.events import Event, observable

OUTCOMES = Path(os.environ["RAVYN_TEST_OUTCOMES"])


def record(kind: str, event: Event) -> None:
    with OUTCOMES.open("a") as out:  # one short append: atomic between processes
        out.write(f"{kind} {os.getpid()} {event.id}\n")


@observable(listen=["order.placed"])
async def fulfil_order(event: Event) -> None:
    record("durable", event)


@observable(listen=["order.placed"], broadcast=True)
async def refresh_local_cache(event: Event) -> None:
    record("broadcast", event)


@observable(listen=["job.crashy"])
async def hang_the_first_time(event: Event) -> None:
    """The first process to run it hangs (the test SIGKILLs it); a redelivery completes."""
    try:
        os.close(os.open(OUTCOMES.with_suffix(".hung"), os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        record("completed", event)
        return
    record("hanging", event)
    await asyncio.Event().wait()
