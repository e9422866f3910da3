"""``Authentication``: subclass it with ``user_loader``; guard routes with its
``login_required`` and ``role_required(*roles)``.

The guards are ``Guard`` dependencies, so they need no registration and work wherever a
dependency does: under ``@get(...)``, on a ``Controller`` class or method, in an
``Include``'s or the app's ``dependencies``, on a WebSocket route (refused with close code
1008). The loaded user is ``request.user``.

Secrets come from settings (``RAVYN_SECRET_KEY``). Without one, a built-in development
secret is used when ``debug`` is on; with ``debug`` off it refuses to start, as it does for
a secret shorter than 32 characters.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import argon2
import itsdangerous
import jwt

from ravyn.exceptions import ImproperlyConfigured, NotAuthorized, PermissionDenied
from ravyn.extensions import Extension
from ravyn.openapi.security import SecurityScheme
from ravyn.requests import Connection
from ravyn.routing.guards import Guard
from ravyn.settings import RavynSettings

if TYPE_CHECKING:
    from ravyn.app import Ravyn

DEVELOPMENT_SECRET_KEY = "ravyn-development-secret-never-use-in-production"
MIN_SECRET_LENGTH = 32


class Authentication(Extension):
    """Subclass and implement ``async def user_loader(self, request)`` (the user, or None);
    optionally ``async def role_check(self, user, roles)``.

    Class attributes to override: ``login_required_message`` (the 401's detail),
    ``role_required_message`` (the 403's), ``security_scheme`` (how clients authenticate,
    an OpenAPI security scheme; ``None`` to leave it out of the document),
    ``jwt_algorithm``, ``cookie_salt``.
    """

    login_required_message = "Login required"
    role_required_message = "Missing user role(s)"
    security_scheme: Mapping[str, Any] | None = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    jwt_algorithm = "HS256"
    cookie_salt = "ravyn.auth.cookie"

    def __init__(
        self, *, secret_key: str | None = None, settings: RavynSettings | None = None
    ) -> None:
        settings = settings if settings is not None else RavynSettings.from_env()
        secret_key = secret_key or settings.secret_key
        self.secret_key: str = check_secret_key(secret_key, debug=settings.debug)
        self.password_hasher = argon2.PasswordHasher()
        self.cookie_serializer = itsdangerous.URLSafeTimedSerializer(
            self.secret_key, salt=self.cookie_salt
        )
        self.login_required = Guard(self._login_check())

    # -- what a subclass implements ---------------------------------------------------

    async def user_loader(self, request: Connection) -> Any:
        """The user making ``request`` (read a cookie, a bearer token...), or None."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement async def user_loader(self, request)."
        )

    async def role_check(self, user: Any, roles: list[Any]) -> bool:
        """Whether ``user`` has one of ``roles``. By default: one of them is in the user's
        ``roles`` (an attribute, or a key of a mapping such as JWT claims)."""
        owned = user.get("roles") if isinstance(user, Mapping) else getattr(user, "roles", None)
        owned = list(owned or ())
        return any(role in owned for role in roles)

    # -- guards ---------------------------------------------------------------------

    def _login_check(self) -> Callable[..., Any]:
        """The check of ``login_required``: load the user or refuse with a 401. It carries
        the security scheme the OpenAPI document lists for every route it guards."""

        async def login_required(request: Connection) -> Any:
            user = await self.user_loader(request)
            if user is None:
                raise NotAuthorized(detail=self.login_required_message)
            request.scope["user"] = user
            return user

        if self.security_scheme is not None:  # role_required's guard shows it through this one
            login_required.openapi_security = SecurityScheme(  # type: ignore[attr-defined]
                type(self).__name__, self.security_scheme
            )
        login_required.__qualname__ = f"{type(self).__qualname__}.login_required"
        return login_required

    def role_required(self, *roles: Any) -> Guard:
        """A guard that loads the user (401 without one, as ``login_required``) and refuses
        with a 403 unless ``role_check(user, roles)`` holds."""
        if not roles:
            raise ImproperlyConfigured("role_required() needs at least one role.")
        required = list(roles)
        login_required = self.login_required

        async def check_roles(user: Any = login_required) -> Any:
            if not await self.role_check(user, required):
                raise PermissionDenied(detail=self.role_required_message)
            return user

        check_roles.__qualname__ = f"{type(self).__qualname__}.role_required{tuple(roles)!r}"
        return Guard(check_roles)

    # -- helpers --------------------------------------------------------------------

    def create_signed_cookie_value(self, value: str | int) -> str:
        """``value`` signed with the secret (and timestamped), to store in a cookie."""
        return self.cookie_serializer.dumps(value)

    def decode_signed_cookie(self, cookie_value: str, max_age: int | None = None) -> Any:
        """The value a signed cookie carries; None when forged, malformed, or older than
        ``max_age`` seconds."""
        try:
            return self.cookie_serializer.loads(cookie_value, max_age=max_age)
        except itsdangerous.BadData:
            return None

    def create_password_hash(self, password: str) -> str:
        """An argon2id hash of ``password`` (salted; tens of milliseconds of CPU on purpose:
        from ``async def`` code, call it in a thread)."""
        return self.password_hasher.hash(password)

    def check_password_hash(self, password: str, hashed_password: str) -> bool:
        """Whether ``password`` matches ``hashed_password`` (False for a malformed hash)."""
        try:
            return self.password_hasher.verify(hashed_password, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def create_jwt_token(self, payload: Mapping[str, Any], expires_in: int = 3600) -> str:
        """A signed JWT carrying ``payload``, ``iat`` and ``exp`` (``expires_in`` seconds)."""
        now = datetime.datetime.now(datetime.UTC)
        claims = {**payload, "iat": now, "exp": now + datetime.timedelta(seconds=expires_in)}
        return jwt.encode(claims, self.secret_key, algorithm=self.jwt_algorithm)

    def validate_jwt_token(self, token: str) -> dict[str, Any] | None:
        """The claims of ``token``; None when its signature, algorithm, format or expiry is
        wrong."""
        try:
            return jwt.decode(
                token,
                self.secret_key,
                algorithms=[self.jwt_algorithm],
                options={"require": ["exp"]},
            )
        except jwt.PyJWTError:
            return None

    # -- as an extension (optional) -------------------------------------------------

    def extend(self, app: Ravyn, **kwargs: Any) -> None:
        """Registered with ``Ravyn(extensions={"auth": auth})``: the app's ``debug`` decides
        whether the development secret is allowed."""
        check_secret_key(self.secret_key, debug=app.debug)


def check_secret_key(secret_key: str | None, *, debug: bool) -> str:
    """``secret_key``, refused when missing, built-in or short outside debug (in debug, a
    missing one is the development secret)."""
    if debug:
        return secret_key or DEVELOPMENT_SECRET_KEY
    if secret_key is None or secret_key == DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "Authentication needs a secret: set RAVYN_SECRET_KEY (or secret_key=) to a random "
            "string of 32+ characters; the development secret works only with debug=True."
        )
    if len(secret_key) < MIN_SECRET_LENGTH:
        raise ImproperlyConfigured(
            f"RAVYN_SECRET_KEY has {len(secret_key)} characters: use a random string of "
            f"{MIN_SECRET_LENGTH}+ (python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    return secret_key
