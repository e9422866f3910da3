"""The event bridge: chosen events from the bus to WebSocket and Server-Sent Events clients."""

from ravyn.bridge.event_bridge import EventBridge

__all__ = ["EventBridge"]
