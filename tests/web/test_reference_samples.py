"""The samples users copy from the reference pages and the issues (docs_src/reference/),
run as written through the test client: the responses, and that the listeners ran."""

from __future__ import annotations

import base64
import functools
from types import ModuleType
from typing import Any

import pytest

from ravyn import Ravyn
from ravyn.events import use_registry
from ravyn.events.testing import capture
from ravyn.testclient import TestClient
from tests.support.servers import RedisServer
from tests.web.helpers import load_docs_module

pytestmark = pytest.mark.timeout(30)


def load(name: str) -> ModuleType:
    return load_docs_module(f"docs_src/reference/{name}.py")


def app_around(module: ModuleType, *handlers: Any) -> Ravyn:
    """An app for a sample that declares handlers and listeners but no app."""
    with use_registry(module.docs_registry):
        return Ravyn(routes=list(handlers))


@pytest.fixture
def redis_url(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A redis-server of the test's own, named in REDIS_URL as the samples read it."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    return redis_server.url


# -- the observables page -------------------------------------------------------------


def test_quick_start_runs_both_listeners(capsys):
    module = load("obs_quick_start")
    with TestClient(module.app) as client:
        response = client.post("/register", json={"email": "ada@example.com", "password": "x"})
        client.wait_idle()
    assert (response.status_code, response.json()) == (
        201,
        {"registered": True, "email": "ada@example.com"},
    )
    out = capsys.readouterr().out
    assert "Sending welcome email..." in out and "Assigning default role..." in out


def test_singular_background_task_annotation_gets_add_task(capsys):
    module = load("obs_observables_vs_background_tasks")
    with TestClient(app_around(module, module.register, module.process_data)) as client:
        assert client.post("/register", json={"email": "a@b.c"}).json() == {"registered": True}
        client.wait_idle()
        processing = client.post("/process")
    assert (processing.status_code, processing.json()) == (201, {"processing": True})
    assert module.computed == ["done"]
    out = capsys.readouterr().out
    assert "Sending email..." in out and "Logging analytics..." in out


def test_sending_and_listening_samples_meet_on_one_bus(capsys):
    sending, listening = load("obs_sending_events"), load("obs_listening_events")
    with TestClient(app_around(listening, sending.login)) as client:
        response = client.post("/login", json={"email": "a@b.c", "password": "x"})
        client.wait_idle()
    assert response.json() == {"token": "abc123"}
    out = capsys.readouterr().out
    assert "Logging user login activity..." in out
    assert "Updating last login timestamp..." in out


def test_one_handler_sends_two_events_to_one_listener(capsys):
    module = load("obs_multiple_events")
    with TestClient(app_around(module, module.process_purchase)) as client:
        assert client.post("/purchase").json() == {"order_id": 123}
        client.wait_idle()
    assert capsys.readouterr().out.count("Sending confirmation...") == 2


def test_user_registration_listeners_bind_email_and_user_id():
    module = load("obs_user_registration")
    with TestClient(module.app) as client:
        response = client.post(
            "/register", json={"email": "ada@example.com", "name": "Ada", "password": "x"}
        )
        client.wait_idle()
    assert response.json() == {
        "message": "User registered successfully!",
        "user_id": 42,
        "email": "ada@example.com",
    }
    assert sorted(module.calls) == [
        ("assign_role", 42, "user"),
        ("create_profile", 42),
        ("log_analytics_event", "user_registered", 42),
        ("send_email", "ada@example.com", "welcome"),
    ]


def test_order_pipeline_chains_payment_to_inventory_and_warehouse():
    module = load("obs_order_processing")
    order = {
        "user_id": 5,
        "items": [{"product_id": 1, "quantity": 2, "price": 3.5}],
        "payment_method": "card",
    }
    with TestClient(app_around(module, module.create_order)) as client:
        response = client.post("/orders", json=order)
        client.wait_idle()
    assert response.status_code == 201
    assert response.json()["total"] == 7.0
    assert sorted(module.calls) == [
        ("charge_payment", "card", 7.0),
        ("log_analytics", "order_created", 1001, 7.0),
        ("reduce_stock", 1, 2),
        ("send_email", 5, "order_confirmation", 1001),
        ("send_warehouse_notification", 1001),
    ]


def test_declined_payment_stops_the_pipeline():
    module = load("obs_order_processing")
    order = {
        "user_id": 5,
        "items": [{"product_id": 1, "quantity": 1}],
        "payment_method": "declined-card",
    }
    with TestClient(app_around(module, module.create_order)) as client:
        client.post("/orders", json=order)
        client.wait_idle()
    names = sorted(call[0] for call in module.calls)
    assert names == ["charge_payment", "log_analytics", "send_email"]  # no payment_success


def test_comment_is_broadcast_to_an_unannotated_websocket_parameter():
    module = load("obs_websocket_notifications")
    app = app_around(module, module.websocket_endpoint, module.add_comment)
    with TestClient(app) as client:
        with client.websocket_connect("/ws") as ws:
            assert len(module.active_connections) == 1
            response = client.post("/comment", json={"post_id": 3, "user_id": 4, "content": "hi"})
            assert ws.receive_json() == {"type": "new_comment", "post_id": 3, "content": "hi"}
        client.wait_idle()
    assert response.json()["comment_id"] == 7
    assert module.active_connections == []  # the bare except removed the closed socket
    assert module.emails == [("author@example.com", "new_comment")]


def test_product_changes_invalidate_the_cached_list():
    module = load("obs_cache_invalidation")
    app = app_around(
        module,
        module.get_products,
        module.create_product,
        module.update_product,
        module.delete_product,
    )
    with TestClient(app) as client:
        first = client.get("/products").json()
        assert client.get("/products").json() == first
        assert module.database_reads == ["products"]  # the second read came from the cache

        assert client.post("/products", json={"name": "ink", "price": 5}).status_code == 201
        client.wait_idle()
        names = [product["name"] for product in client.get("/products").json()["products"]]
        assert names == ["pen", "ink"]

        updated = client.put("/products/1", json={"name": "pen", "price": 3})
        assert updated.json() == {"updated": True}
        client.wait_idle()
        assert client.get("/products").json()["products"][0]["price"] == 3.0

        deleted = client.delete("/products/1")
        client.wait_idle()
        ids = [product["id"] for product in client.get("/products").json()["products"]]
    assert (deleted.status_code, deleted.content) == (204, b"")  # no body with a 204
    assert ids == [2]
    assert len(module.database_reads) == 4


def test_file_pipeline_valid_upload_is_processed_and_thumbnailed():
    module = load("obs_file_pipeline")
    upload = {"filename": "photo.png", "file_data": base64.b64encode(b"PNGDATA").decode()}
    with TestClient(app_around(module, module.upload_file)) as client:
        response = client.post("/upload", json=upload)
        client.wait_idle()
    assert response.json()["path"] == "/uploads/photo.png"
    assert module.storage == {"/uploads/photo.png": b"PNGDATA"}  # bytes arrive base64-decoded
    assert sorted(module.calls) == [
        ("create_thumbnail", "/uploads/photo.png"),
        ("save_extracted_data", b"PNGDATA"),
        ("send_email", "uploader@example.com", "file_processed"),
    ]


def test_file_pipeline_invalid_upload_is_deleted_and_reported():
    module = load("obs_file_pipeline")
    upload = {"filename": "virus.exe", "file_data": base64.b64encode(b"MZ").decode()}
    with TestClient(app_around(module, module.upload_file)) as client:
        client.post("/upload", json=upload)
        not_base64 = client.post("/upload", json={"filename": "a.csv", "file_data": "%%%"})
        client.wait_idle()
    assert module.storage == {}
    assert module.calls == [("send_email", "uploader@example.com", "file_invalid")]
    assert not_base64.status_code == 422
    assert not_base64.json()["detail"][0]["loc"] == ["body", "file_data"]


async def test_scheduled_cleanup_fans_out_to_five_listeners():
    module = load("obs_scheduled_cleanup")
    assert "daily_cleanup" in [job.name for job in module.app.events.registry.jobs]
    module.app.enable_scheduler = False  # the job fires at 2 AM: call it by hand
    async with module.app.running():
        assert await module.run_daily_cleanup() == {"status": "cleanup_started"}
        await module.app.events.idle()
    assert sorted(module.calls) == [
        "cleanup_logs:30",
        "delete_temp_files",
        "move_to_archive:90",
        "run_db_optimization",
        "send_admin_email:cleanup_report",
    ]


def test_pitfall_fixes_deliver(capsys):
    decorated, named = load("obs_pitfall_missing_decorator"), load("obs_pitfall_event_name")
    with TestClient(app_around(decorated, decorated.register)) as client:
        assert client.post("/register", json={"email": "a@b.c"}).json() == {"registered": True}
        client.wait_idle()
    with TestClient(app_around(named, named.register)) as client:
        assert client.post("/register").json() == {}
        client.wait_idle()
    out = capsys.readouterr().out
    assert "Sending email..." in out and "Email\n" in out


async def test_non_blocking_listener_queues_its_work():
    module = load("obs_pitfall_blocking_listener")
    app = app_around(module)
    async with app.running():
        await app.events.emit("user_registered", {}, wait=True)
    assert module.email_queue.queued == 1


async def test_failing_listener_does_not_stop_the_safe_one():
    module = load("obs_pitfall_listener_error")
    app = app_around(module)
    async with app.running():
        with capture(app.events) as captured:
            await app.events.emit("payment_success", {}, wait=True)
    assert module.payments == ["processed"]
    [failure] = captured.failed()
    assert failure.listener.endswith("failing_listener") and str(failure.error) == "Oops!"


# -- the external packages page -------------------------------------------------------


def test_cors_middleware_as_class_then_options():
    module = load("ext_middleware")
    client = TestClient(module.app)
    preflight = client.options(
        "/anything",
        headers={"origin": "https://a.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    missing = client.get("/anything", headers={"origin": "https://a.example"})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == "*"


@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")  # as written
def test_lifespan_connects_redis_on_startup(redis_url):
    module = load("ext_lifespan_redis")
    with TestClient(module.app) as client, client.portal() as portal:
        assert portal.call(module.app.state.redis.ping) is True


def test_dependency_sample():
    client = TestClient(load("ext_dependencies").app)
    assert client.get("/users").json() == {"users": ["Alice"], "db": {"db": "connection"}}


def test_extension_sets_app_state():
    module = load("ext_extensions")
    assert module.app.state.my_service.get_data() == {"data": "from my service"}
    assert isinstance(module.app.extensions["my_service"], module.MyServiceExtension)


def test_jwt_guard_dependency_runs_although_the_handler_does_not_take_it():
    module = load("ext_jwt")
    client = TestClient(module.app)
    missing = client.get("/protected")
    assert (missing.status_code, missing.json()) == (401, {"detail": "Invalid token"})
    forged = module.jwt.encode({"sub": "eve"}, "another-key")
    denied = client.get("/protected", headers={"Authorization": f"Bearer {forged}"})
    assert denied.status_code == 401
    token = module.jwt.encode({"sub": "ada"}, module.SECRET_KEY)
    allowed = client.get("/protected", headers={"Authorization": f"Bearer {token}"})
    assert (allowed.status_code, allowed.json()) == (200, {"user": {"sub": "ada"}})


def test_sqlalchemy_session_from_app_state_and_engine_disposed():
    module = load("ext_sqlalchemy")
    with TestClient(module.app) as client:
        assert client.get("/users").json() == {"users": [[1, "Alice"]]}
        assert module.engines[0].disposed is False
    assert module.engines[0].disposed is True


@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")  # as written
def test_redis_cache_value_from_body_or_query(redis_url):
    module = load("ext_redis_cache")
    with TestClient(module.app) as client:
        from_body = client.post("/cache/greeting", json={"value": "hello"})
        from_query = client.post("/cache/colour?value=blue")
        greeting = client.get("/cache/greeting").json()
        colour = client.get("/cache/colour").json()
        missing = client.post("/cache/nothing")
    assert from_body.json() == from_query.json() == {"cached": True}
    # redis returns bytes, and bytes travel as base64 in JSON (lossless, like file uploads)
    assert greeting["key"] == "greeting" and base64.b64decode(greeting["value"]) == b"hello"
    assert base64.b64decode(colour["value"]) == b"blue"
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "value"]


def test_sync_handler_queues_a_celery_task():
    module = load("ext_celery")
    response = TestClient(module.app).post("/send-email", json={"to": "a@b.c", "subject": "Hi"})
    assert (response.status_code, response.json()) == (201, {"queued": True})
    assert module.queued == [("send_email", ("a@b.c", "Hi"), {})]


def test_handler_returns_what_a_service_on_app_state_gives():
    assert TestClient(load("ext_app_state").app).get("/data").json() == {"data": [1, 2, 3]}


def test_blocking_call_runs_in_a_thread():
    module = load("ext_blocking_calls")
    response = TestClient(app_around(module, module.list_users)).get("/users")
    assert response.json() == {"users": ["Alice", "Bob"]}
    assert module.sync_database.threads[0].startswith("asyncio_")


# -- the issues -------------------------------------------------------------------------


def test_issue_observables_bind_fields_and_chain_through_the_envelope():
    module = load("issue_observables")
    with TestClient(module.app) as client:
        response = client.post("/register", json={"email": "a@b.c", "password": "x"})
        with client.portal() as portal:
            emit = functools.partial(
                module.app.events.emit, "payment_required", {"order_id": 9}, wait=True
            )
            portal.call(emit)
        client.wait_idle()
    assert response.json() == {"registered": True, "email": "a@b.c", "user_id": 42}
    assert sorted(module.ran) == [
        ("assign_default_role", 42),
        ("payment_success", 9),
        ("send_welcome_email",),
    ]
