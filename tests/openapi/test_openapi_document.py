"""The OpenAPI document: valid 3.1, and every binding rule of docs/parameters.md in it."""

from __future__ import annotations

import dataclasses
from typing import TypedDict

import msgspec
import pydantic
import pytest
from openapi_spec_validator import validate

from ravyn import (
    BackgroundTasks,
    Body,
    Cookie,
    File,
    Form,
    Gateway,
    Header,
    Include,
    Inject,
    Query,
    Ravyn,
    Request,
    UploadFile,
    delete,
    get,
    observable,
    post,
    put,
)
from ravyn.events import Registry, use_registry
from ravyn.openapi import SecurityScheme, openapi_document
from ravyn.testclient import TestClient

BEARER = SecurityScheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})


class Address(msgspec.Struct):
    street: str
    zip: int


class Customer(msgspec.Struct):
    name: str
    address: Address
    tags: list[str] = []


@dataclasses.dataclass
class Note:
    text: str


class Point(TypedDict):
    x: int
    y: int


class Review(pydantic.BaseModel):
    stars: int = pydantic.Field(ge=1, le=5)


async def current_user(request: Request) -> str:
    return "ada"


current_user.openapi_security = BEARER  # type: ignore[attr-defined]


async def database() -> str:
    return "db"


with use_registry(Registry()):

    @get("/customers/{customer_id}", tags=["customers"], summary="Fetch a customer")
    async def read_customer(
        customer_id: int,
        request: Request,
        tasks: BackgroundTasks,
        db: str = Inject(database),
        verbose: bool = False,
        fields: list[str] = Query(default=[]),
        x_trace: str | None = Header(default=None),
        session: str = Cookie(alias="sid"),
    ) -> Customer:
        """Read one customer by id."""
        raise NotImplementedError

    @post("/customers")
    @observable(send=["customer_created"])
    async def create_customer(customer: Customer, notify: bool = False) -> Customer:
        return customer

    @post("/register")
    async def register(email: str, password: str, age: int | None = None) -> dict:
        return {}

    @post("/notes")
    async def add_note(note: Note) -> Note:
        return note

    @put("/points")
    async def move(point: Point) -> Point:
        return point

    @post("/reviews")
    async def review(review: Review) -> Review:
        return review

    @post("/raw")
    async def raw(payload: dict = Body()) -> dict:
        return payload

    @post("/profile")
    async def profile(user_name: str = Form(alias="user-name")) -> dict:
        return {}

    @post("/avatar")
    async def avatar(
        owner: str, picture: UploadFile, extra: list[UploadFile] = File(default=[])
    ) -> dict:
        return {}

    @delete("/customers/{customer_id}", dependencies={"user": Inject(current_user)})
    async def remove_customer(customer_id: int) -> None:
        return None

    @get("/old", deprecated=True, operation_id="legacyEndpoint")
    async def old() -> str:
        return ""

    @get("/hidden", include_in_schema=False)
    async def hidden() -> dict:
        return {}

    @get("/users")
    async def list_users() -> list[str]:
        return []

    app = Ravyn(
        routes=[
            read_customer,
            create_customer,
            register,
            add_note,
            move,
            review,
            raw,
            profile,
            avatar,
            remove_customer,
            old,
            hidden,
            Include("/admin", routes=[Gateway("/v1", handler=list_users)]),
            Include("/internal", routes=[list_users], include_in_schema=False),
        ],
        title="Shop",
        version="2.0",
        description="A shop.",
    )

DOCUMENT = openapi_document(app)
PATHS = DOCUMENT["paths"]


def parameters(path: str, method: str) -> dict[str, dict]:
    return {p["name"]: p for p in PATHS[path][method].get("parameters", [])}


def body_schema(path: str, method: str, media_type: str = "application/json") -> dict:
    return PATHS[path][method]["requestBody"]["content"][media_type]["schema"]


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"] == "3.1.0"
    assert DOCUMENT["info"] == {"title": "Shop", "version": "2.0", "description": "A shop."}
    validate(DOCUMENT)


