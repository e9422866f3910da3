import dataclasses
import threading
from typing import TypedDict

import msgspec
import pytest

from ravyn.app import Ravyn
from ravyn.background import BackgroundTasks
from ravyn.exceptions import ImproperlyConfigured
from ravyn.requests import Request
from ravyn.responses import HTMLResponse, PlainText
from ravyn.routing import (
    Body,
    Cookie,
    Header,
    Include,
    Query,
    delete,
    get,
    patch,
    post,
    put,
    route,
)
from ravyn.testclient import TestClient

pytestmark = pytest.mark.timeout(30)


class Item(msgspec.Struct):
    name: str
    price: float


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Pet(TypedDict):
    name: str


@get("/items/{item_id}")
async def read_item(
    item_id: int, q: str | None = None, tags: list[str] = Query(default=[]), limit: int = 10
) -> dict:
    return {"item_id": item_id, "q": q, "tags": tags, "limit": limit}


@post("/items")
async def create_item(item: Item) -> Item:
    return item


@put("/points")
def move(point: Point) -> Point:
    return point


@post("/pets")
async def adopt(pet: Pet) -> dict:
    return {"adopted": pet["name"]}


@post("/raw")
async def raw(data: dict) -> dict:
    return {"keys": sorted(data)}


@post("/register")
async def register(email: str, age: int, newsletter: bool = False) -> dict:
    return {"email": email, "age": age, "newsletter": newsletter}


@post("/scores")
async def scores(values: list[int] = Body()) -> int:
    return sum(values)


@get("/whoami")
async def whoami(
    token: str = Header(alias="x-token"),
    user_agent: str = Header(default="?"),
    session: str | None = Cookie(default=None),
    page: int = Query(default=1, alias="p"),
) -> dict:
    return {"token": token, "agent": user_agent, "session": session, "page": page}


@get("/request")
async def uses_request(request: Request) -> dict:
    return {"path": request.url.path}


@delete("/items/{item_id}")
async def remove(item_id: int) -> None:
    return None


@route("/multi", methods=["GET", "POST"])
async def multi(request: Request) -> str:
    return request.method


@get("/text", media_type="text/plain")
async def text() -> str:
    return "plain words"


@get("/response")
async def response() -> PlainText:
    return PlainText("passed through", status_code=202)


@post("/created", status_code=200)
async def created() -> list:
    return [1, 2]


done: list[str] = []


@post("/later")
async def later(tasks: BackgroundTasks) -> dict:
    tasks.add_task(done.append, "background ran")
    return {"queued": True}


app = Ravyn(
    routes=[
        read_item,
        create_item,
        move,
        adopt,
        raw,
        register,
        scores,
        whoami,
        uses_request,
        remove,
        multi,
        text,
        response,
        created,
        later,
    ]
)
client = TestClient(app)


def test_path_and_query_parameters_convert_to_their_annotations():
    response = client.get("/items/7?q=pen&tags=a&tags=b&limit=3")
    assert response.status_code == 200
    assert response.json() == {"item_id": 7, "q": "pen", "tags": ["a", "b"], "limit": 3}


def test_query_defaults_apply_when_absent():
    assert client.get("/items/7").json() == {"item_id": 7, "q": None, "tags": [], "limit": 10}


def test_wrong_path_type_is_a_422_naming_the_parameter():
    response = client.get("/items/seven")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_wrong_query_type_is_a_422_naming_the_parameter():
    response = client.get("/items/1?limit=many")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]
    assert "int" in response.json()["detail"][0]["msg"]


def test_struct_body_is_decoded_and_returned_as_json():
    response = client.post("/items", json={"name": "pen", "price": 1.5})
    assert response.status_code == 201
    assert response.json() == {"name": "pen", "price": 1.5}


def test_dataclass_typeddict_and_dict_bodies():
    assert client.put("/points", json={"x": 1, "y": 2}).json() == {"x": 1, "y": 2}
    assert client.post("/pets", json={"name": "Rex"}).json() == {"adopted": "Rex"}
    assert client.post("/raw", json={"b": 1, "a": 2}).json() == {"keys": ["a", "b"]}


