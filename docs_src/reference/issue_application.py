# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them.
class Service:
    """Your database pool or API client."""

    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def connect() -> Service:
    return Service()


class MyService:
    greeting = "hello from an extension"


from contextlib import asynccontextmanager
from lilya.middleware.cors import CORSMiddleware
from ravyn import Ravyn, get, post, Inject, Request
from ravyn.exceptions import NotAuthorized
from ravyn.extensions import Extension


@asynccontextmanager
async def lifespan(app: Ravyn):
    app.state.service = await connect()
    yield
    await app.state.service.close()


def get_database():
    return {"db": "connection"}


@get("/users", dependencies={"db": Inject(get_database)})
def list_users(db: dict) -> dict:  # sync handlers run in a worker thread
    return {"users": ["Alice"], "db": db}


class MyServiceExtension(Extension):
    def extend(self, app: Ravyn, **kwargs):
        app.state.my_service = MyService()


app = Ravyn(
    middleware=[CORSMiddleware, {"allow_origins": ["*"], "allow_methods": ["*"]}],
    lifespan=lifespan,
    extensions={"my_service": MyServiceExtension()},
)
app.add_route(list_users)
