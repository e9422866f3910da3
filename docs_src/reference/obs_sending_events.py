# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
from ravyn import post
from ravyn import observable


@post("/login")
@observable(send=["user_logged_in"])
async def login(email: str, password: str) -> dict:
    # Authenticate user...
    return {"token": "abc123"}
