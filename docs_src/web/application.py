from contextlib import asynccontextmanager

from lilya.middleware.cors import CORSMiddleware

from ravyn import Inject, Ravyn, Request, get, post
from ravyn.exceptions import NotAuthorized
from ravyn.extensions import Extension


class Service:
    """Stands in for your database pool or API client."""

    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def connect() -> Service:
    return Service()


class MyService:
    greeting = "hello from an extension"


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


@post("/login")
async def login(request: Request, username: str, password: str) -> dict:
    if password != "open sesame":
        raise NotAuthorized("Invalid token")
    return {"user": username, "service_open": not request.app.state.service.closed}


class MyServiceExtension(Extension):
    def extend(self, app: Ravyn, **kwargs):
        app.state.my_service = MyService()


app = Ravyn(
    middleware=[CORSMiddleware, {"allow_origins": ["*"], "allow_methods": ["*"]}],
    lifespan=lifespan,
    extensions={"my_service": MyServiceExtension()},
)
app.add_route(list_users)
app.add_route(login)
