"""Every docs_src sample of the web pages, run as the docs show it."""

import json

import pytest

from ravyn.testclient import TestClient
from tests.web.helpers import load_docs_module

pytestmark = pytest.mark.timeout(30)


def test_first_app_registers_and_its_listeners_run():
    module = load_docs_module("docs_src/first_app.py")
    with TestClient(module.app) as client:
        assert client.get("/").json() == {"hello": "world"}
        response = client.post(
            "/register",
            json={"email": "ada@example.com", "password": "s3cret"},
            headers={"x-request-id": "first-app-1"},
        )
        client.wait_idle()
    assert response.status_code == 201
    assert response.json() == {"registered": True, "email": "ada@example.com", "user_id": 42}
    assert module.welcomed == ["ada@example.com"]
    [line] = module.audit_log
    assert line.startswith("user_registered ") and line.endswith(" first-app-1")


def test_issue_application_runs_as_written():
    module = load_docs_module("docs_src/web/application.py")
    app = module.app
    with TestClient(app) as client:
        assert isinstance(app.state.service, module.Service)
        assert app.state.my_service.greeting == "hello from an extension"
        users = client.get("/users", headers={"origin": "https://anywhere.example"})
        assert users.json() == {"users": ["Alice"], "db": {"db": "connection"}}
        assert users.headers["access-control-allow-origin"] == "*"
        denied = client.post("/login", json={"username": "ada", "password": "guess"})
        assert (denied.status_code, denied.json()) == (401, {"detail": "Invalid token"})
        allowed = client.post("/login", json={"username": "ada", "password": "open sesame"})
        assert allowed.json() == {"user": "ada", "service_open": True}
    assert app.state.service.closed is True


def test_parameters_sample():
    client = TestClient(load_docs_module("docs_src/web/parameters.py").app)
    assert client.get("/items/3?tags=a&tags=b").json() == {
        "item_id": 3,
        "q": None,
        "tags": ["a", "b"],
    }
    assert client.post("/items", json={"name": "pen", "price": 2}).json() == {
        "name": "pen",
        "price": 2.0,
        "tags": [],
    }
    assert client.post("/register", json={"email": "a@b.c", "password": "x"}).json() == {
        "email": "a@b.c"
    }
    whoami = client.get("/whoami", headers={"x-token": "t", "cookie": "session=s"})
    assert whoami.json() == {"token": "t", "session": "s"}


def test_dependencies_sample():
    module = load_docs_module("docs_src/web/dependencies.py")
    response = TestClient(module.app).get("/api/profile", headers={"x-user": "ada"})
    assert response.json() == {"user": "ada", "region": "eu"}
    assert module.events == ["session opened", "session closed"]


def test_exceptions_sample():
    client = TestClient(load_docs_module("docs_src/web/exceptions.py").app)
    assert client.get("/products/missing").json() == {"detail": "No product missing"}
    pencil = client.get("/products/pencil")
    assert (pencil.status_code, pencil.json()) == (409, {"detail": "pencil is out of stock"})
    assert client.get("/products/teapot").status_code == 418
    assert client.get("/products/pen").json() == {"sku": "pen"}


def test_websocket_sample():
    client = TestClient(load_docs_module("docs_src/web/websocket_echo.py").app)
    with client.websocket_connect("/echo") as socket:
        socket.send_text("hello")
        assert socket.receive_json() == {"echo": "hello"}


def test_observable_route_sample():
    module = load_docs_module("docs_src/web/observable_route.py")
    with TestClient(module.app) as client:
        assert client.post("/orders", json={"sku": "pen", "quantity": 0}).status_code == 400
        assert client.post("/payments", json={"order_id": 1, "amount": 9.5}).status_code == 201
        assert [event.name for event in module.received] == ["payment_received"]  # waited
        client.post("/orders", json={"sku": "pen", "quantity": 2})
        client.wait_idle()
    assert [event.payload for event in module.received] == [
        {"order_id": 1, "amount": 9.5},
        {"sku": "pen", "quantity": 2},
    ]


