"""Controllers: methods are routes that bind like functions, under what the class shares."""

import threading

import msgspec
import pytest
from lilya.middleware import DefineMiddleware

from ravyn import (
    Controller,
    Guard,
    Include,
    Inject,
    Ravyn,
    Request,
    Response,
    after_request,
    before_request,
    get,
    observable,
    post,
    websocket,
)
from ravyn.events import Registry, use_registry
from ravyn.exceptions import ImproperlyConfigured, NotAuthorized, PermissionDenied
from ravyn.routing.gateways import Gateway
from ravyn.testclient import TestClient
from ravyn.websockets import WebSocket, WebSocketDisconnect

pytestmark = pytest.mark.timeout(30)


class Item(msgspec.Struct):
    name: str
    price: float


def test_methods_bind_path_query_and_body_like_functions():
    class ItemApi(Controller):
        path = "/items"

        @get("/{item_id}")
        async def read(self, item_id: int, q: str | None = None) -> dict:
            return {"item_id": item_id, "q": q, "controller": type(self).__name__}

        @post("/")
        async def create(self, item: Item) -> Item:
            return item

        @get("/sync/{n}")
        def sync_read(self, n: int) -> dict:
            return {"n": n, "thread": threading.current_thread().name}

    client = TestClient(Ravyn(routes=[ItemApi]))
    assert client.get("/items/3?q=x").json() == {"item_id": 3, "q": "x", "controller": "ItemApi"}
    created = client.post("/items", json={"name": "pen", "price": 2})
    assert (created.status_code, created.json()) == (201, {"name": "pen", "price": 2.0})
    wrong = client.get("/items/three")
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["path", "item_id"]
    missing = client.post("/items", json={"name": "pen"})
    assert missing.status_code == 422 and "price" in str(missing.json()["detail"])
    sync = client.get("/items/sync/4").json()
    assert sync["n"] == 4 and sync["thread"] != threading.main_thread().name


def test_one_instance_per_mount_keeps_its_state():
    class Counter(Controller):
        path = "/count"

        def __init__(self) -> None:
            self.hits = 0

        @get("/")
        async def count(self) -> int:
            self.hits += 1
            return self.hits

    client = TestClient(Ravyn(routes=[Counter]))
    assert [client.get("/count").json() for _ in range(3)] == [1, 2, 3]


def test_class_dependencies_reach_methods_and_a_method_declaration_wins():
    class Api(Controller):
        path = "/api"
        dependencies = {"region": Inject(lambda: "eu"), "tier": Inject(lambda: "free")}

        @get("/plain")
        async def plain(self, region: str, tier: str) -> list[str]:
            return [region, tier]

        @get("/premium", dependencies={"tier": Inject(lambda: "premium")})
        async def premium(self, region: str, tier: str) -> list[str]:
            return [region, tier]

    client = TestClient(Ravyn(routes=[Api]))
    assert client.get("/api/plain").json() == ["eu", "free"]
    assert client.get("/api/premium").json() == ["eu", "premium"]


def require_key(request: Request) -> None:
    if request.headers.get("x-key") != "k":
        raise NotAuthorized("Send X-Key.")


def test_a_guard_on_the_class_guards_every_method_and_a_guard_on_a_method_only_it():
    def require_admin(request: Request) -> None:
        if request.headers.get("x-admin") != "yes":
            raise PermissionDenied("Admins only.")

    @Guard(require_key)
    class Reports(Controller):
        path = "/reports"

        @get("/")
        async def list_reports(self) -> list:
            return []

        @get("/secret")
        @Guard(require_admin)
        async def secret(self) -> dict:
            return {"secret": True}

    class Open(Controller):
        path = "/open"
        dependencies = {"auth": Inject(require_key)}  # the same guard, declared as a dependency

        @get("/")
        async def index(self) -> str:
            return "ok"

    client = TestClient(Ravyn(routes=[Reports, Open]))
    assert client.get("/reports").status_code == 401
    assert client.get("/open").status_code == 401
    assert client.get("/reports", headers={"x-key": "k"}).json() == []
    assert client.get("/open", headers={"x-key": "k"}).json() == "ok"
    assert client.get("/reports/secret", headers={"x-key": "k"}).status_code == 403
    allowed = client.get("/reports/secret", headers={"x-key": "k", "x-admin": "yes"})
    assert allowed.json() == {"secret": True}
    assert Controller.dependencies == {}  # decorating a subclass leaves the base alone


