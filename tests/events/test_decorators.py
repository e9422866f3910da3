"""@observable: senders emit after success, listeners register once, per registry."""

from __future__ import annotations

import anyio
import pytest

from ravyn.events import (
    Event,
    EventBus,
    ObservableError,
    ObservableSpec,
    Registry,
    attach,
    observable,
    observable_spec,
    use_registry,
)
from ravyn.events.testing import capture

pytestmark = pytest.mark.timeout(10)


async def test_sender_emits_its_return_value_after_success(bus: EventBus) -> None:
    got = []

    @observable(send=["user_registered", "audit"])
    async def register(email: str) -> dict:
        assert got == []  # nothing is emitted before the function returned
        return {"email": email}

    @observable(listen=["user_registered", "audit"])
    async def listener(event: Event) -> None:
        got.append((event.name, event.payload, event.source))

    assert await register("a@b.c") == {"email": "a@b.c"}
    source = f"{register.__module__}:{register.__qualname__}"
    assert got == [
        ("user_registered", {"email": "a@b.c"}, source),
        ("audit", {"email": "a@b.c"}, source),
    ]


async def test_sender_that_raises_emits_nothing(bus: EventBus) -> None:
    @observable(send=["user_registered"])
    async def register() -> dict:
        raise PermissionError("no")

    with capture(bus) as captured, pytest.raises(PermissionError):
        await register()
    assert captured.events == []


async def test_sync_sender_emits_from_a_worker_thread(bus: EventBus) -> None:
    got = []

    @observable(send=["computed"])
    def compute(x: int) -> dict:
        return {"value": x * 2}

    @observable(listen=["computed"])
    async def on_computed(value: int) -> None:
        got.append(value)

    assert await anyio.to_thread.run_sync(compute, 21) == {"value": 42}
    assert got == [42]


async def test_sync_sender_on_the_event_loop_thread_says_what_to_do(bus: EventBus) -> None:
    @observable(send=["computed"])
    def compute() -> int:
        return 1

    with pytest.raises(ObservableError, match="async def"):
        compute()


def test_sync_sender_without_an_event_loop_runs_its_listeners(registry: Registry) -> None:
    got = []

    @observable(send=["computed"])
    def compute() -> int:
        return 5

    @observable(listen=["computed"])
    def on_computed(payload: int) -> None:
        got.append(payload)

    from ravyn.events import bus_context

    with bus_context(EventBus(registry)):
        assert compute() == 5
    assert got == [5]


async def test_a_function_can_listen_and_send(bus: EventBus) -> None:
    @observable(listen=["raw"], send=["cleaned"])
    async def clean(text: str) -> dict:
        return {"text": text.strip()}

    with capture(bus) as captured:
        await bus.emit("raw", {"text": "  hi  "})
    captured.assert_emitted("cleaned", text="hi")
    captured.assert_not_emitted("cleaned.again")
    with pytest.raises(AssertionError, match="'cleaned' was emitted"):
        captured.assert_not_emitted("cleaned")


def test_decorating_twice_registers_once(registry: Registry) -> None:
    @observable(listen=["a"])
    @observable(listen=["a", "b"], timeout=1)
    async def twice() -> None: ...

    [listener] = registry.listeners
    assert listener.events == ("a", "b")
    assert listener.policy.timeout == 1
    assert observable_spec(twice).listen == ("a", "b")


def test_registries_are_isolated() -> None:
    with use_registry() as first:

        @observable(listen=["x"])
        async def in_first() -> None: ...

    with use_registry() as second:

        @observable(listen=["x"])
        async def in_second() -> None: ...

    assert [lsn.func for lsn in first.listeners_for("x")] == [in_first]
    assert [lsn.func for lsn in second.listeners_for("x")] == [in_second]


with use_registry():  # its sender must not land in the process default registry

    class Notifier:
        def __init__(self, prefix: str) -> None:
            self.prefix = prefix
            self.sent: list[str] = []

        @observable(listen=["user_registered"])
        async def welcome(self, email: str) -> None:
            self.sent.append(f"{self.prefix} {email}")

        @observable(listen=["user_registered"])
        def audit(self, email: str) -> None:
            self.sent.append(f"audit {email}")

        @observable(send=["greeted"])
        async def greet(self, name: str) -> dict:
            return {"greeting": f"{self.prefix} {name}"}


