"""HTTP details of the web core: bodies (415, 413, empty), trailing slashes, OPTIONS and 405,
guard dependencies, exception handler reach, 204 bodies, the body shared with ``Request``."""

import anyio.from_thread
import msgspec
import pytest
from structlog.testing import capture_logs

from ravyn import BackgroundTask, Include, Inject, Ravyn, RavynSettings, Request
from ravyn.exceptions import NotAuthorized, PermissionDenied
from ravyn.responses import JSONResponse
from ravyn.routing import delete, get, options, post, websocket
from ravyn.testclient import TestClient
from ravyn.websockets import WebSocket, WebSocketDisconnect

pytestmark = pytest.mark.timeout(30)


class Address(msgspec.Struct):
    zip: int


class Customer(msgspec.Struct):
    name: str
    address: Address


@post("/customers")
async def create_customer(customer: Customer) -> dict:
    return {"zip": customer.address.zip}


@post("/register")
async def register(email: str) -> dict:
    return {"email": email}


def client_for(*routes, **options) -> TestClient:
    return TestClient(Ravyn(routes=list(routes), **options))


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"name": "a", "address": {"zip": "x"}}, ["body", "address", "zip"], "Expected `int`"),
        ({"name": "a", "address": {}}, ["body", "address", "zip"], "missing required field"),
    ],
)
def test_nested_struct_errors_name_the_whole_path(body, loc, message):
    response = client_for(create_customer).post("/customers", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == loc and message in error["msg"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_typed_body_sent_as_something_else_than_json_is_a_415(content_type):
    client = client_for(create_customer, register)
    # body fields (register) also read forms: only plain text is refused there
    paths = ("/customers", "/register") if content_type == "text/plain" else ("/customers",)
    for path in paths:
        response = client.post(
            path, content=b'{"email": "a@b.c"}', headers={"content-type": content_type}
        )
        assert response.status_code == 415
        assert "Content-Type: application/json" in response.json()["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json", None]
)
def test_json_content_types_and_a_missing_one_are_read_as_json(content_type):
    headers = {"content-type": content_type} if content_type else {}
    client = client_for(register)
    response = client.post("/register", content=b'{"email": "a@b.c"}', headers=headers)
    assert (response.status_code, response.json()) == (201, {"email": "a@b.c"})


def test_an_empty_body_where_one_is_required_is_a_422():
    response = client_for(create_customer).post("/customers")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_a_body_over_the_limit_is_a_413_by_length_or_while_streaming():
    client = client_for(register, settings=RavynSettings(max_body_size=64))
    small = client.post("/register", json={"email": "a@b.c"})
    assert small.status_code == 201
    chunked = client.post("/register", content=iter([b'{"email": ', b'"a@b.c"}']))
    assert (chunked.status_code, chunked.json()) == (201, {"email": "a@b.c"})
    declared = client.post("/register", json={"email": "x" * 100})
    assert declared.status_code == 413
    assert "RAVYN_MAX_BODY_SIZE" in declared.json()["detail"]

    assert streamed_status(client.app, [b'{"email": "', *[b"x" * 10] * 10, b'"}']) == 413
    assert streamed_status(client.app, [b'{"email": ', b'"a@b.c"}']) == 201


def streamed_status(app: Ravyn, chunks: list[bytes]) -> int:
    """POST ``chunks`` as a body without content-length (as a chunked upload arrives)."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/register",
        "raw_path": b"/register",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "server": ("testserver", 80),
        "client": ("test", 1),
    }
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(app, scope, receive, send)
    return sent[0]["status"]


def test_the_body_read_by_binding_is_the_one_request_gives():
    async def peek(request: Request) -> dict:
        return await request.json()

    @post("/peek", dependencies={"peeked": Inject(peek)})
    async def handler(peeked: dict, email: str, request: Request) -> dict:
        return {"peeked": peeked, "email": email, "raw": (await request.body()).decode()}

    response = client_for(handler).post("/peek", content=b'{"email": "a@b.c"}')
    assert response.json() == {
        "peeked": {"email": "a@b.c"},
        "email": "a@b.c",
        "raw": '{"email": "a@b.c"}',
    }


@get("/users")
async def list_users() -> list:
    return ["ada"]


@post("/users")
async def add_user(name: str) -> dict:
    return {"name": name}


def test_trailing_slash_redirects_with_307_keeping_method_and_query():
    client = client_for(
        list_users, add_user, Include("/v1", routes=[Include("/a", routes=[list_users])])
    )
    response = client.get("/users/?page=2")
    assert (response.status_code, response.headers["location"]) == (307, "/users?page=2")
    posted = client.post("/users/", json={"name": "ada"}, follow_redirects=True)
    assert (posted.status_code, posted.json()) == (201, {"name": "ada"})  # not turned into a GET
    nested = client.get("/v1/a/users/")
    assert (nested.status_code, nested.headers["location"]) == (307, "/v1/a/users")
    assert client.get("/v1/a/nothing/").status_code == 404
    assert client.get("/nothing/").status_code == 404


def test_options_answers_the_allowed_methods_and_405_names_them():
    client = client_for(list_users, add_user)
    allowed = client.options("/users")
    assert allowed.status_code == 204
    assert set(allowed.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    refused = client.delete("/users")
    assert refused.status_code == 405
    # The same list as OPTIONS answers: OPTIONS is always served.
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_a_declared_options_handler_wins():
    @options("/users")
    async def users_options() -> dict:
        return {"custom": True}

    response = client_for(list_users, users_options).options("/users")
    assert (response.status_code, response.json()) == (200, {"custom": True})


def test_an_exception_handler_for_exception_leaves_http_errors_alone():
    @get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    def on_failure(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"failed": type(exc).__name__}, status_code=503)

    client = client_for(crash, create_customer, exception_handlers={Exception: on_failure})
    assert client.get("/crash").json() == {"failed": "RuntimeError"}
    assert client.get("/nowhere").status_code == 404
    assert client.post("/customers", json={}).status_code == 422


def test_a_204_sends_no_body_even_when_the_handler_returns_one():
    @delete("/users/{user_id}")
    async def remove(user_id: int) -> dict:
        return {"deleted": user_id}

    response = client_for(remove).delete("/users/3")
    assert (response.status_code, response.content) == (204, b"")
    assert "content-type" not in response.headers


def test_the_singular_background_task_annotation_gets_add_task():
    done = []

    @post("/jobs")
    async def start(tasks: BackgroundTask) -> dict:
        tasks.add_task(done.append, "job")
        return {"started": True}

    assert client_for(start).post("/jobs").json() == {"started": True}
    assert done == ["job"]


def test_an_optional_struct_is_the_body_or_none():
    @post("/items")
    async def create(item: Address | None = None) -> dict:
        return {"item": item}

    client = client_for(create)
    assert client.post("/items", json={"zip": 1}).json() == {"item": {"zip": 1}}
    assert client.post("/items").json() == {"item": None}
    assert client.post("/items", json={"zip": "x"}).status_code == 422


def test_a_websocket_refused_by_a_guard_closes_with_1008_and_the_detail():
    def deny(websocket: WebSocket) -> None:
        raise NotAuthorized("no ticket")

    @websocket("/ws", dependencies={"auth": Inject(deny)})
    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()

    @websocket("/later")
    async def later(websocket: WebSocket) -> None:
        await websocket.accept()
        raise PermissionDenied("not your room")

    client = client_for(feed, later)
    for path, reason in (("/ws", "no ticket"), ("/later", "not your room")):
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(path) as ws:
            ws.receive_text()
        assert (refused.value.code, refused.value.reason) == (1008, reason)


def test_a_websocket_with_a_bad_parameter_is_told_which_field_failed():
    @websocket("/rooms")
    async def room(websocket: WebSocket, number: int) -> None:
        await websocket.accept()

    client = client_for(room)
    with (
        capture_logs() as logs,
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/rooms?number=abc") as ws,
    ):
        ws.receive_text()
    assert refused.value.code == 1008
    assert refused.value.reason.startswith("query.number: ")
    [log] = [log for log in logs if log["event"] == "websocket_refused"]
    assert log["status"] == 422 and log["detail"][0]["loc"] == ["query", "number"]


def test_a_500_handler_answers_unhandled_failures():
    @get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    def on_500(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"sorry": str(exc)}, status_code=500)

    client = client_for(crash, exception_handlers={500: on_500})
    with capture_logs() as logs:
        assert client.get("/crash").json() == {"sorry": "boom"}
    assert [log["event"] for log in logs if log["log_level"] == "error"] == ["unhandled_exception"]
    assert client.get("/nowhere").status_code == 404
