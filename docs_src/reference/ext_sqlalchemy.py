# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for SQLAlchemy's async engine and session (not installed here): the same calls.
engines: list["AsyncEngine"] = []


class Result:
    def __init__(self, rows: list) -> None:
        self.rows = rows

    def fetchall(self) -> list:
        return self.rows


class AsyncEngine:
    def __init__(self, url: str) -> None:
        self.url = url
        self.disposed = False

    async def dispose(self) -> None:
        self.disposed = True


class AsyncSession:
    def __init__(self, bind: AsyncEngine) -> None:
        self.bind = bind

    async def __aenter__(self) -> "AsyncSession":
        return self

    async def __aexit__(self, *exc_info) -> None:
        return None

    async def execute(self, statement: str) -> Result:
        return Result([[1, "Alice"]])


def create_async_engine(url: str) -> AsyncEngine:
    engine = AsyncEngine(url)
    engines.append(engine)
    return engine


def sessionmaker(engine: AsyncEngine, class_: type = AsyncSession):
    return lambda: class_(engine)


from ravyn import Request  # the sample uses Request without importing it

from ravyn import Ravyn, get
from contextlib import asynccontextmanager


@asynccontextmanager
async def lifespan(app: Ravyn):
    # Create engine
    engine = create_async_engine("postgresql+asyncpg://localhost/mydb")
    SessionLocal = sessionmaker(engine, class_=AsyncSession)

    app.state.db_session = SessionLocal

    yield

    await engine.dispose()


app = Ravyn(lifespan=lifespan)


@get("/users")
async def list_users(request: Request) -> dict:
    async with request.app.state.db_session() as session:
        # Query database
        result = await session.execute("SELECT * FROM users")
        return {"users": result.fetchall()}


app.add_route(list_users)  # the page never mounts it