async def test_methods_listen_once_their_instance_is_attached(bus: EventBus) -> None:
    assert bus.registry.listeners_for("user_registered") == ()
    notifier = Notifier("hello")
    attached = attach(notifier, bus.registry)
    assert sorted(lsn.name.rsplit(".", 1)[1] for lsn in attached) == ["audit", "welcome"]

    with capture(bus) as captured:
        await bus.emit("user_registered", {"email": "a@b.c"})
        assert await notifier.greet("Ann") == {"greeting": "hello Ann"}
    assert sorted(notifier.sent) == ["audit a@b.c", "hello a@b.c"]
    captured.assert_emitted("greeted", greeting="hello Ann")


def test_static_method_listener_registers_at_decoration(registry: Registry) -> None:
    class Holder:
        @staticmethod
        @observable(listen=["x"])
        async def on_x() -> None: ...

    assert [lsn.name.rsplit(".", 1)[1] for lsn in registry.listeners] == ["on_x"]


def test_classmethod_listener_is_refused(registry: Registry) -> None:
    with pytest.raises(ObservableError, match="staticmethod"):

        class Holder:
            @observable(listen=["x"])
            @classmethod
            async def on_x(cls) -> None: ...


def test_spec_is_handed_to_objects_that_accept_it(registry: Registry) -> None:
    class Handler:
        def __init__(self, func) -> None:
            self.__wrapped__ = func
            self.spec: ObservableSpec | None = None

        def __ravyn_attach_observable__(self, spec: ObservableSpec) -> None:
            self.spec = spec

    async def register() -> dict:
        return {}

    handler = observable(send=["user_registered"], wait=True)(Handler(register))
    assert handler.spec.func is register
    assert (handler.spec.send, handler.spec.wait) == (("user_registered",), True)
    assert [sender.events for sender in registry.senders] == [("user_registered",)]


def test_event_names_must_be_a_list(registry: Registry) -> None:
    with pytest.raises(ObservableError, match=r"send=\['user_registered'\]"):
        observable(send="user_registered")
    with pytest.raises(ObservableError, match="needs send"):
        observable()


def test_catalogue_lists_wiring_and_warns(registry: Registry) -> None:
    @observable(send=["user_registered", "nobody_listens"])
    async def register() -> dict:
        return {}

    @observable(listen=["user_registered"])
    async def welcome() -> None: ...

    @observable(listen=["never_sent", "user.*"])
    async def orphan() -> None: ...

    catalogue = registry.catalogue()
    events = {entry["name"]: entry for entry in catalogue["events"]}
    assert events["user_registered"]["senders"] == [f"{__name__}:{register.__qualname__}"]
    assert [name.rsplit(".", 1)[1] for name in events["user_registered"]["listeners"]] == [
        "welcome"
    ]
    warnings = {(w["kind"], w["event"]) for w in catalogue["warnings"]}
    assert warnings == {
        ("sent_without_listener", "nobody_listens"),
        ("listened_but_never_sent", "never_sent"),
        ("listened_but_never_sent", "user.*"),
    }


async def test_catalogue_marks_only_undeclared_events_as_emitted_at_runtime(
    registry: Registry, bus: EventBus
) -> None:
    from ravyn.events import trigger_event
    from ravyn.events.registry import RUNTIME_SENDER

    @observable(send=["user_registered"])
    async def register() -> dict:
        return {}

    @observable(listen=["user_registered", "audit"])
    async def listener() -> None: ...

    await register()
    await trigger_event("audit")
    events = {entry["name"]: entry for entry in registry.catalogue()["events"]}
    assert events["user_registered"]["senders"] == [f"{__name__}:{register.__qualname__}"]
    assert events["audit"]["senders"] == [RUNTIME_SENDER]


def test_two_functions_with_one_name_warn_instead_of_vanishing(registry: Registry) -> None:
    from structlog.testing import capture_logs

    def make():
        async def listener() -> None: ...

        return listener

    with capture_logs() as logs:
        observable(listen=["x"])(make())
        observable(listen=["x"])(make())
    assert [log["event"] for log in logs] == ["listener_replaced"]
    assert len(registry.listeners) == 1


async def test_sender_with_wait_returns_after_its_listeners(bus: EventBus) -> None:
    import asyncio

    done = []

    @observable(send=["report_ready"], wait=True)
    async def build_report() -> dict:
        return {"pages": 3}

    @observable(send=["report_queued"])
    async def queue_report() -> dict:
        return {"pages": 1}

    @observable(listen=["report_*"])
    async def archive(pages: int) -> None:
        await asyncio.sleep(0.02)
        done.append(pages)

    async with bus:
        await build_report()
        assert done == [3]
        await queue_report()
        assert done == [3]  # without wait, the started bus lets the listener run on
        await bus.idle()
    assert done == [3, 1]
