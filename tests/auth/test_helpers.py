"""The secret, signed cookies, password hashes and JWTs of ``Authentication``."""

import base64
import json

import jwt
import pytest

from ravyn import Ravyn, RavynSettings
from ravyn.auth import DEVELOPMENT_SECRET_KEY, Authentication
from ravyn.exceptions import ImproperlyConfigured

SECRET = "a-test-secret-that-is-long-enough-0123456789"


class Auth(Authentication):
    async def user_loader(self, request):
        return None


@pytest.fixture
def auth() -> Auth:
    return Auth(secret_key=SECRET)


def test_the_secret_comes_from_settings_and_production_refuses_a_missing_or_weak_one(monkeypatch):
    monkeypatch.delenv("RAVYN_SECRET_KEY", raising=False)
    monkeypatch.delenv("RAVYN_DEBUG", raising=False)
    with pytest.raises(ImproperlyConfigured, match="set RAVYN_SECRET_KEY"):
        Auth()
    with pytest.raises(ImproperlyConfigured, match="set RAVYN_SECRET_KEY"):
        Auth(secret_key=DEVELOPMENT_SECRET_KEY)
    with pytest.raises(ImproperlyConfigured, match="has 5 characters"):
        Auth(secret_key="short")
    assert Auth(settings=RavynSettings(debug=True)).secret_key == DEVELOPMENT_SECRET_KEY
    monkeypatch.setenv("RAVYN_SECRET_KEY", SECRET)
    assert Auth().secret_key == SECRET
    monkeypatch.setenv("RAVYN_DEBUG", "true")
    monkeypatch.delenv("RAVYN_SECRET_KEY")
    development = Auth()
    assert development.secret_key == DEVELOPMENT_SECRET_KEY
    # registered with an app that is not in debug, the development secret refuses to start
    with pytest.raises(ImproperlyConfigured, match="works only with debug=True"):
        Ravyn(extensions={"auth": development}, debug=False)
    assert Ravyn(extensions={"auth": development}, debug=True).extensions["auth"] is development


def test_signed_cookies_round_trip_and_refuse_forgeries(auth):
    signed = auth.create_signed_cookie_value(42)
    assert auth.decode_signed_cookie(signed) == 42
    assert auth.decode_signed_cookie(auth.create_signed_cookie_value("ada")) == "ada"
    tampered = signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    assert auth.decode_signed_cookie(tampered) is None
    assert auth.decode_signed_cookie("not a cookie") is None
    other = Auth(secret_key=SECRET.upper())
    assert other.decode_signed_cookie(signed) is None
    assert auth.decode_signed_cookie(signed, max_age=-1) is None  # older than allowed


def test_password_hashes_are_salted_argon2_and_check_without_raising(auth):
    first = auth.create_password_hash("hunter2")
    second = auth.create_password_hash("hunter2")
    assert first.startswith("$argon2id$") and first != second
    assert auth.check_password_hash("hunter2", first)
    assert auth.check_password_hash("hunter2", second)
    assert not auth.check_password_hash("hunter3", first)
    assert not auth.check_password_hash("hunter2", "not-a-hash")
    assert not auth.check_password_hash("hunter2", "")


def test_jwt_tokens_carry_claims_and_expire(auth):
    token = auth.create_jwt_token({"sub": "7", "roles": ["admin"]}, expires_in=60)
    claims = auth.validate_jwt_token(token)
    assert claims["sub"] == "7" and claims["roles"] == ["admin"]
    assert claims["exp"] - claims["iat"] == 60
    assert auth.validate_jwt_token(auth.create_jwt_token({"sub": "7"}, expires_in=-10)) is None


def test_jwt_validation_refuses_forged_tokens(auth):
    token = auth.create_jwt_token({"sub": "7"})
    assert Auth(secret_key=SECRET + "x").validate_jwt_token(token) is None
    header, payload, signature = token.split(".")
    raised = base64.urlsafe_b64encode(json.dumps({"sub": "1", "exp": 9999999999}).encode())
    assert auth.validate_jwt_token(f"{header}.{raised.decode().rstrip('=')}.{signature}") is None
    unsigned = jwt.encode({"sub": "7", "exp": 9999999999}, key=None, algorithm="none")
    assert auth.validate_jwt_token(unsigned) is None
    no_expiry = jwt.encode({"sub": "7"}, SECRET, algorithm="HS256")
    assert auth.validate_jwt_token(no_expiry) is None
    assert auth.validate_jwt_token("garbage") is None
    assert auth.validate_jwt_token("") is None
