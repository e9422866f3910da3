from collections import Counter

from ravyn import Ravyn, get

errors = Counter()  # stands for your metrics client


def count_error(exc: BaseException, details: dict) -> None:
    """Called after the error is logged; keep it quick: it runs where the error happened."""
    errors[(details["event"], type(exc).__name__)] += 1


@get("/checkout")
async def checkout() -> dict:
    raise ConnectionError("the payment service did not answer")


app = Ravyn(routes=[checkout], on_error=count_error)
