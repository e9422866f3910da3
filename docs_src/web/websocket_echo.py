from ravyn import Ravyn, WebSocket, websocket


@websocket("/echo")
async def echo(socket: WebSocket) -> None:
    await socket.accept()
    async for message in socket.iter_text():
        await socket.send_json({"echo": message})


app = Ravyn(routes=[echo])
