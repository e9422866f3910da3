# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
from ravyn import Ravyn, get, Inject


def get_database():
    return {"db": "connection"}


@get("/users", dependencies={"db": Inject(get_database)})
def list_users(db: dict) -> dict:
    return {"users": ["Alice"], "db": db}


app = Ravyn()
app.add_route(list_users)