def test_rule_1_injected_request_and_tasks_are_not_parameters():
    names = parameters("/customers/{customer_id}", "get")
    assert "request" not in names and "tasks" not in names


def test_rule_2_dependencies_are_not_parameters_and_declare_security():
    assert "db" not in parameters("/customers/{customer_id}", "get")
    operation = PATHS["/customers/{customer_id}"]["delete"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert DOCUMENT["components"]["securitySchemes"] == {"bearerAuth": dict(BEARER.definition)}
    assert "security" not in PATHS["/customers/{customer_id}"]["get"]


def test_rule_3_markers_pick_the_source_and_the_wire_name():
    found = parameters("/customers/{customer_id}", "get")
    assert found["x-trace"]["in"] == "header" and found["x-trace"]["required"] is False
    assert found["sid"]["in"] == "cookie" and found["sid"]["required"] is True
    assert found["fields"] == {
        "name": "fields",
        "in": "query",
        "required": False,
        "schema": {"type": "array", "items": {"type": "string"}, "default": []},
    }
    assert body_schema("/raw", "post") == {"type": "object"}
    form = body_schema("/profile", "post", "application/x-www-form-urlencoded")
    assert form["properties"] == {"user-name": {"type": "string"}}


def test_rule_4_upload_files_are_binary_parts_of_a_multipart_body():
    content = PATHS["/avatar"]["post"]["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    schema = content["multipart/form-data"]["schema"]
    assert schema["properties"]["picture"] == {"type": "string", "format": "binary"}
    assert schema["properties"]["extra"]["items"] == {"type": "string", "format": "binary"}
    assert schema["properties"]["owner"] == {"type": "string"}
    assert sorted(schema["required"]) == ["owner", "picture"]


def test_rule_5_path_parameters_are_required_and_typed():
    found = parameters("/customers/{customer_id}", "get")["customer_id"]
    assert found == {
        "name": "customer_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }


@pytest.mark.parametrize(
    ("path", "method", "name"),
    [
        ("/customers", "post", "Customer"),
        ("/notes", "post", "Note"),
        ("/points", "put", "Point"),
        ("/reviews", "post", "Review"),
    ],
)
def test_rule_6_typed_bodies_are_json_schemas_named_once(path, method, name):
    operation = PATHS[path][method]
    assert list(operation["requestBody"]["content"]) == ["application/json"]
    assert operation["requestBody"]["required"] is True
    assert body_schema(path, method) == {"$ref": f"#/components/schemas/{name}"}
    assert name in DOCUMENT["components"]["schemas"]


def test_rule_6_nested_types_are_components_and_pydantic_keeps_its_constraints():
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["Customer"]["properties"]["address"] == {"$ref": "#/components/schemas/Address"}
    assert schemas["Address"]["required"] == ["street", "zip"]
    stars = schemas["Review"]["properties"]["stars"]
    assert (stars["minimum"], stars["maximum"]) == (1, 5)


def test_rule_7_scalars_of_a_post_are_an_object_body_in_json_and_forms():
    content = PATHS["/register"]["post"]["requestBody"]["content"]
    assert list(content) == [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ]
    schema = content["application/json"]["schema"]
    assert schema["type"] == "object" and schema["required"] == ["email", "password"]
    assert set(schema["properties"]) == {"email", "password", "age"}
    # beside a whole body, the other scalars are query parameters
    assert parameters("/customers", "post")["notify"]["in"] == "query"


def test_rule_8_other_scalars_are_query_parameters_optional_with_a_default():
    found = parameters("/customers/{customer_id}", "get")["verbose"]
    assert found == {
        "name": "verbose",
        "in": "query",
        "required": False,
        "schema": {"type": "boolean", "default": False},
    }


def test_responses_follow_the_status_and_the_return_annotation():
    created = PATHS["/customers"]["post"]["responses"]
    assert created["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Customer"
    }
    assert set(created) == {"201", "400", "413", "415", "422"}
    assert created["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    deleted = PATHS["/customers/{customer_id}"]["delete"]["responses"]
    assert "content" not in deleted["204"]
    assert set(PATHS["/old"]["get"]["responses"]) == {"200"}  # nothing to validate


def test_metadata_tags_summary_description_deprecated_operation_id():
    operation = PATHS["/customers/{customer_id}"]["get"]
    assert operation["tags"] == ["customers"]
    assert operation["summary"] == "Fetch a customer"
    assert operation["description"] == "Read one customer by id."
    assert operation["operationId"] == "read_customer"
    assert PATHS["/old"]["get"]["deprecated"] is True
    assert PATHS["/old"]["get"]["operationId"] == "legacyEndpoint"
    assert PATHS["/register"]["post"]["summary"] == "Register"


def test_include_in_schema_and_prefixes():
    assert "/hidden" not in PATHS
    assert "/internal/users" not in PATHS
    assert "get" in PATHS["/admin/v1/users"]
    assert not any(path.startswith("/docs") or path.endswith(".json") for path in PATHS)


def test_an_operation_that_sends_events_lists_them():
    assert PATHS["/customers"]["post"]["x-events"] == ["customer_created"]
    assert "x-events" not in PATHS["/register"]["post"]


def test_served_document_is_built_once_and_stable():
    client = TestClient(app)
    first = client.get("/openapi.json")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.content == client.get("/openapi.json").content
    assert first.json() == msgspec.json.decode(msgspec.json.encode(DOCUMENT))
    assert msgspec.json.encode(openapi_document(app)) == first.content  # same app, same bytes


def test_urls_set_to_none_turn_the_documents_off():
    quiet = Ravyn(routes=[list_users], openapi_url=None, docs_url=None)
    client = TestClient(quiet)
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404


def test_two_types_of_one_name_are_named_apart():
    first_item = msgspec.defstruct("Item", [("x", int)], module="shop.first")
    second_item = msgspec.defstruct("Item", [("y", str)], module="shop.second")

    async def first():
        return first_item(x=1)

    async def second():
        return second_item(y="a")

    first.__annotations__["return"] = first_item
    second.__annotations__["return"] = second_item
    document = openapi_document(Ravyn(routes=[get("/first")(first), get("/second")(second)]))
    refs = [
        document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
            "$ref"
        ]
        for path in ("/first", "/second")
    ]
    assert refs == ["#/components/schemas/shop.first.Item", "#/components/schemas/shop.second.Item"]
    schemas = document["components"]["schemas"]
    assert schemas["shop.first.Item"]["properties"] == {"x": {"type": "integer"}}
    assert schemas["shop.second.Item"]["properties"] == {"y": {"type": "string"}}
    validate(document)


@pytest.fixture
def builds(monkeypatch):
    """The apps whose OpenAPI document was built for a request, one entry per build."""
    import ravyn.openapi.serving as serving

    built = []
    build = serving.openapi_document
    monkeypatch.setattr(serving, "openapi_document", lambda app: built.append(app) or build(app))
    return built


def test_the_document_is_built_at_its_first_request_only(builds):
    served = Ravyn(routes=[list_users])
    client = TestClient(served)
    assert builds == []  # nothing at construction: routes may still be added
    bodies = {client.get("/openapi.json").content for _ in range(3)}
    head = client.head("/openapi.json")
    assert builds == [served] and len(bodies) == 1
    assert head.content == b"" and head.headers["content-length"] == str(len(bodies.pop()))


def test_a_route_added_after_the_first_request_is_in_the_document_built_once_more(builds):
    served = Ravyn(routes=[list_users])
    client = TestClient(served)
    assert list(client.get("/openapi.json").json()["paths"]) == ["/users"]

    @get("/later")
    async def later() -> str:
        return "here"

    served.add_route(later)
    documents = [client.get("/openapi.json").json() for _ in range(3)]
    assert list(documents[0]["paths"]) == ["/users", "/later"]
    assert documents[0] == documents[1] == documents[2]
    assert builds == [served, served]  # once per route set
