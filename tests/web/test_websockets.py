import pytest
from structlog.testing import capture_logs

from ravyn.app import Ravyn
from ravyn.exceptions import ImproperlyConfigured
from ravyn.routing import Inject, WebSocketGateway, websocket
from ravyn.testclient import TestClient
from ravyn.websockets import WebSocket, WebSocketDisconnect

pytestmark = pytest.mark.timeout(30)


@websocket("/rooms/{room_id}", dependencies={"motd": Inject(lambda: "welcome")})
async def room(socket: WebSocket, room_id: int, motd: str) -> None:
    await socket.accept()
    await socket.send_json({"room": room_id, "motd": motd})
    await socket.receive_text()  # raises WebSocketDisconnect when the client leaves


@websocket("/broken")
async def broken(socket: WebSocket) -> None:
    await socket.accept()
    raise RuntimeError("handler bug")


def test_path_parameters_and_dependencies_bind_and_leaving_is_not_an_error():
    client = TestClient(Ravyn(routes=[WebSocketGateway("/chat", handler=room)]))
    with capture_logs() as logs, client.websocket_connect("/chat/rooms/7") as socket:
        assert socket.receive_json() == {"room": 7, "motd": "welcome"}
    assert [log for log in logs if log["log_level"] == "error"] == []


def test_a_failing_handler_closes_with_1011_and_is_logged():
    client = TestClient(Ravyn(routes=[broken]))
    with (
        capture_logs() as logs,
        client.websocket_connect("/broken") as socket,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        socket.receive_text()
    assert closed.value.code == 1011
    assert [log["event"] for log in logs if log["log_level"] == "error"] == [
        "websocket_handler_failed"
    ]


def test_unknown_websocket_path_is_refused():
    client = TestClient(Ravyn(routes=[broken]))
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/nowhere"):
        pass


def test_add_websocket_route_serves_under_an_optional_prefix():
    app = Ravyn()
    app.add_websocket_route(room, prefix="/chat")
    with TestClient(app).websocket_connect("/chat/rooms/3") as socket:
        assert socket.receive_json() == {"room": 3, "motd": "welcome"}


def test_add_websocket_route_refuses_a_plain_function():
    async def not_decorated(socket: WebSocket) -> None: ...

    with pytest.raises(ImproperlyConfigured, match="@websocket"):
        Ravyn().add_websocket_route(not_decorated)
