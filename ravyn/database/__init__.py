"""ravyn.database: SQLAlchemy 2 (async) for a ravyn app, with a transactional outbox.

Needs the ``database`` extra (``postgres`` adds asyncpg). ``SqlDatabase`` is the extension;
``paginate`` pages a query; events emitted inside a managed session are written to the
outbox table in the session's transaction and sent by the relay after the commit.
"""

from ravyn.database.database import DEFAULT_URL, SqlDatabase
from ravyn.database.outbox import OutboxRelay, outbox_table
from ravyn.database.pagination import Page, paginate

__all__ = ["DEFAULT_URL", "OutboxRelay", "Page", "SqlDatabase", "outbox_table", "paginate"]
