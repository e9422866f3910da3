"""app.py: the routes, and the modules whose listeners the app needs."""

from ravyn import Ravyn, observable, post


@post("/register")
@observable(send=["user_registered"])
async def register(email: str) -> dict:
    return {"email": email, "user_id": 42}


app = Ravyn(routes=[register], observers=["listeners"])  # imports listeners.py
