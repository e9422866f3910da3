"""``ravyn routes``: methods, paths, url_for names, handlers and the events they send."""

import json

import pytest

from tests.cli.processes import ravyn

pytestmark = pytest.mark.timeout(60)

APP = """
from ravyn import Controller, Include, Ravyn, get, observable, post, websocket


class UserApi(Controller):
    path = "/users"

    @get("/{user_id}")
    async def get_user(self, user_id: int) -> dict:
        return {}

    @post("/")
    @observable(send=["user_created", "audit"])
    async def create_user(self, name: str) -> dict:
        return {}


@get("/health")
async def health() -> str:
    return "ok"


@websocket("/live")
async def live(websocket) -> None: ...


app = Ravyn(
    routes=[health, live, Include("/api", routes=[UserApi], name="api")],
    static_dir=".",
)
"""


def test_routes_lists_every_route_with_its_url_for_name(tmp_path):
    (tmp_path / "main.py").write_text(APP)
    result = ravyn("routes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[:6] == [
        ["METHOD", "PATH", "NAME", "HANDLER", "EVENTS"],
        ["GET", "/health", "health", "main:health", "-"],
        ["WEBSOCKET", "/live", "live", "main:live", "-"],
        ["GET", "/api/users/{user_id}", "api:UserApi.get_user", "main:UserApi.get_user", "-"],
        [
            "POST",
            "/api/users",
            "api:UserApi.create_user",
            "main:UserApi.create_user",
            "user_created,",
            "audit",
        ],
        ["*", "/static/{path}", "static", "lilya.staticfiles:StaticFiles", "-"],
    ]
    # the app's own documentation pages come last: ["GET,", "HEAD", path, name, handler, "-"]
    assert [row[2] for row in rows[6:8]] == ["/openapi.json", "/docs"]
    assert {row[-2] for row in rows[6:]} == {"ravyn.openapi.endpoints:CachedEndpoint"}


def test_routes_json(tmp_path):
    (tmp_path / "main.py").write_text(APP)
    result = ravyn("routes", "main:app", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    create = json.loads(result.stdout)[3]
    assert create == {
        "method": ["POST"],
        "path": "/api/users",
        "name": "api:UserApi.create_user",
        "handler": "main:UserApi.create_user",
        "events": ["user_created", "audit"],
    }


def test_routes_names_a_missing_module_in_one_line(tmp_path):
    result = ravyn("routes", "nowhere:app", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr
