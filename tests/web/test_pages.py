"""Static files and Jinja2 templates."""

import httpx
import pytest

from ravyn import Ravyn, Request, get
from ravyn.exceptions import ImproperlyConfigured
from ravyn.templating import render
from ravyn.testclient import TestClient
from tests.web.helpers import load_docs_module, serve

pytestmark = pytest.mark.timeout(60)


def test_the_pages_sample_on_a_real_server():
    module = load_docs_module("docs_src/pages/app.py")
    with serve(module.app) as address:
        page = httpx.get(f"http://{address}/hello/ada")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "<h1>Hello, ada!</h1>" in page.text
        assert "<li>&lt;cake&gt;</li>" in page.text  # autoescaped
        assert 'href="/static/site.css"' in page.text and 'href="/hello/again"' in page.text
        css = httpx.get(f"http://{address}/static/site.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert css.text == (module.HERE / "static" / "site.css").read_text()
        assert httpx.get(f"http://{address}/static/missing.css").status_code == 404
        for escape in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
            response = httpx.get(f"http://{address}{escape}")
            assert response.status_code == 404, escape
            assert "Ravyn(" not in response.text


def test_static_url_and_settings(tmp_path):
    (tmp_path / "a.txt").write_text("A")
    app = Ravyn(static_dir=tmp_path, static_url="/assets")
    client = TestClient(app)
    first = client.get("/assets/a.txt")
    assert first.text == "A" and first.headers["content-type"].startswith("text/plain")
    again = client.get("/assets/a.txt", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert app.url_for("static", path="a.txt") == "/assets/a.txt"
    with pytest.raises(ImproperlyConfigured, match="static_dir .* is not a directory"):
        Ravyn(static_dir=tmp_path / "missing")
    with pytest.raises(ImproperlyConfigured, match="templates_dir .* is not a directory"):
        Ravyn(templates_dir=tmp_path / "missing")


def test_templates_render_status_headers_and_refuse_undefined_variables(tmp_path):
    (tmp_path / "page.html").write_text("{{ title }} at {{ request.url.path }}")
    (tmp_path / "broken.html").write_text("{{ nobody_passed_this }}")

    @get("/page")
    async def page(request: Request):
        return render(request, "page.html", {"title": "Hi"}, status_code=202, headers={"x-a": "b"})

    @get("/broken")
    async def broken(request: Request):
        return render(request, "broken.html")

    client = TestClient(Ravyn(routes=[page, broken], templates_dir=tmp_path))
    response = client.get("/page")
    assert (response.status_code, response.text, response.headers["x-a"]) == (
        202,
        "Hi at /page",
        "b",
    )
    assert client.get("/broken").status_code == 500


def test_render_without_templates_dir_says_what_to_pass():
    @get("/page")
    async def page(request: Request):
        return render(request, "page.html")

    app = Ravyn(routes=[page], debug=True)
    detail = TestClient(app).get("/page").json()["detail"]
    assert "Ravyn(templates_dir='templates')" in detail["error"]
