from ravyn import Ravyn, Request, get
from ravyn.exceptions import HTTPException, NotFound
from ravyn.responses import JSONResponse


class OutOfStock(Exception):
    def __init__(self, sku: str) -> None:
        self.sku = sku


def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
    return JSONResponse({"detail": f"{exc.sku} is out of stock"}, status_code=409)


@get("/products/{sku}")
async def product(sku: str) -> dict:
    if sku == "missing":
        raise NotFound(f"No product {sku}")
    if sku == "pencil":
        raise OutOfStock(sku)
    if sku == "teapot":
        raise HTTPException(418, "I'm a teapot")
    return {"sku": sku}


app = Ravyn(routes=[product], exception_handlers={OutOfStock: out_of_stock})
