"""The WebSocket object websocket handlers receive by annotation: Lilya's."""

from lilya.websockets import WebSocket, WebSocketDisconnect

__all__ = ["WebSocket", "WebSocketDisconnect"]
