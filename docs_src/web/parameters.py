import msgspec

from ravyn import Cookie, Header, Query, Ravyn, get, post


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


@get("/items/{item_id}")
async def read_item(
    item_id: int, q: str | None = None, tags: list[str] = Query(default=[])
) -> dict:
    return {"item_id": item_id, "q": q, "tags": tags}  # /items/3?tags=a&tags=b


@post("/items")
async def create_item(item: Item) -> Item:  # a Struct (or dataclass, TypedDict, dict): the body
    return item


@post("/register")
async def register(email: str, password: str) -> dict:  # scalars of a POST: body fields
    return {"email": email}


@get("/whoami")
async def whoami(
    token: str = Header(alias="x-token"),
    session: str | None = Cookie(default=None),
) -> dict:
    return {"token": token, "session": session}


app = Ravyn(routes=[read_item, create_item, register, whoami])
