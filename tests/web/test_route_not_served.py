"""``route_not_served``: a route that sends events but that the app never serves (a function
forgotten in ``routes=``, or a Controller never mounted) is named in the app's catalogue and
in the log at startup, with what to add."""

from __future__ import annotations

import structlog

from ravyn import Controller, Include, Ravyn, observable, post
from ravyn.events import Registry, use_registry
from ravyn.testclient import TestClient

with use_registry(Registry()) as registry:

    @post("/register")
    @observable(send=["user_registered"])
    async def register() -> dict:
        return {}

    class Orders(Controller):
        path = "/orders"

        @post("/")
        @observable(send=["order_placed"])
        async def place(self) -> dict:
            return {}

    class ShopOrders(Orders):  # serves the inherited route under its own path
        path = "/shop/orders"

    @observable(listen=["user_registered", "order_placed"])
    async def record() -> None:
        pass


def unserved(app: Ravyn) -> dict[str, str]:
    """Sender -> message of each route_not_served warning of ``app``."""
    return {
        warning["sender"]: warning["message"]
        for warning in app.catalogue()["warnings"]
        if warning["kind"] == "route_not_served"
    }


def app_with(*routes) -> Ravyn:
    with use_registry(registry):
        return Ravyn(routes=list(routes))


def test_a_controller_never_mounted_is_named_with_its_class():
    warnings = unserved(app_with(register))
    assert list(warnings) == [f"{__name__}:Orders.place"]
    assert warnings[f"{__name__}:Orders.place"] == (
        f"{__name__}:Orders.place sends 'order_placed' but is not a route of this app, so it "
        "never runs: mount its controller (app.add_route(Orders) or Ravyn(routes=[Orders]))."
    )


def test_a_function_never_added_is_named_as_before():
    warnings = unserved(app_with(Orders))
    assert warnings == {
        f"{__name__}:register": f"{__name__}:register sends 'user_registered' but is not a "
        "route of this app, so it never runs: add it (app.add_route(...) or "
        "Ravyn(routes=[...]))."
    }


def test_a_mounted_controller_is_served_directly_in_an_include_or_through_a_subclass():
    assert unserved(app_with(register, Orders)) == {}
    assert unserved(app_with(register, Include("/api", routes=[Orders]))) == {}
    assert unserved(app_with(register, ShopOrders)) == {}
    added = app_with(register)
    added.add_route(Orders)
    assert unserved(added) == {}


def test_the_warning_is_logged_when_the_app_starts():
    app = app_with(register)
    with structlog.testing.capture_logs() as logs, TestClient(app):
        pass
    warned = [
        entry["sender"]
        for entry in logs
        if entry["event"] == "event_catalogue_warning" and entry.get("kind") == "route_not_served"
    ]
    assert warned == [f"{__name__}:Orders.place"]