def test_middleware_sample():
    client = TestClient(load_docs_module("docs_src/web/middleware.py").app)
    response = client.get("/", headers={"origin": "https://example.com"})
    assert response.headers["access-control-allow-origin"] == "https://example.com"
    assert response.headers["x-served-by"] == "ravyn"
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def test_settings_logging_sample(monkeypatch, capsys):
    import structlog

    monkeypatch.setenv("RAVYN_LOG_JSON", "true")
    try:
        module = load_docs_module("docs_src/web/settings_logging.py")
        assert TestClient(module.app).get("/health").json() == {"healthy": True}
        records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        assert any(record["event"] == "health_checked" for record in records)
        assert any(record["event"] == "request" and record["status"] == 200 for record in records)
    finally:
        structlog.reset_defaults()


def test_gateways_sample():
    client = TestClient(load_docs_module("docs_src/web/gateways.py").app)
    assert client.get("/v1/users").json() == ["Alice", "Bob"]
    assert client.get("/v2/users").json() == ["Alice", "Bob"]
    assert client.get("/v2/users/5").json() == {"user_id": 5}


def test_background_sample():
    module = load_docs_module("docs_src/web/background.py")
    assert TestClient(module.app).post("/checkout", json={"email": "a@b.c"}).json() == {"ok": True}
    assert module.outbox == ["a@b.c"]


def test_testing_sample():
    load_docs_module("docs_src/web/testing_example.py").test_register_welcomes_the_user()


def test_guarded_include_sample_guards_every_route_under_admin():
    client = TestClient(load_docs_module("docs_src/web/guarded_include.py").app)
    assert client.get("/health").json() == {"healthy": True}
    refused = client.get("/admin/stats")
    assert (refused.status_code, refused.json()) == (401, {"detail": "Invalid token"})
    allowed = client.get("/admin/stats", headers={"authorization": "Bearer admin-token"})
    assert allowed.json() == {"users": 42}


def test_dependency_guards_sample_refuses_commits_and_rolls_back():
    module = load_docs_module("docs_src/web/dependency_guards.py")
    client = TestClient(module.app)
    refused = client.post("/transfers", json={"amount": 5})
    assert (refused.status_code, refused.json()) == (
        401,
        {"detail": "Send a valid X-API-Key header."},
    )
    assert module.journal == []  # the guard ran first: no transaction was opened
    key = {"x-api-key": "s3cret"}
    done = client.post("/transfers", json={"amount": 5}, headers=key)
    assert done.json() == {"moved": 5, "by": "billing-service"}
    assert client.post("/transfers", json={"amount": 0}, headers=key).status_code == 400
    assert module.journal == ["begin", "move 5", "commit", "begin", "rollback"]


def test_uploads_sample():
    client = TestClient(load_docs_module("docs_src/web/uploads.py").app)
    assert client.post("/login", data={"username": "ada", "password": "x"}).json() == {
        "username": "ada"
    }
    photos = [
        ("photo", ("a.jpg", b"1234", "image/jpeg")),
        ("photo", ("b.jpg", b"12", "image/jpeg")),
    ]
    response = client.post("/photos", data={"album": "trip"}, files=photos)
    assert response.json() == {"album": "trip", "sizes": {"a.jpg": 4, "b.jpg": 2}}
    assert client.post("/reviews", json={"stars": 5}).json() == {"stars": 5, "text": ""}
    assert client.post("/reviews", json={"stars": 9}).json()["detail"][0]["loc"] == [
        "body",
        "stars",
    ]


def test_on_error_sample_counts_the_failure():
    module = load_docs_module("docs_src/web/on_error.py")
    response = TestClient(module.app).get("/checkout")
    assert (response.status_code, response.json()) == (500, {"detail": "Internal Server Error"})
    assert module.errors == {("unhandled_exception", "ConnectionError"): 1}
