from ravyn import Include, Inject, Ravyn, Request, get
from ravyn.exceptions import NotAuthorized


def verify_token(request: Request) -> None:
    """No handler takes it: it guards every route of the include."""
    if request.headers.get("authorization") != "Bearer admin-token":
        raise NotAuthorized("Invalid token")


@get("/stats")
async def stats() -> dict:
    return {"users": 42}


@get("/health")
async def health() -> dict:
    return {"healthy": True}


app = Ravyn(
    routes=[
        health,  # public
        Include("/admin", routes=[stats], dependencies={"auth": Inject(verify_token)}),
    ]
)
