import msgspec

from ravyn import Inject, NotAuthorized, Ravyn, Request, get, post
from ravyn.openapi import SecurityScheme

API_KEY = SecurityScheme("apiKey", {"type": "apiKey", "in": "header", "name": "x-api-key"})


class Product(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


async def require_key(request: Request) -> None:
    if request.headers.get("x-api-key") != "s3cret":
        raise NotAuthorized("Send a valid x-api-key header.")


require_key.openapi_security = API_KEY  # the document shows which credentials it checks


@get("/products/{product_id}", tags=["products"])
async def read_product(product_id: int, currency: str = "EUR") -> Product:
    """Read one product; prices are in `currency`."""
    return Product(name="pen", price=1.5)


@post("/products", tags=["products"], dependencies={"auth": Inject(require_key)})
async def create_product(product: Product) -> Product:
    """Add a product to the catalogue."""
    return product


@get("/legacy/products", deprecated=True, summary="Old listing")
async def legacy_products() -> list[Product]:
    return []


app = Ravyn(
    routes=[read_product, create_product, legacy_products],
    title="Shop API",
    version="1.2.0",
    description="Products and prices.",
)
