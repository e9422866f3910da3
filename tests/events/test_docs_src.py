"""Every docs_src/events sample runs as the docs show it."""

from __future__ import annotations

from types import ModuleType

import pytest

from ravyn.events import EventBus, Registry, bus_context, use_registry
from tests.support.samples import load_sample

pytestmark = pytest.mark.timeout(20)


def load(name: str) -> tuple[ModuleType, Registry]:
    """Execute a sample as a fresh module, its observables in a registry of its own."""
    module = load_sample(f"events/{name}.py", Registry())
    return module, module.docs_registry


async def run_main(name: str) -> tuple[ModuleType, Registry]:
    """Load a sample and run its ``main()`` with its registry as the process default."""
    module, registry = load(name)
    with use_registry(registry), bus_context(EventBus(registry)):
        await module.main()
    return module, registry


async def test_binding_sample() -> None:
    module, _ = await run_main("binding")
    assert sorted(line.split()[0] for line in module.received) == [
        "audit",
        "counted",
        "invoice",
        "label",
        "ship",
    ]
    assert "invoice #7: 19.50" in module.received
    assert "ship #7 express=False" in module.received


async def test_wildcards_sample() -> None:
    module, _ = await run_main("wildcards")
    assert module.audit_log == ["user.created", "user.deleted"]


async def test_chains_sample() -> None:
    module, _ = await run_main("chains")
    assert [event.name for event in module.trail] == ["file_validated", "file_processed"]


async def test_reliability_sample() -> None:
    module, _ = await run_main("reliability")
    assert module.attempts == [12, 12, 12]


async def test_methods_sample() -> None:
    module, _ = await run_main("methods")
    assert module.mailer.outbox == ["hello@example.com -> ada@example.com: welcome!"]


def test_catalogue_sample() -> None:
    module, _ = load("catalogue")
    kinds = {(w["kind"], w["event"]) for w in module.catalogue["warnings"]}
    assert kinds == {
        ("sent_without_listener", "user_audited"),
        ("listened_but_never_sent", "user_deleted"),
    }


async def test_capture_sample() -> None:
    module, _ = load("test_with_capture")
    await module.test_registration_sends_a_welcome_email()


def test_quick_start_sample_through_the_app() -> None:
    from ravyn.testclient import TestClient

    module, _ = load("quick_start")
    with TestClient(module.app) as client:
        response = client.post("/register", json={"email": "a@b.c", "password": "x"})
        with client.portal() as portal:
            portal.call(module.app.events.idle)
            assert response.json() == {"registered": True, "email": "a@b.c", "user_id": 42}
            assert sorted(module.done) == ["role for user 42", "welcome email"]
            from ravyn.events.testing import capture

            with capture(module.app.events) as captured:
                portal.call(module.app.events.emit, "payment_required", {"order_id": 5})
                portal.call(module.app.events.idle)
    captured.assert_emitted("payment_success", order_id=5)
