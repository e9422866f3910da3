import anyio

from ravyn import Ravyn, get
from ravyn.resilience import timeout_route


# Use for operations that might hang
@get("/slow")
@timeout_route(5.0)
async def slow_operation(seconds: float = 0.0) -> dict:
    await anyio.sleep(seconds)  # stands in for a call that may hang
    return {"done": True}


app = Ravyn(routes=[slow_operation])
