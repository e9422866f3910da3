# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
from ravyn import post
from ravyn import observable


# Correct
@post("/register")
@observable(send=["user_registered"])
async def register(email: str) -> dict:
    return {"registered": True}


@observable(listen=["user_registered"])
async def send_email():
    print("Sending email...")
