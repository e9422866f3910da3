"""The Authentication page's sample, served by a real uvicorn: password login, bearer
token, signed cookie, roles, a guarded controller, Include and WebSocket."""

import httpx
import pytest
from openapi_spec_validator import validate
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ravyn.exceptions import ImproperlyConfigured
from tests.web.helpers import load_docs_module, serve

pytestmark = pytest.mark.timeout(60)

SECRET = "a-test-secret-that-is-long-enough-0123456789"


def test_the_sample_refuses_to_start_without_a_secret_in_production(monkeypatch):
    monkeypatch.delenv("RAVYN_SECRET_KEY", raising=False)
    monkeypatch.delenv("RAVYN_DEBUG", raising=False)
    with pytest.raises(ImproperlyConfigured, match="RAVYN_SECRET_KEY"):
        load_docs_module("docs_src/auth/app.py")


def test_the_sample_on_a_real_server(monkeypatch):
    monkeypatch.setenv("RAVYN_SECRET_KEY", SECRET)
    module = load_docs_module("docs_src/auth/app.py")
    with serve(module.app) as address, httpx.Client(base_url=f"http://{address}") as client:
        anonymous = client.get("/me")
        assert (anonymous.status_code, anonymous.json()) == (
            401,
            {"detail": "Log in first: POST /login"},
        )
        wrong = client.post("/login", json={"name": "ada", "password": "nope"})
        assert wrong.status_code == 401
        for password in ("", "nope"):
            unknown = client.post("/login", json={"name": "eve", "password": password})
            assert (unknown.status_code, unknown.json()) == (
                401,
                {"detail": "Wrong name or password."},
            )
        token = client.post("/login", json={"name": "ada", "password": "lovelace"}).json()["token"]
        ada = {"authorization": f"Bearer {token}"}
        assert client.get("/me", headers=ada).json() == {"name": "ada"}
        assert client.get("/reports", headers=ada).json() == ["weekly report for ada"]
        assert client.get("/reports/audit", headers=ada).json() == {"audit": "ok"}
        assert client.get("/admin/stats", headers=ada).json() == {"users": 2}
        forged = {"authorization": f"Bearer {token[:-3]}abc"}
        assert client.get("/me", headers=forged).status_code == 401

        bob_cookie = module.auth.create_signed_cookie_value("2")
        bob = {"cookie": f"session={bob_cookie}"}
        assert client.get("/me", headers=bob).json() == {"name": "bob"}
        assert client.get("/reports", headers=bob).status_code == 200
        assert client.get("/reports/audit", headers=bob).status_code == 403
        assert client.get("/admin/stats", headers=bob).status_code == 403
        assert client.get("/admin/stats").status_code == 401
        assert client.get("/me", headers={"cookie": "session=2"}).status_code == 401  # unsigned

        with connect(f"ws://{address}/ws/notifications", additional_headers=ada) as socket:
            assert socket.recv(timeout=10) == '{"hello":"ada"}'
        with pytest.raises(InvalidStatus) as refused:  # refused before accept: the handshake
            connect(f"ws://{address}/ws/notifications", open_timeout=10)
        assert refused.value.response.status_code == 403


def test_the_openapi_document_shows_which_routes_are_guarded(monkeypatch):
    monkeypatch.setenv("RAVYN_SECRET_KEY", SECRET)
    module = load_docs_module("docs_src/auth/app.py")
    with serve(module.app) as address:
        document = httpx.get(f"http://{address}/openapi.json").json()
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "Auth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    security = {
        (method, path): operation.get("security")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    guarded = [{"Auth": []}]
    assert security == {
        ("post", "/login"): None,
        ("get", "/me"): guarded,
        ("get", "/reports"): guarded,  # the controller's guard
        ("get", "/reports/audit"): guarded,  # role_required on a method
        ("get", "/admin/stats"): guarded,  # role_required on an Include
    }
