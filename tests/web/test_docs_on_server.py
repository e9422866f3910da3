"""The documented samples as written, served by a real uvicorn and called over the network."""

import time
from collections.abc import Callable

import httpx
import pytest

from tests.web.helpers import load_docs_module, serve

pytestmark = pytest.mark.timeout(60)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Listeners run in the server's thread after the response: wait for their effect."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still false after {timeout}s: {condition.__doc__ or condition}")
        time.sleep(0.01)


def test_the_issue_application_on_a_real_server():
    module = load_docs_module("docs_src/web/application.py")
    with serve(module.app) as address:
        origin = {"origin": "https://anywhere.example"}
        users = httpx.get(f"http://{address}/users", headers=origin)
        assert users.json() == {"users": ["Alice"], "db": {"db": "connection"}}
        assert users.headers["access-control-allow-origin"] == "*"
        preflight = httpx.options(
            f"http://{address}/login",
            headers={**origin, "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 200
        login = f"http://{address}/login"
        denied = httpx.post(login, json={"username": "ada", "password": "guess"})
        assert (denied.status_code, denied.json()) == (401, {"detail": "Invalid token"})
        allowed = httpx.post(login, json={"username": "ada", "password": "open sesame"})
        assert allowed.json() == {"user": "ada", "service_open": True}
        assert module.app.state.my_service.greeting == "hello from an extension"
    assert module.app.state.service.closed is True  # the lifespan's shutdown ran


def test_the_observables_quick_start_on_a_real_server():
    module = load_docs_module("docs_src/events/quick_start.py")
    with serve(module.app) as address:
        response = httpx.post(
            f"http://{address}/register", json={"email": "ada@example.com", "password": "x"}
        )
        assert (response.status_code, response.json()) == (
            201,
            {"registered": True, "email": "ada@example.com", "user_id": 42},
        )

        def both_listeners_ran() -> bool:
            """send_welcome_email and assign_default_role ran"""
            return sorted(module.done) == ["role for user 42", "welcome email"]

        wait_until(both_listeners_ran)


def test_the_first_app_on_a_real_server():
    module = load_docs_module("docs_src/first_app.py")
    with serve(module.app) as address:
        response = httpx.post(
            f"http://{address}/register",
            json={"email": "ada@example.com", "password": "s3cret"},
            headers={"x-request-id": "req-1"},
        )
        assert response.json()["registered"] is True

        def listeners_ran() -> bool:
            """the welcome email and the audit line"""
            return module.welcomed == ["ada@example.com"] and len(module.audit_log) == 1

        wait_until(listeners_ran)
    assert module.audit_log[0].endswith(" req-1")  # the request id is the correlation id


def test_the_cached_products_sample_on_a_real_server():
    module = load_docs_module("docs_src/caching/products.py")
    with serve(module.app) as address:
        products = f"http://{address}/products"
        assert httpx.get(products).json() == {"products": [{"name": "pen", "price": 1.5}]}
        module.products_db.append({"name": "ink", "price": 3.0})  # behind the cache's back
        assert len(httpx.get(products).json()["products"]) == 1  # served from the cache
        assert httpx.post(products, json={"name": "pad", "price": 2.0}).status_code == 201

        def cache_invalidated() -> bool:
            """the listener dropped the cached list"""
            return len(httpx.get(products).json()["products"]) == 3

        wait_until(cache_invalidated)
