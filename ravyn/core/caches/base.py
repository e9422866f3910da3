"""What a cache backend offers, and how the `cache` decorator names its entries.

Keys are part of the public API: users invalidate entries by name
(`await backend.delete("get_products")`), so the rule is simple and stable across
processes and restarts: the function's name alone when it is called without arguments,
else the name, a colon and a digest of the arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import msgspec

_argument_encoder = msgspec.json.Encoder(order="deterministic")


@runtime_checkable
class CacheBackend(Protocol):
    """The four operations the `cache` decorator and users need; all are coroutines.

    `ttl` is in seconds; `None` means the backend's default TTL (which may be "never").
    """

    async def get(self, key: str, default: Any = None) -> Any: ...

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def clear(self) -> None: ...


def make_key(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """`name` when there are no arguments, else `name:<digest of the arguments>`.

    The arguments are encoded with msgspec (deterministic order: sorted keyword names and
    dict keys), so equal arguments give equal keys in every process.
    """
    if not args and not kwargs:
        return name
    try:
        encoded = _argument_encoder.encode([args, kwargs])
    except (TypeError, msgspec.EncodeError) as exc:
        raise TypeError(
            f"cache: cannot build a key for {name}() from its arguments ({exc}). "
            "Pass key=lambda *args, **kwargs: ... to choose the key yourself."
        ) from None
    return f"{name}:{hashlib.blake2b(encoded, digest_size=16).hexdigest()}"


def check_ttl(ttl: float | None) -> float | None:
    """Refuse a TTL that would make an entry expire at once or never be set."""
    if ttl is not None and ttl <= 0:
        raise ValueError(
            f"ttl must be a positive number of seconds, or None for the backend's default; "
            f"got {ttl!r}"
        )
    return ttl
