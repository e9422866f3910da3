from ravyn.events import EventBus, Registry, observable, use_registry
from ravyn.events.testing import capture


async def test_registration_sends_a_welcome_email():
    sent = []
    with use_registry(Registry()) as registry:  # this test's listeners only

        @observable(send=["user_registered"])
        async def register(email: str) -> dict:
            return {"email": email}

        @observable(listen=["user_registered"])
        async def welcome(email: str):
            sent.append(email)

    bus = EventBus(registry)
    async with bus:
        with capture(bus) as captured:
            await bus.emit("user_registered", await register("ada@example.com"))
            await captured.wait_idle()  # no sleep: wait until every listener finished

    captured.assert_emitted("user_registered", email="ada@example.com")
    assert [o.listener for o in captured.delivered("welcome")] == [
        f"{welcome.__module__}:{welcome.__qualname__}"
    ]
    assert sent == ["ada@example.com"]
