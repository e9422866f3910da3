"""A project's settings: ravyn's, and the app's own fields, from RAVYN_* variables."""

from ravyn import RavynSettings


class Settings(RavynSettings, kw_only=True):
    database_url: str = "sqlite+aiosqlite:///./shop.db"
    orders_per_page: int = 20
    support_email: str = "support@example.com"


settings = Settings.from_env()  # RAVYN_ORDERS_PER_PAGE=50, RAVYN_DEBUG=true, ...
