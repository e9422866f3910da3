from ravyn import Include, Inject, Ravyn, Request, get

events: list[str] = []


async def get_settings() -> dict:
    return {"region": "eu"}


def get_user(request: Request) -> str:
    return request.headers.get("x-user", "anonymous")


async def get_session(settings: dict):  # takes another dependency by name
    events.append("session opened")
    yield {"region": settings["region"]}
    events.append("session closed")  # runs after the response is sent


@get("/profile", dependencies={"user": Inject(get_user)})
async def profile(user: str, session: dict) -> dict:
    return {"user": user, "region": session["region"]}


app = Ravyn(
    routes=[Include("/api", routes=[profile], dependencies={"session": Inject(get_session)})],
    dependencies={"settings": Inject(get_settings)},
)
