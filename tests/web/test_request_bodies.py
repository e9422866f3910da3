"""Pydantic bodies, urlencoded and multipart forms, and file uploads through a real server."""

from __future__ import annotations

import hashlib
import os
import sys

import httpx
import pydantic
import pytest

from ravyn import File, Form, HTTPException, Ravyn, RavynSettings, UploadFile, post
from ravyn.routing.uploads import SPOOL_MAX_SIZE
from ravyn.testclient import TestClient
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)


class Item(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)
    tags: list[str] = []


@post("/items")
async def create_item(item: Item) -> dict:
    return {"type": type(item).__name__, **item.model_dump()}


@post("/items/echo")
async def echo_item(item: Item) -> Item:  # a pydantic model back: encoded by its model_dump
    return item


@post("/login")
async def login(username: str, password: str, remember: bool = False) -> dict:
    return {"username": username, "password_length": len(password), "remember": remember}


@post("/profile")
async def profile(user_name: str = Form(alias="user-name"), age: int = Form()) -> dict:
    return {"user_name": user_name, "age": age}


@post("/avatar")
async def avatar(owner: str, picture: UploadFile) -> dict:
    data = await picture.read()
    return {
        "owner": owner,
        "filename": picture.filename,
        "content_type": picture.content_type,
        "size": picture.size,
        "sum": sum(data),
        "length": len(data),
    }


@post("/gallery")
async def gallery(files: list[UploadFile] = File(alias="photo"), note: str | None = None) -> dict:
    return {"names": [upload.filename for upload in files], "note": note}


@post("/optional")
async def optional(attachment: UploadFile | None = None) -> dict:
    return {"attached": attachment is not None}


app = Ravyn(
    routes=[create_item, echo_item, login, profile, avatar, gallery, optional],
    settings=RavynSettings(max_body_size=300_000, max_form_parts=5, max_form_field_size=1000),
)


@pytest.fixture(scope="module")
def client():
    with serve(app) as address, httpx.Client(base_url=f"http://{address}", timeout=30) as http:
        yield http


def test_a_pydantic_model_is_the_json_body(client):
    response = client.post("/items", json={"name": "pen", "price": "1.5", "tags": ["a"]})
    assert response.status_code == 201
    assert response.json() == {"type": "Item", "name": "pen", "price": 1.5, "tags": ["a"]}


def test_a_pydantic_model_returned_is_the_json_response(client):
    response = client.post("/items/echo", json={"name": "pen", "price": 2})
    assert (response.status_code, response.json()) == (
        201,
        {"name": "pen", "price": 2.0, "tags": []},
    )


def test_a_pydantic_error_is_the_same_422_shape_as_msgspec(client):
    response = client.post("/items", json={"name": "pen", "price": -1})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "price"] and "greater than 0" in error["msg"]
    missing = client.post("/items", json={"price": 2}).json()["detail"]
    assert missing == [{"loc": ["body", "name"], "msg": "Field required"}]


