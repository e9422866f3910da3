from lilya.middleware import DefineMiddleware
from lilya.middleware.cors import CORSMiddleware
from lilya.middleware.trustedhost import TrustedHostMiddleware

from ravyn import Ravyn, get


class TimingHeaderMiddleware:
    """A plain ASGI middleware: adds a header to every HTTP response."""

    def __init__(self, app, header: str = "x-served-by") -> None:
        self.app = app
        self.header = header.encode()

    async def __call__(self, scope, receive, send):
        async def send_with_header(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (self.header, b"ravyn")]
            await send(message)

        await self.app(scope, receive, send_with_header)


@get("/")
async def home() -> dict:
    return {"hello": "world"}


app = Ravyn(
    routes=[home],
    middleware=[
        CORSMiddleware,  # a class followed by a dict of its options
        {"allow_origins": ["https://example.com"], "allow_methods": ["*"]},
        DefineMiddleware(TrustedHostMiddleware, allowed_hosts=["testserver", "127.0.0.1"]),
        TimingHeaderMiddleware,  # a bare class: default options
    ],
)
