from ravyn import Inject, Ravyn, Request, post
from ravyn.exceptions import HTTPException, NotAuthorized

journal: list[str] = []


def require_api_key(request: Request) -> None:
    """A guard: no parameter takes it, it runs first and may refuse the request."""
    if request.headers.get("x-api-key") != "s3cret":
        raise NotAuthorized("Send a valid X-API-Key header.")
    request.state.client = "billing-service"


async def transaction():
    """A generator dependency: commit when the request succeeded, roll back when it failed."""
    journal.append("begin")
    try:
        yield journal
    except Exception:
        journal.append("rollback")
        raise
    else:
        journal.append("commit")


@post(
    "/transfers",
    dependencies={"auth": Inject(require_api_key), "tx": Inject(transaction)},
)
async def transfer(request: Request, tx: list, amount: int) -> dict:
    if amount <= 0:
        raise HTTPException(400, "The amount must be positive.")
    tx.append(f"move {amount}")
    return {"moved": amount, "by": request.state.client}


app = Ravyn(routes=[transfer])
