from lilya.requests import Connection

from ravyn import Include, Ravyn
from ravyn.bridge import EventBridge

# In a real app: look the token up in your session store or verify a signed token.
TOKENS: dict[str, bool | set[str]] = {
    "staff-token": True,  # everything the bridge exposes
    "reader-token": {"new_comment"},  # only this
}


def authorize(connection: Connection) -> bool | set[str]:
    """Browsers cannot set headers on a WebSocket or an EventSource: take the session
    cookie, else a `token` query parameter, else an `Authorization: Bearer` header."""
    token = (
        connection.cookies.get("session")
        or connection.query_params.get("token")
        or connection.headers.get("authorization", "").removeprefix("Bearer ")
    )
    return TOKENS.get(token, False)


bridge = EventBridge(events=["new_comment", "user.*"], authorize=authorize)
app = Ravyn(routes=[Include("/events", app=bridge)])
