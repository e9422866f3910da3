import msgspec

from ravyn import (
    Controller,
    Include,
    Inject,
    Ravyn,
    Request,
    Response,
    after_request,
    before_request,
    delete,
    get,
    observable,
    post,
)
from ravyn.exceptions import NotAuthorized, NotFound


class NewUser(msgspec.Struct):
    email: str
    name: str


def require_api_key(request: Request) -> None:
    if request.headers.get("x-api-key") != "s3cret":
        raise NotAuthorized("Send a valid X-API-Key header.")


def user_store() -> dict[int, dict]:
    return USERS


USERS: dict[int, dict] = {1: {"id": 1, "email": "ada@example.com", "name": "Ada"}}
welcomed: list[str] = []


class UserApi(Controller):
    path = "/users"
    tags = ["users"]
    dependencies = {"auth": Inject(require_api_key), "users": Inject(user_store)}

    @before_request
    async def note_caller(self, request: Request) -> None:
        request.state.caller = request.headers.get("x-caller", "anonymous")

    @after_request
    async def stamp(self, request: Request, response: Response) -> None:
        response.headers["x-served-by"] = f"UserApi for {request.state.caller}"

    @get("/")
    async def list_users(self, users: dict) -> list[dict]:
        return list(users.values())

    @get("/{user_id}")
    async def get_user(self, user_id: int, users: dict) -> dict:
        if user_id not in users:
            raise NotFound(f"No user {user_id}")
        return users[user_id]

    @post("/")
    @observable(send=["user_created"])
    async def create_user(self, user: NewUser, users: dict, request: Request) -> dict:
        user_id = max(users) + 1
        users[user_id] = {"id": user_id, **msgspec.to_builtins(user)}
        return {**users[user_id], "url": request.url_for("UserApi.get_user", user_id=user_id)}

    @delete("/{user_id}")
    async def delete_user(self, user_id: int, users: dict) -> None:
        users.pop(user_id, None)


@observable(listen=["user_created"])
async def welcome(email: str) -> None:
    welcomed.append(email)


app = Ravyn(routes=[Include("/api/v1", routes=[UserApi])])
