# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for PyJWT (`import jwt`): HS256 tokens signed with hmac, just enough for the sample.
import base64
import hashlib
import hmac
import json
import types


class InvalidTokenError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(message: str, key: str) -> str:
    return _b64(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest())


def _encode(payload: dict, key: str, algorithm: str = "HS256") -> str:
    message = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(json.dumps(payload).encode())
    return message + "." + _sign(message, key)


def _decode(token: str, key: str, algorithms: list[str]) -> dict:
    message, _, signature = token.rpartition(".")
    if not message or not hmac.compare_digest(signature, _sign(message, key)):
        raise InvalidTokenError("bad signature")
    body = message.partition(".")[2]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


jwt = types.SimpleNamespace(encode=_encode, decode=_decode, InvalidTokenError=InvalidTokenError)

from ravyn import Inject  # the sample uses Inject without importing it

from ravyn import Ravyn, get, Request
from ravyn.exceptions import NotAuthorized

SECRET_KEY = "your-secret-key"


def verify_token(request: Request):
    token = request.headers.get("Authorization", "").replace("Bearer ", "")
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
        request.state.user = payload
    except jwt.InvalidTokenError:
        raise NotAuthorized("Invalid token")


@get("/protected", dependencies={"auth": Inject(verify_token)})
def protected_route(request: Request) -> dict:
    return {"user": request.state.user}


app = Ravyn()
app.add_route(protected_route)