def test_a_pydantic_body_that_is_not_json_is_a_400(client):
    response = client.post("/items", content=b"{nope", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The request body is not valid JSON")


def test_an_urlencoded_form_binds_the_same_fields_as_json(client):
    values = {"username": "ada", "password": "s3cret"}
    form = client.post("/login", data={**values, "remember": "true"})
    as_json = client.post("/login", json={**values, "remember": True})
    assert form.status_code == as_json.status_code == 201
    assert (
        form.json()
        == as_json.json()
        == {
            "username": "ada",
            "password_length": 6,
            "remember": True,
        }
    )


def test_a_multipart_form_without_files_binds_the_fields(client):
    fields_only = {"username": (None, "ada"), "password": (None, "pw")}
    response = client.post("/login", files=fields_only)
    assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code == 201
    assert response.json()["username"] == "ada"


def test_a_form_value_of_the_wrong_type_is_a_422_naming_the_field(client):
    response = client.post("/profile", data={"user-name": "ada", "age": "old"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "age"]
    ok = client.post("/profile", data={"user-name": "ada", "age": "36"})
    assert ok.json() == {"user_name": "ada", "age": 36}


def test_a_100_kb_binary_upload_arrives_intact(client):
    data = os.urandom(100_000)
    response = client.post(
        "/avatar",
        data={"owner": "ada"},
        files={"picture": ("me.png", data, "image/png")},
    )
    assert response.status_code == 201
    assert response.json() == {
        "owner": "ada",
        "filename": "me.png",
        "content_type": "image/png",
        "size": 100_000,
        "sum": sum(data),
        "length": 100_000,
    }


def test_several_files_under_one_name_are_a_list(client):
    files = [("photo", (f"p{index}.jpg", os.urandom(2000), "image/jpeg")) for index in range(3)]
    response = client.post("/gallery", data={"note": "trip"}, files=files)
    assert response.status_code == 201
    assert response.json() == {"names": ["p0.jpg", "p1.jpg", "p2.jpg"], "note": "trip"}


def test_a_missing_file_is_a_422_and_an_optional_one_defaults(client):
    response = client.post("/avatar", data={"owner": "ada"}, files={"other": ("x", b"1")})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "picture"]
    assert client.post("/optional").json() == {"attached": False}
    sent = client.post("/optional", files={"attachment": ("a.txt", b"hi", "text/plain")})
    assert sent.json() == {"attached": True}


def test_a_file_sent_as_json_is_a_415(client):
    response = client.post("/avatar", json={"owner": "ada", "picture": "x"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


@pytest.mark.parametrize(
    ("files", "data", "words"),
    [
        ({"picture": ("big.bin", b"x" * 400_000)}, {"owner": "a"}, "larger than 300000"),
        ([("photo", (f"{i}", b"1")) for i in range(6)], {}, "more than 5 fields"),
        ({"picture": ("a", b"1")}, {"owner": "a" * 2000}, "'owner' is larger than 1000"),
    ],
    ids=["body-size", "part-count", "field-size"],
)
def test_form_limits_refuse_abuse_with_a_413(client, files, data, words):
    path = "/gallery" if "photo" in str(files) else "/avatar"
    response = client.post(path, data=data, files=files)
    assert response.status_code == 413
    assert words in response.json()["detail"]


def test_a_broken_multipart_body_is_a_400(client):
    response = client.post(
        "/avatar",
        content=b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    assert "malformed" in response.json()["detail"]
    no_boundary = client.post(
        "/avatar", content=b"x", headers={"content-type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 400


@post("/archive")
async def archive(bundle: UploadFile) -> dict:
    data = await bundle.read()
    return {
        "on_disk": bundle.file._rolled,  # past SPOOL_MAX_SIZE the spooled file is on disk
        "size": bundle.size,
        "digest": hashlib.sha256(data).hexdigest(),
    }


def test_a_large_upload_is_spooled_to_disk_and_arrives_intact():
    data = os.urandom(SPOOL_MAX_SIZE * 2 + 17)
    small = os.urandom(1000)
    with serve(Ravyn(routes=[archive])) as address, httpx.Client(timeout=60) as http:
        big = http.post(f"http://{address}/archive", files={"bundle": ("a.tar", data)}).json()
        little = http.post(f"http://{address}/archive", files={"bundle": ("b", small)}).json()
    assert big == {
        "on_disk": True,
        "size": len(data),
        "digest": hashlib.sha256(data).hexdigest(),
    }
    assert little["on_disk"] is False and little["size"] == 1000


def test_uploads_are_closed_when_the_request_ends_also_when_the_handler_raises():
    received: list[UploadFile] = []

    @post("/keep")
    async def keep(bundle: UploadFile, small: UploadFile, refuse: bool = False) -> dict:
        received.extend((bundle, small))
        if refuse:
            raise HTTPException(409, "refused")
        return {"open": not bundle.file.closed and not small.file.closed}

    files = {"bundle": ("big", os.urandom(SPOOL_MAX_SIZE + 1)), "small": ("s", b"1")}
    with TestClient(Ravyn(routes=[keep])) as client:
        kept = client.post("/keep", files=files)
        refused = client.post("/keep", files=files, data={"refuse": "true"})
    assert kept.json() == {"open": True}  # open while the handler runs
    assert refused.status_code == 409
    assert len(received) == 4 and received[0].file._rolled  # one of them on disk
    assert [upload.file.closed for upload in received] == [True] * 4


def test_without_the_forms_extra_a_multipart_body_names_the_extra(monkeypatch):
    from ravyn.exceptions import ImproperlyConfigured
    from ravyn.routing.forms import _MultipartReader

    monkeypatch.setitem(sys.modules, "python_multipart.multipart", None)  # not installed
    with pytest.raises(ImproperlyConfigured, match="'forms' extra"):
        _MultipartReader(b"multipart/form-data; boundary=x", 10, 10)