def test_hooks_run_around_each_method_in_order_and_only_on_success():
    calls: list[str] = []

    class Audited(Controller):
        path = "/audited"
        dependencies = {"auth": Inject(require_key)}

        @before_request
        async def start(self, request: Request) -> None:
            calls.append(f"before {request.url.path}")
            request.state.started = True

        @after_request
        def stamp(self, response: Response) -> None:
            calls.append("after")
            response.headers["x-audited"] = "yes"

        @after_request
        async def replace_teapots(self, request: Request, response: Response) -> Response | None:
            if response.status_code == 418:
                return Response(b"short and stout", status_code=200, media_type="text/plain")
            return None

        @get("/ok")
        async def ok(self, request: Request) -> dict:
            calls.append("handler")
            return {"started": request.state.started}

        @get("/teapot", status_code=418)
        async def teapot(self) -> dict:
            return {"tea": True}

        @get("/fails")
        async def fails(self) -> dict:
            raise PermissionDenied("no")

    client = TestClient(Ravyn(routes=[Audited]))
    key = {"x-key": "k"}
    response = client.get("/audited/ok", headers=key)
    assert response.json() == {"started": True}
    assert response.headers["x-audited"] == "yes"
    assert response.headers["content-type"] == "application/json"
    assert calls == ["before /audited/ok", "handler", "after"]
    calls.clear()
    assert client.get("/audited/ok").status_code == 401
    assert calls == []  # the class's guard runs before the hook, which never ran
    teapot = client.get("/audited/teapot", headers=key)
    assert (teapot.status_code, teapot.text) == (200, "short and stout")
    calls.clear()
    failed = client.get("/audited/fails", headers=key)
    assert failed.status_code == 403 and "x-audited" not in failed.headers
    assert calls == ["before /audited/fails"]


def test_a_before_request_hook_may_refuse_and_take_dependencies():
    class Gate(Controller):
        path = "/gate"
        dependencies = {"limit": Inject(lambda: 2)}

        @before_request
        def check(self, request: Request, limit: int) -> None:
            if int(request.query_params.get("n", "0")) > limit:
                raise PermissionDenied(f"n is over {limit}.")

        @get("/")
        async def index(self, n: int) -> int:
            return n

    client = TestClient(Ravyn(routes=[Gate]))
    assert client.get("/gate?n=1").json() == 1
    refused = client.get("/gate?n=3")
    assert (refused.status_code, refused.json()) == (403, {"detail": "n is over 2."})


def test_controller_middleware_wraps_only_its_routes():
    class Tag:
        def __init__(self, app, value: str) -> None:
            self.app, self.value = app, value

        async def __call__(self, scope, receive, send):
            async def tagged(message):
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-tag", self.value.encode())]
                await send(message)

            await self.app(scope, receive, tagged)

    class Tagged(Controller):
        path = "/tagged"
        middleware = [DefineMiddleware(Tag, value="controller")]

        @get("/")
        async def index(self) -> str:
            return "tagged"

    @get("/plain")
    async def plain() -> str:
        return "plain"

    client = TestClient(Ravyn(routes=[Tagged, plain]))
    assert client.get("/tagged").headers["x-tag"] == "controller"
    assert "x-tag" not in client.get("/plain").headers


def test_routes_are_named_after_class_and_method_and_carry_the_class_tags():
    class UserApi(Controller):
        path = "/users"
        tags = ["users"]

        @get("/{user_id}", tags=["read"], summary="One user")
        async def get_user(self, user_id: int) -> dict:
            """Answer one user."""
            return {}

        @get("/hidden", include_in_schema=False)
        async def hidden(self) -> dict:
            return {}

    class Internal(Controller):
        path = "/internal"
        include_in_schema = False

        @get("/")
        async def index(self) -> dict:
            return {}

    app = Ravyn(routes=[UserApi, Internal])
    gateways = {route.name: route for route in app.routes if isinstance(route, Gateway)}
    assert list(gateways) == ["UserApi.get_user", "UserApi.hidden", "Internal.index"]
    get_user = gateways["UserApi.get_user"].endpoint.route
    assert get_user.tags == ["users", "read"]
    assert (get_user.summary, get_user.description) == ("One user", "Answer one user.")
    assert get_user.__qualname__.endswith("UserApi.get_user")
    assert gateways["UserApi.get_user"].include_in_schema is True
    assert gateways["UserApi.hidden"].include_in_schema is False
    assert gateways["Internal.index"].include_in_schema is False
    # the class's own decorated function is left as it was: mounting binds a copy
    assert UserApi.__dict__["get_user"].tags == ["read"]


