import anyio

from ravyn.core.caches.memory import InMemoryCache
from ravyn.utils.decorators import cache

exchange_rates = InMemoryCache(max_size=500, default_ttl=300)


@cache(ttl=60, backend=exchange_rates)
async def rate(base: str, quote: str) -> float:
    """Ask the (slow) rates service; cached per (base, quote) for a minute."""
    await anyio.sleep(0.01)
    return 1.08 if (base, quote) == ("EUR", "USD") else 1.0


@cache(backend=exchange_rates, key=lambda account_id, **_: f"balance:{account_id}")
async def balance(account_id: int, include_pending: bool = False) -> int:
    """One entry per account, whatever `include_pending` says: the key function decides."""
    return 100


@cache(ttl=3600, backend=exchange_rates)
def country_names() -> list[str]:
    """Sync functions are cached too (and stay sync)."""
    return ["France", "Portugal"]


async def forget_balance(account_id: int) -> None:
    await exchange_rates.delete(f"balance:{account_id}")
