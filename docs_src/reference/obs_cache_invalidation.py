# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them: a product table in memory.
products_db: dict[int, dict] = {1: {"id": 1, "name": "pen", "price": 2.0}}
database_reads: list[str] = []


async def fetch_products_from_db() -> list:
    database_reads.append("products")
    return list(products_db.values())


async def save_product(name: str, price: float) -> dict:
    product = {"id": max(products_db, default=0) + 1, "name": name, "price": price}
    products_db[product["id"]] = product
    return product


async def update_product_in_db(product_id: int, name: str, price: float) -> None:
    products_db[product_id] = {"id": product_id, "name": name, "price": price}


async def delete_product_from_db(product_id: int) -> None:
    products_db.pop(product_id, None)


from ravyn import get, post, put, delete
from ravyn import observable
from ravyn.utils.decorators import cache
from ravyn.core.caches.memory import InMemoryCache

cache_backend = InMemoryCache()


# Cached GET endpoint
@get("/products")
@cache(ttl=600, backend=cache_backend)
async def get_products() -> dict:
    """Fetch all products (cached for 10 minutes)"""
    products = await fetch_products_from_db()
    return {"products": products}


# POST endpoint - triggers cache invalidation
@post("/products")
@observable(send=["product_modified"])
async def create_product(name: str, price: float) -> dict:
    product = await save_product(name, price)
    return {"created": True, "product": product}


# PUT endpoint - triggers cache invalidation
@put("/products/{product_id}")
@observable(send=["product_modified"])
async def update_product(product_id: int, name: str, price: float) -> dict:
    await update_product_in_db(product_id, name, price)
    return {"updated": True}


# DELETE endpoint - triggers cache invalidation
@delete("/products/{product_id}")
@observable(send=["product_modified"])
async def delete_product(product_id: int) -> dict:
    await delete_product_from_db(product_id)
    return {"deleted": True}


# Listener: Invalidate product cache
@observable(listen=["product_modified"])
async def invalidate_product_cache():
    """Clear product cache whenever products are modified"""
    print("🔄 Invalidating product cache...")
    await cache_backend.delete("get_products")
