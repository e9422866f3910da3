from ravyn import Ravyn, get, observable, post
from ravyn.core.caches.memory import InMemoryCache
from ravyn.utils.decorators import cache

cache_backend = InMemoryCache()
products_db: list[dict] = [{"name": "pen", "price": 1.5}]


@get("/products")
@cache(ttl=600, backend=cache_backend)
async def get_products() -> dict:
    """Read the products (cached for 10 minutes, or until they change)."""
    return {"products": list(products_db)}


@post("/products")
@observable(send=["product_modified"])
async def create_product(name: str, price: float) -> dict:
    product = {"name": name, "price": price}
    products_db.append(product)
    return {"created": True, "product": product}


@observable(listen=["product_modified"])
async def invalidate_product_cache() -> None:
    """Any change to the products drops the cached list: the next GET reads them again."""
    await cache_backend.delete("get_products")


app = Ravyn(routes=[get_products, create_product])