def test_body_field_of_the_wrong_type_is_a_422_naming_it():
    response = client.post("/items", json={"name": "pen", "price": "cheap"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body", "price"], "msg": "Expected `float`, got `str`"}]
    }


def test_missing_body_field_is_a_422_naming_it():
    response = client.post("/items", json={"name": "pen"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "price"]


def test_malformed_json_is_a_400():
    response = client.post(
        "/items", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


def test_scalars_of_a_post_bind_from_json_fields():
    response = client.post("/register", json={"email": "a@b.c", "age": 30})
    assert response.json() == {"email": "a@b.c", "age": 30, "newsletter": False}
    missing = client.post("/register", json={"email": "a@b.c"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "age"]


def test_scalars_of_a_post_bind_from_the_query_without_a_body():
    response = client.post("/register?email=a@b.c&age=30&newsletter=true")
    assert response.json() == {"email": "a@b.c", "age": 30, "newsletter": True}


def test_body_marker_takes_the_whole_body():
    assert client.post("/scores", json=[1, 2, 3]).json() == 6


def test_header_cookie_and_aliased_query_markers():
    response = client.get(
        "/whoami?p=4",
        headers={"x-token": "t0k", "user-agent": "tests", "cookie": "session=s1"},
    )
    assert response.json() == {"token": "t0k", "agent": "tests", "session": "s1", "page": 4}


def test_missing_required_header_is_a_422():
    response = client.get("/whoami")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-token"]


def test_request_is_injected_by_annotation():
    assert client.get("/request").json() == {"path": "/request"}


def test_default_status_codes_and_empty_delete():
    response = client.delete("/items/3")
    assert response.status_code == 204
    assert response.content == b""
    assert client.post("/created").status_code == 200


def test_route_with_several_methods():
    assert client.get("/multi").json() == "GET"
    assert client.post("/multi").json() == "POST"


def test_media_type_and_response_passthrough():
    response = client.get("/text")
    assert response.text == "plain words"
    assert response.headers["content-type"].startswith("text/plain")
    passthrough = client.get("/response")
    assert (passthrough.status_code, passthrough.text) == (202, "passed through")


def test_background_tasks_run_after_the_response():
    done.clear()
    assert client.post("/later").json() == {"queued": True}
    assert done == ["background ran"]


def test_decorated_function_is_still_callable():
    assert move(Point(1, 2)) == Point(1, 2)


def test_sync_handlers_run_in_a_worker_thread_and_async_ones_on_the_loop():
    @get("/sync-thread")
    def sync_thread() -> int:
        return threading.get_ident()

    @get("/async-thread")
    async def async_thread() -> int:
        return threading.get_ident()

    with TestClient(Ravyn(routes=[sync_thread, async_thread])) as app_client:
        loop_thread = app_client.get("/async-thread").json()
        assert app_client.get("/async-thread").json() == loop_thread  # one loop thread
        assert app_client.get("/sync-thread").json() not in (loop_thread, threading.get_ident())


def test_openapi_metadata_is_kept_on_the_handler():
    @get("/documented", tags=["items"], summary="List items")
    async def documented() -> dict:
        """Every item, newest first."""
        return {}

    assert (documented.tags, documented.summary) == (["items"], "List items")
    assert documented.description == "Every item, newest first."


def test_patch_and_a_response_class():
    @patch("/items/{item_id}")
    async def rename(item_id: int, name: str) -> dict:
        return {"item_id": item_id, "name": name}

    @get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<h1>hi</h1>"

    app_client = TestClient(Ravyn(routes=[rename, page]))
    renamed = app_client.patch("/items/4", json={"name": "ink"})
    assert (renamed.status_code, renamed.json()) == (200, {"item_id": 4, "name": "ink"})
    html = app_client.get("/page")
    assert (html.text, html.headers["content-type"]) == ("<h1>hi</h1>", "text/html; charset=utf-8")


def test_add_route_takes_an_optional_prefix():
    app = Ravyn()
    app.add_route(read_item)
    app.add_route(read_item, prefix="/v2")
    prefixed = TestClient(app)
    assert prefixed.get("/items/3").json()["item_id"] == 3
    assert prefixed.get("/v2/items/4").json()["item_id"] == 4
    assert prefixed.get("/v3/items/4").status_code == 404


def test_add_route_refuses_a_prefix_it_cannot_apply():
    with pytest.raises(ImproperlyConfigured, match="put the prefix in that path"):
        Ravyn().add_route(Include("/inc", routes=[read_item]), prefix="/pre")
