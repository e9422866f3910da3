"""Credentials never reach a log line: a URL's user and password are masked in whatever text
ravyn prints (log fields, exception messages, the tracebacks it renders).

Imports only the standard library, so every layer (the event transports included) uses it.
"""

from __future__ import annotations

import re

MASK = "***"
# scheme://userinfo@ -- the userinfo may hold a password, or a token as the user name
_URL_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s@/]*(?:/[^\s@/]*)*@")


def redact_credentials(text: str) -> str:
    """``text`` with the credentials of every URL in it masked:
    ``redis://:s3cret@host:6379/0`` -> ``redis://***@host:6379/0``."""
    if "@" not in text:
        return text
    return _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)
