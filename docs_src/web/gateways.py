from ravyn import Gateway, Include, Ravyn, get


@get("/users")
async def list_users() -> list[str]:
    return ["Alice", "Bob"]


@get("/users/{user_id}")
async def get_user(user_id: int) -> dict:
    return {"user_id": user_id}


app = Ravyn(
    routes=[
        Gateway("/v1", handler=list_users),  # serves /v1/users
        Include("/v2", routes=[list_users, get_user]),  # /v2/users and /v2/users/{user_id}
    ]
)
