import asyncio

from ravyn.events import EventBus, RetryPolicy, observable

attempts: list[int] = []


@observable(
    listen=["invoice_due"], retry=RetryPolicy(max_attempts=3, initial_delay=0.01), timeout=1.0
)
async def charge(invoice_id: int):
    attempts.append(invoice_id)
    if len(attempts) < 3:
        raise ConnectionError("payment provider unreachable")  # retried with backoff


@observable(listen=["invoice_due"], max_concurrency=4)
async def render_pdf(invoice_id: int):  # at most 4 at once in this process
    await asyncio.sleep(0.01)


@observable(listen=["invoice_due"])
async def broken():
    raise RuntimeError("a bug")  # logged as listener_failed; nobody else notices


async def main() -> None:
    async with EventBus(max_in_flight=1_000, grace_period=5.0) as bus:
        await bus.emit("invoice_due", {"invoice_id": 12})
        await bus.idle()
    print(bus.metrics.snapshot()["events"]["invoice_due"])


if __name__ == "__main__":
    asyncio.run(main())
