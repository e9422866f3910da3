# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for the synchronous database client the sample uses without defining it.
import threading


class SyncDatabase:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def query(self, sql: str) -> list:
        self.threads.append(threading.current_thread().name)
        return ["Alice", "Bob"]


sync_database = SyncDatabase()

from ravyn import get  # the sample uses get without importing it

# Option 2: Run sync code in thread
import asyncio


@get("/users")
async def list_users() -> dict:
    users = await asyncio.to_thread(sync_database.query, "SELECT * FROM users")
    return {"users": users}
