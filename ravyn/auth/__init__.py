"""Authentication (the ``auth`` extra): a user loader, guards, and the helpers for signed
cookies, password hashes and JWTs, built on itsdangerous, argon2-cffi and PyJWT."""

from ravyn.auth.authentication import DEVELOPMENT_SECRET_KEY, Authentication

__all__ = ["DEVELOPMENT_SECRET_KEY", "Authentication"]
