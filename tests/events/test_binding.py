"""Listener parameters bind from the Event; impossible bindings fail at decoration."""

from __future__ import annotations

import dataclasses
from typing import TypedDict

import msgspec
import pytest
from structlog.testing import capture_logs

from ravyn.events import Event, EventBus, ListenerBindingError, observable

pytestmark = pytest.mark.timeout(10)


async def test_every_binding_form(bus: EventBus) -> None:
    received = {}

    @observable(listen=["user_registered"])
    async def no_parameters() -> None:
        received["none"] = True

    @observable(listen=["user_registered"])
    async def whole_event(evt: Event) -> None:
        received["event"] = evt.name

    @observable(listen=["user_registered"])
    async def raw_payload(payload) -> None:
        received["payload"] = payload

    @observable(listen=["user_registered"])
    async def fields(user_id: int, email: str, plan: str = "free") -> None:
        received["fields"] = (user_id, email, plan)

    @observable(listen=["user_registered"])
    async def mixed(event: Event, user_id: int) -> None:
        received["mixed"] = (event.payload["email"], user_id)

    payload = {"user_id": 42, "email": "a@b.c", "extra": "ignored"}
    await bus.emit("user_registered", payload)

    assert received == {
        "none": True,
        "event": "user_registered",
        "payload": payload,
        "fields": (42, "a@b.c", "free"),
        "mixed": ("a@b.c", 42),
    }


class User(msgspec.Struct):
    user_id: int
    email: str


async def test_payload_is_converted_to_its_annotation(bus: EventBus) -> None:
    got = []

    @observable(listen=["user_registered"])
    async def typed(payload: User) -> None:
        got.append(payload)

    await bus.emit("user_registered", {"user_id": 1, "email": "x@y.z"})
    assert got == [User(user_id=1, email="x@y.z")]


async def test_fields_bind_from_a_struct_or_dataclass_payload(bus: EventBus) -> None:
    @dataclasses.dataclass
    class Order:
        order_id: int
        total: float

    got = []

    @observable(listen=["order_created"])
    async def on_order(order_id: int) -> None:
        got.append(order_id)

    await bus.emit("order_created", Order(order_id=7, total=3.5))
    assert got == [7]


async def test_payload_that_does_not_fit_fails_that_listener_alone(bus: EventBus) -> None:
    ran = []

    @observable(listen=["user_registered"])
    async def needs_int(user_id: int) -> None:
        ran.append("needs_int")

    @observable(listen=["user_registered"])
    async def sibling() -> None:
        ran.append("sibling")

    with capture_logs() as logs:
        await bus.emit("user_registered", {"user_id": "not a number"})

    assert ran == ["sibling"]
    [failure] = [log for log in logs if log["event"] == "listener_failed"]
    assert failure["reason"] == "binding"
    assert failure["listener"].endswith("needs_int")
    assert "user_id" in failure["error"]
    assert bus.metrics.snapshot()["listeners"][failure["listener"]]["failed"] == 1


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"user_id": 1, "score": 2.5, "tags": ["a"]}, (1, 2.5, ["a"], "free")),
        ({"user_id": 1, "score": 2, "tags": None, "plan": "pro"}, (1, 2.0, None, "pro")),
    ],
    ids=["values of their types", "an int for a float is converted"],
)
async def test_scalar_fields_bind_as_msgspec_would(bus: EventBus, payload, expected) -> None:
    got = []

    @observable(listen=["scored"])
    async def on_score(user_id: int, score: float, tags, plan: str = "free") -> None:
        got.append((user_id, score, tags, plan))

    await bus.emit("scored", payload)
    assert got == [expected]
    assert type(got[0][1]) is float
    if payload["tags"] is not None:
        assert got[0][2] is payload["tags"]  # untyped: passed as is, not copied


