import asyncio

from ravyn.events import Event, EventBus, bus_context, observable, trigger_event

trail: list[Event] = []


@observable(send=["file_uploaded"])
async def upload(filename: str) -> dict:
    return {"filename": filename}


@observable(listen=["file_uploaded"], send=["file_validated"])
async def validate(filename: str) -> dict:  # a pipeline stage: listens, then sends
    return {"filename": filename, "valid": filename.endswith(".csv")}


@observable(listen=["file_validated"])
async def process(event: Event, valid: bool):
    trail.append(event)
    if valid:
        await trigger_event("file_processed", {"rows": 3})


@observable(listen=["file_processed"])
async def notify(event: Event):
    trail.append(event)


async def main() -> None:
    async with EventBus() as bus:
        with bus_context(bus):  # what an app does for each request
            await upload("report.csv")
        await bus.idle()
    validated, processed = trail
    assert processed.causation_id == validated.id  # who caused it
    assert processed.correlation_id == validated.correlation_id  # one chain, one id
    print([event.name for event in trail], processed.correlation_id)


if __name__ == "__main__":
    asyncio.run(main())