def test_mounted_in_an_include_with_add_route_and_a_prefix():
    class Ping(Controller):
        path = "/ping"

        @get("/")
        async def ping(self) -> str:
            return "pong"

    app = Ravyn(routes=[Include("/v1", routes=[Ping])])
    app.add_route(Ping, prefix="/v2")
    client = TestClient(app)
    assert client.get("/v1/ping").json() == "pong"
    assert client.get("/v2/ping").json() == "pong"
    assert app.url_for("Ping.ping") == "/v1/ping"


def test_a_subclass_inherits_routes_and_overrides_one_in_place():
    class Base(Controller):
        path = "/animals"

        @get("/sound")
        async def sound(self) -> str:
            return "..."

        @get("/legs")
        async def legs(self) -> int:
            return 4

    class Dog(Base):
        path = "/dogs"

        @get("/sound")
        async def sound(self) -> str:
            return "woof"

    client = TestClient(Ravyn(routes=[Dog]))
    assert client.get("/dogs/sound").json() == "woof"
    assert client.get("/dogs/legs").json() == 4
    assert client.get("/animals/legs").status_code == 404


def test_a_method_sends_events_with_its_return_value():
    received = []
    with use_registry(Registry()):

        class Orders(Controller):
            path = "/orders"

            @post("/")
            @observable(send=["order_placed"])
            async def place(self, item: Item) -> Item:
                return item

        @observable(listen=["order_placed"])
        async def on_order(name: str, price: float) -> None:
            received.append((name, price))

        app = Ravyn(routes=[Orders])
    with TestClient(app) as client:
        assert client.post("/orders", json={"name": "pen", "price": 1.5}).status_code == 201
        client.wait_idle()
    assert received == [("pen", 1.5)]
    catalogue = {entry["name"]: entry for entry in app.events.catalogue()["events"]}
    assert catalogue["order_placed"]["senders"] == [f"{__name__}:{Orders.__qualname__}.place"]


def test_websocket_methods_share_the_class_guard():
    @Guard(require_key)
    class Live(Controller):
        path = "/live"

        @websocket("/echo")
        async def echo(self, websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_text(await websocket.receive_text())
            await websocket.close()

    client = TestClient(Ravyn(routes=[Live]))
    with client.websocket_connect("/live/echo", headers={"x-key": "k"}) as socket:
        socket.send_text("hi")
        assert socket.receive_text() == "hi"
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/live/echo"):
        pass
    assert (refused.value.code, refused.value.reason) == (1008, "Send X-Key.")


def test_declaration_mistakes_are_refused_when_mounted():
    class Empty(Controller):
        path = "/empty"

    class NoSelf(Controller):
        path = "/noself"

        @get("/")
        async def index() -> str:  # type: ignore[misc]
            return "x"

    class Relative(Controller):
        path = "relative"

        @get("/")
        async def index(self) -> str:
            return "x"

    with pytest.raises(ImproperlyConfigured, match="has no route"):
        Ravyn(routes=[Empty])
    with pytest.raises(ImproperlyConfigured, match="first parameter must be self"):
        Ravyn(routes=[NoSelf])
    with pytest.raises(ImproperlyConfigured, match="must start with '/'"):
        Ravyn(routes=[Relative])

    class BadHook(Controller):
        @after_request
        async def hook(self, status: int) -> None: ...

        @get("/")
        async def index(self) -> str:
            return "x"

    with pytest.raises(ImproperlyConfigured, match="may take only request and response"):
        Ravyn(routes=[BadHook])
