import asyncio

from ravyn.events import EventBus, attach, observable


class Mailer:
    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.outbox: list[str] = []

    @observable(listen=["user_registered"])
    async def welcome(self, email: str):
        self.outbox.append(f"{self.sender} -> {email}: welcome!")


mailer = Mailer("hello@example.com")
attach(mailer)  # its listening methods now react, bound to this instance


async def main() -> None:
    await EventBus().emit("user_registered", {"email": "ada@example.com"})
    print(mailer.outbox)


if __name__ == "__main__":
    asyncio.run(main())
