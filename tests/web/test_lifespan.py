import threading
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from asyncz.triggers import IntervalTrigger
from structlog.testing import capture_logs

from ravyn.app import Ravyn
from ravyn.contrib.schedulers.asyncz.decorator import scheduler
from ravyn.events import Registry, observable, trigger_event, use_registry
from ravyn.exceptions import ImproperlyConfigured
from ravyn.extensions import Extension
from ravyn.routing import get, post
from ravyn.testclient import TestClient
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(30)


def test_bus_runs_around_the_user_lifespan():
    steps: list[str] = []
    with use_registry(Registry()):

        @observable(listen=["shutting_down"])
        async def on_shutdown_event() -> None:
            steps.append("listener ran during shutdown")

        @asynccontextmanager
        async def lifespan(app: Ravyn):
            steps.append(f"startup, bus running={app.events.running}")
            app.state.ready = True
            yield
            await trigger_event("shutting_down", wait=True)
            steps.append(f"shutdown, bus running={app.events.running}")

        app = Ravyn(lifespan=lifespan)

    with TestClient(app):
        assert app.state.ready is True
    assert steps == [
        "startup, bus running=True",
        "listener ran during shutdown",
        "shutdown, bus running=True",
    ]
    assert not app.events.running


def test_on_startup_and_on_shutdown_sync_and_async():
    steps: list[str] = []

    async def open_pool() -> None:
        steps.append("open")

    app = Ravyn(on_startup=[open_pool], on_shutdown=[lambda: steps.append("close")])
    with TestClient(app):
        assert steps == ["open"]
    assert steps == ["open", "close"]


def test_lifespan_and_on_startup_together_are_refused():
    @asynccontextmanager
    async def lifespan(app):
        yield

    with pytest.raises(ImproperlyConfigured, match="either lifespan"):
        Ravyn(lifespan=lifespan, on_startup=[lambda: None])


def test_failing_startup_reaches_the_test():
    def broken() -> None:
        raise RuntimeError("database unreachable")

    with (
        pytest.raises(RuntimeError, match="database unreachable"),
        TestClient(Ravyn(on_startup=[broken])),
    ):
        pass


def test_extensions_run_at_construction_with_options():
    class Greeter(Extension):
        def extend(self, app: Ravyn, **kwargs) -> None:
            app.state.greeting = kwargs.get("greeting", "hello")

            @get("/greet")
            async def greet() -> str:
                return app.state.greeting

            app.add_route(greet)

    app = Ravyn(extensions={"greeter": Greeter})
    assert app.state.greeting == "hello"
    assert isinstance(app.extensions["greeter"], Greeter)
    app.add_extension("loud", Greeter(), greeting="HELLO")
    assert TestClient(app).get("/greet").json() == "HELLO"


def test_observers_modules_are_imported_before_the_bus(tmp_path, monkeypatch):
    (tmp_path / "shop_listeners.py").write_text(
        "from ravyn.events import observable\n"
        "@observable(listen=['order_placed'])\n"
        "async def ship() -> None: ...\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with use_registry(Registry()):
        app = Ravyn(observers=["shop_listeners"])
    assert [listener.name for listener in app.events.registry.listeners] == ["shop_listeners:ship"]


def test_observers_instances_listen_through_the_app():
    with use_registry(Registry()):

        class Shipping:
            def __init__(self) -> None:
                self.shipped: list[int] = []

            @observable(listen=["order_placed"])
            async def ship(self, order_id: int) -> None:
                self.shipped.append(order_id)

        shipping = Shipping()
        app = Ravyn(observers=[shipping])
    with TestClient(app) as client, client.portal() as portal:
        portal.call(app.events.emit, "order_placed", {"order_id": 9})
        client.wait_idle()
    assert shipping.shipped == [9]


def test_declared_jobs_run_while_the_app_runs_and_emit_on_its_bus(monkeypatch):
    ticked = threading.Event()
    with use_registry(Registry()):

        @scheduler(name="tick", trigger=IntervalTrigger(hours=1), next_run_time=datetime.now(UTC))
        @observable(send=["ticked"])
        async def tick() -> dict:
            return {"ok": True}

        @observable(listen=["ticked"])
        async def on_tick(ok: bool) -> None:
            ticked.set()

        app = Ravyn()

    with TestClient(app):
        assert ticked.wait(timeout=10)
    assert app.events.metrics.for_event("ticked").emitted == 1


def test_startup_logs_the_catalogue_and_its_warnings():
    with use_registry(Registry()):

        @observable(send=["nobody_listens"])
        async def lonely() -> None: ...

        @observable(listen=["never_sent"])
        async def waiting() -> None: ...

        app = Ravyn()
    with capture_logs() as logs, TestClient(app):
        pass
    [catalogue] = [log for log in logs if log["event"] == "event_catalogue"]
    assert {row["event"] for row in catalogue["events"]} == {"nobody_listens", "never_sent"}
    warnings = {log["kind"]: log["event_name"] for log in logs if log["log_level"] == "warning"}
    assert warnings == {
        "sent_without_listener": "nobody_listens",
        "listened_but_never_sent": "never_sent",
    }


def test_with_a_transport_an_event_without_local_listener_is_a_debug_line(debug_logs):
    """A web process sends, a worker listens: the web process cannot know, so no warning."""
    with use_registry(Registry()):

        @observable(send=["user_registered"])
        async def register() -> dict:
            return {}

        app = Ravyn(event_transport="memory://")
    with capture_logs() as logs, TestClient(app):
        pass
    assert [log for log in logs if log["log_level"] == "warning"] == []
    [line] = [log for log in logs if log["event"] == "no_local_listener"]
    assert (line["event_name"], line["log_level"]) == ("user_registered", "debug")


def test_a_misspelt_observers_module_names_the_setting():
    with pytest.raises(ImproperlyConfigured, match=r"observers=\['myapp_listners'\]"):
        Ravyn(observers=["myapp_listners"])


def registering_app(**options) -> tuple[Ravyn, list[str]]:
    welcomed: list[str] = []
    with use_registry(Registry()):

        @post("/register")
        @observable(send=["user_registered"])
        async def register(email: str) -> dict:
            return {"email": email}

        @observable(listen=["user_registered"])
        async def welcome(email: str) -> None:
            welcomed.append(email)

        return Ravyn(routes=[register], **options), welcomed


def test_a_test_client_without_with_after_one_with_fails_loudly():
    app, welcomed = registering_app()
    with TestClient(app) as client:
        client.post("/register", json={"email": "first@example.com"})
        client.wait_idle()
    with pytest.raises(RuntimeError, match=r"use `with TestClient\(app\) as client:`"):
        TestClient(app).post("/register", json={"email": "lost@example.com"})
    with TestClient(app) as client:  # with `with`, the bus runs again
        client.post("/register", json={"email": "second@example.com"})
        client.wait_idle()
    assert welcomed == ["first@example.com", "second@example.com"]


def test_a_test_client_runs_the_app_on_another_transport():
    """An app built for Redis, tested with no Redis: the in-memory transport for the block."""
    from ravyn.events.transports.redis import RedisTransport

    app, welcomed = registering_app(event_transport=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(app, event_transport="memory://") as client:
        assert client.post("/register", json={"email": "ada@example.com"}).status_code == 201
        client.wait_idle()
    assert welcomed == ["ada@example.com"]
    assert isinstance(app.events.transport, RedisTransport)  # the app's own, put back
