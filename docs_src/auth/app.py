import secrets
from enum import StrEnum

import msgspec

from ravyn import Controller, Include, Ravyn, Request, WebSocket, get, post, websocket
from ravyn.auth import Authentication
from ravyn.exceptions import NotAuthorized


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"


class User(msgspec.Struct):
    id: int
    name: str
    roles: list[Role]


class Auth(Authentication):
    login_required_message = "Log in first: POST /login"

    async def user_loader(self, request: Request) -> User | None:
        """The user named by the signed cookie, or by a bearer token."""
        user_id = None
        cookie = request.cookies.get("session")
        if cookie:
            user_id = self.decode_signed_cookie(cookie, max_age=7 * 24 * 3600)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if user_id is None and scheme.lower() == "bearer":
            claims = self.validate_jwt_token(token)
            user_id = claims and claims["sub"]
        return USERS.get(user_id)


auth = Auth()  # the secret comes from RAVYN_SECRET_KEY
USERS = {
    "1": User(1, "ada", [Role.ADMIN]),
    "2": User(2, "bob", [Role.USER]),
}
PASSWORDS = {"ada": auth.create_password_hash("lovelace"), "bob": auth.create_password_hash("pw")}
# an unknown name costs a check like a known one (and no password matches it)
NO_SUCH_USER = auth.create_password_hash(secrets.token_hex(16))


@post("/login")
def login(name: str, password: str) -> dict:
    """A sync handler runs in a thread: argon2's deliberate slowness does not block."""
    if not auth.check_password_hash(password, PASSWORDS.get(name, NO_SUCH_USER)):
        raise NotAuthorized("Wrong name or password.")
    user_id = next(key for key, user in USERS.items() if user.name == name)
    return {"token": auth.create_jwt_token({"sub": user_id}, expires_in=3600)}


@get("/me")
@auth.login_required
async def me(request: Request) -> dict:
    return {"name": request.user.name}


@auth.login_required
class ReportApi(Controller):
    path = "/reports"

    @get("/")
    async def list_reports(self, request: Request) -> list[str]:
        return [f"weekly report for {request.user.name}"]

    @get("/audit")
    @auth.role_required(Role.ADMIN)
    async def audit(self) -> dict:
        return {"audit": "ok"}


@websocket("/ws/notifications")
@auth.login_required
async def notifications(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"hello": websocket.user.name})
    await websocket.close()


@get("/stats")
async def stats() -> dict:
    return {"users": len(USERS)}


admin = Include("/admin", routes=[stats], dependencies={"admin": auth.role_required(Role.ADMIN)})

app = Ravyn(routes=[login, me, ReportApi, notifications, admin])
