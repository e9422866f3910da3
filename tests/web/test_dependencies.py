import pytest

from ravyn.app import Ravyn
from ravyn.exceptions import ImproperlyConfigured, NotAuthorized
from ravyn.requests import Request
from ravyn.routing import Include, Inject, get
from ravyn.testclient import TestClient

pytestmark = pytest.mark.timeout(30)


def test_app_include_and_handler_dependencies_compose():
    calls: list[str] = []

    async def settings() -> dict:
        calls.append("settings")
        return {"region": "eu"}

    def user(request: Request, settings: dict) -> str:
        return f"{request.headers['x-user']}@{settings['region']}"

    @get("/me", dependencies={"user": Inject(user)})
    async def me(user: str, settings: dict) -> dict:
        return {"user": user, "region": settings["region"]}

    app = Ravyn(
        routes=[Include("/api", routes=[me])],
        dependencies={"settings": Inject(settings)},
    )
    response = TestClient(app).get("/api/me", headers={"x-user": "ada"})
    assert response.json() == {"user": "ada@eu", "region": "eu"}
    assert calls == ["settings"]  # computed once per request, shared by its consumers


def test_include_dependency_overrides_app_dependency_of_the_same_name():
    @get("/where")
    async def where(place: str) -> str:
        return place

    app = Ravyn(
        routes=[
            Include("/inner", routes=[where], dependencies={"place": Inject(lambda: "include")})
        ],
        dependencies={"place": Inject(lambda: "app")},
    )
    assert TestClient(app).get("/inner/where").json() == "include"


def test_use_cache_false_runs_the_dependency_for_each_consumer():
    counter = {"n": 0}

    def tick() -> int:
        counter["n"] += 1
        return counter["n"]

    def twice(first: int) -> int:
        return first

    @get("/ticks", dependencies={"first": Inject(tick, use_cache=False), "second": Inject(twice)})
    async def ticks(first: int, second: int) -> list:
        return [first, second]

    assert TestClient(Ravyn(routes=[ticks])).get("/ticks").json() == [1, 2]


def test_generator_dependencies_clean_up_after_the_response():
    steps: list[str] = []

    async def session():
        steps.append("open")
        yield "session"
        steps.append("close")

    def connection():
        yield "conn"
        steps.append("conn closed")

    @get("/work", dependencies={"session": Inject(session), "conn": Inject(connection)})
    async def work(session: str, conn: str) -> str:
        steps.append("handler")
        return f"{session}+{conn}"

    assert TestClient(Ravyn(routes=[work])).get("/work").json() == "session+conn"
    assert steps == ["open", "handler", "conn closed", "close"]


def test_generator_cleanup_runs_when_the_handler_raises():
    steps: list[str] = []

    async def resource():
        try:
            yield 1
        finally:
            steps.append("released")

    @get("/fail", dependencies={"resource": Inject(resource)})
    async def fail(resource: int) -> None:
        raise RuntimeError("boom")

    assert TestClient(Ravyn(routes=[fail])).get("/fail").status_code == 500
    assert steps == ["released"]


def test_generator_dependencies_see_the_exception_that_ended_the_request():
    outcomes: list[str] = []

    async def transaction():
        try:
            yield "tx"
        except Exception as exc:
            outcomes.append(f"rollback after {type(exc).__name__}")
            raise
        else:
            outcomes.append("commit")

    def cursor():
        try:
            yield "cursor"
        except NotAuthorized:
            outcomes.append("cursor saw NotAuthorized")
            raise

    deps = {"tx": Inject(transaction), "cur": Inject(cursor)}

    @get("/ok", dependencies=deps)
    async def ok(tx: str, cur: str) -> str:
        return tx

    @get("/denied", dependencies=deps)
    async def denied(tx: str, cur: str) -> None:
        raise NotAuthorized("no")

    client = TestClient(Ravyn(routes=[ok, denied]))
    assert client.get("/ok").json() == "tx"
    assert client.get("/denied").status_code == 401
    assert outcomes == ["commit", "cursor saw NotAuthorized", "rollback after NotAuthorized"]


def test_inject_as_a_parameter_default():
    @get("/default")
    async def default(value: int = Inject(lambda: 41)) -> int:
        return value + 1

    assert TestClient(Ravyn(routes=[default])).get("/default").json() == 42


def test_unresolvable_dependency_parameter_fails_at_mount_time():
    def needs_secret(secret: str) -> str:
        return secret

    @get("/secret", dependencies={"value": Inject(needs_secret)})
    async def secret(value: str) -> str:
        return value

    with pytest.raises(ImproperlyConfigured, match="secret"):
        Ravyn(routes=[secret])


def test_opened_generator_dependencies_clean_up_when_a_later_one_fails():
    steps: list[str] = []

    async def opened():
        try:
            yield "resource"
        finally:  # the request failed: the NotAuthorized is raised at the yield
            steps.append("closed")

    def refuse() -> str:
        raise NotAuthorized("No token")

    @get("/guarded", dependencies={"resource": Inject(opened), "user": Inject(refuse)})
    async def guarded(resource: str, user: str) -> str:
        return user

    response = TestClient(Ravyn(routes=[guarded])).get("/guarded")
    assert (response.status_code, response.json()) == (401, {"detail": "No token"})
    assert steps == ["closed"]
