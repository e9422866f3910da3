"""Load shedding: past ``max_requests`` calls in flight, refuse at once (503) rather than
queue work the server cannot finish in time."""

from __future__ import annotations

from ravyn.resilience.policy import Refused, check_positive


class LoadShedder:
    """Refuses while ``max_requests`` calls are in flight; ``retry_after`` seconds is what
    a refused client is told to wait."""

    def __init__(
        self, max_requests: int = 1000, *, retry_after: float = 1.0, name: str = "load_shedder"
    ) -> None:
        check_positive(max_requests, "LoadShedder(max_requests=...)", whole=True)
        check_positive(retry_after, "LoadShedder(retry_after=...)")
        self.max_requests = max_requests
        self.retry_after = retry_after
        self.name = name
        self.in_flight = 0

    async def admit(self, key: str = "", *, wait: bool = False) -> None:
        self.admit_now(key)

    def admit_now(self, key: str = "") -> None:
        if self.in_flight >= self.max_requests:
            raise Refused(
                503,
                "The server is overloaded: retry later.",
                pattern="load_shedder",
                name=self.name,
                retry_after=self.retry_after,
            )
        self.in_flight += 1

    def release(self, ticket: None, failed: bool | None) -> None:
        self.in_flight -= 1
