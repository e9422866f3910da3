"""App settings reach the routes when they are finalized; a request never asks the app."""

import pytest

from ravyn import Gateway, HTTPException, Ravyn, RavynSettings, post
from ravyn.routing.route_settings import DEFAULT_ROUTE_SETTINGS
from ravyn.utils.decorators import observable

pytestmark = pytest.mark.timeout(30)


async def call(endpoint, body: bytes) -> list[dict]:
    """One request straight to a route's endpoint, with no app in its scope."""
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo",
        "raw_path": b"/echo",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
    }

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    await endpoint(scope, receive, send)
    return sent


async def test_a_route_applies_the_settings_of_the_app_that_finalized_it():
    @post("/echo")
    @observable(send=["echoed"])
    async def echo(text: str) -> dict:
        return {"text": text}

    app = Ravyn(
        routes=[echo],
        settings=RavynSettings(max_body_size=32, wait_for_listeners=True),
    )
    [endpoint] = [route.endpoint for route in app.routes if getattr(route, "path", "") == "/echo"]
    assert endpoint.settings is app.route_settings
    assert endpoint.settings.max_body_size == 32 and app.wait_for_listeners is True

    small = await call(endpoint, b'{"text": "hi"}')
    assert small[0]["status"] == 201  # a POST that creates
    with pytest.raises(HTTPException) as refused:  # the app's limit; the scope has no app
        await call(endpoint, b'{"text": "' + b"x" * 64 + b'"}')
    assert refused.value.status_code == 413


def test_a_route_outside_an_app_uses_the_defaults():
    @post("/echo")
    async def echo(text: str) -> dict:
        return {"text": text}

    gateway = Gateway("/", handler=echo)
    assert gateway.endpoint.settings is DEFAULT_ROUTE_SETTINGS