@pytest.mark.parametrize(
    ("payload", "named"),
    [({"flag": 1}, "user_id"), ({"user_id": True}, "user_id"), ({"user_id": "1"}, "user_id")],
    ids=["missing", "bool for int", "str for int"],
)
async def test_scalar_field_that_does_not_fit_names_the_field(
    bus: EventBus, payload, named
) -> None:
    @observable(listen=["scored"])
    async def on_score(user_id: int) -> None: ...

    with capture_logs() as logs:
        await bus.emit("scored", payload)
    [failure] = [log for log in logs if log["event"] == "listener_failed"]
    assert failure["reason"] == "binding"
    assert named in failure["error"]


def test_unresolvable_annotation_is_refused_at_decoration(registry) -> None:
    class Local(msgspec.Struct):
        user_id: int

    with pytest.raises(ListenerBindingError, match="module level"):

        @observable(listen=["x"])
        async def typed(payload: Local) -> None: ...


def test_star_args_are_refused_at_decoration(registry) -> None:
    with pytest.raises(ListenerBindingError, match=r"\*\*kwargs"):

        @observable(listen=["x"])
        async def everything(**kwargs) -> None: ...


class Registered(msgspec.Struct):
    user_id: int
    email: str


@dataclasses.dataclass
class RegisteredData:
    user_id: int


class RegisteredDict(TypedDict):
    user_id: int


@pytest.mark.parametrize("payload_type", [Registered, RegisteredData, RegisteredDict])
def test_unknown_field_of_a_typed_sender_fails_the_listener_registered_second(
    registry, payload_type
) -> None:
    async def register() -> payload_type:  # type: ignore[valid-type]
        raise NotImplementedError

    register.__annotations__["return"] = payload_type
    observable(send=["user_registered"])(register)

    with pytest.raises(ListenerBindingError, match="username"):

        @observable(listen=["user_registered"])
        async def greet(username: str) -> None: ...

    @observable(listen=["user_registered"])
    async def fine(user_id: int, nickname: str = "") -> None: ...


def test_unknown_field_fails_the_sender_registered_second(registry) -> None:
    @observable(listen=["user.*"])
    async def greet(username: str) -> None: ...

    with pytest.raises(ListenerBindingError, match="greet"):

        @observable(send=["user.created"])
        async def create() -> Registered:
            return Registered(user_id=1, email="e")


async def test_listeners_with_the_same_parameters_each_fail_under_their_own_name(
    bus: EventBus,
) -> None:
    ran = []
    for index in range(3):

        async def listener(user_id: int) -> None:
            ran.append(user_id)

        listener.__qualname__ = f"same_parameters_{index}"  # the arguments are made once
        observable(listen=["user_registered"])(listener)

    @observable(listen=["user_registered"])
    async def other(user_id: str) -> None:  # other parameters: bound on their own
        ran.append(user_id)

    async with bus:
        with capture_logs() as logs:
            await bus.emit("user_registered", {"user_id": "x"}, defer=True)
            await bus.emit("user_registered", {"user_id": 7}, defer=True)
            await bus.idle()

    assert ran == ["x", 7, 7, 7]
    failed = sorted(log["listener"] for log in logs if log["event"] == "listener_failed")
    assert [name.rpartition(":")[2] for name in failed] == [
        f"same_parameters_{index}" for index in range(3)
    ] + ["test_listeners_with_the_same_parameters_each_fail_under_their_own_name.<locals>.other"]


async def test_a_typed_payload_is_converted_for_each_listener(bus: EventBus) -> None:
    got: list[User] = []

    @observable(listen=["user_registered"])
    async def first(payload: User) -> None:
        payload.email = "changed@example.com"  # a listener may change its own copy...
        got.append(payload)

    @observable(listen=["user_registered"])
    async def second(payload: User) -> None:
        got.append(payload)  # ...which no other listener sees

    await bus.emit("user_registered", {"user_id": 1, "email": "x@y.z"})
    assert got == [User(user_id=1, email="changed@example.com"), User(user_id=1, email="x@y.z")]
