import asyncio

from ravyn.events import Event, EventBus, observable

audit_log: list[str] = []


@observable(listen=["user.*"])  # user.created, user.deleted... not user.profile.updated
async def audit_users(event: Event):
    audit_log.append(event.name)


async def main() -> None:
    bus = EventBus()
    for name in ("user.created", "user.profile.updated", "user.deleted"):
        await bus.emit(name, {"user_id": 1})
    print(audit_log)  # ['user.created', 'user.deleted']


if __name__ == "__main__":
    asyncio.run(main())
