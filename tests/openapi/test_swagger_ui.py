"""Swagger UI renders the app's operations in headless Chromium with every other host
blocked: its assets come from the app, never from a CDN."""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec
import pytest

from ravyn import Ravyn, get, post
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(90)


class Pet(msgspec.Struct):
    name: str
    age: int


@get("/pets/{pet_id}", tags=["pets"], summary="Fetch a pet")
async def read_pet(pet_id: int) -> Pet:
    return Pet(name="Rex", age=3)


@post("/pets", tags=["pets"], summary="Add a pet")
async def add_pet(pet: Pet) -> Pet:
    return pet


async def test_swagger_ui_renders_the_operations_offline():
    require_browser()
    from playwright.async_api import async_playwright, expect

    app = Ravyn(routes=[read_pet, add_pet], title="Pet shop")
    requested: list[str] = []
    blocked: list[str] = []
    with serve(app) as address:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page()

                async def only_the_app(route):
                    url = route.request.url
                    if urlsplit(url).netloc == address:
                        requested.append(urlsplit(url).path)
                        await route.continue_()
                    else:
                        blocked.append(url)
                        await route.abort()

                await page.route("**/*", only_the_app)
                await page.goto(f"http://{address}/docs")
                operations = page.locator(".opblock")
                await expect(operations).to_have_count(2, timeout=30_000)
                await expect(page.locator(".opblock-summary-path").first).to_contain_text(
                    "/pets/{pet_id}"
                )
                await expect(page.locator(".opblock-summary-description").nth(1)).to_have_text(
                    "Add a pet"
                )
                await expect(page.locator(".title").first).to_contain_text("Pet shop")
                await page.locator(".opblock-summary").nth(1).click()  # the POST opens
                await expect(page.locator(".opblock-body").first).to_contain_text("age")
            finally:
                await browser.close()
    assert blocked == []  # the page asked for nothing elsewhere
    assert {"/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"} <= set(requested)


def test_swagger_ui_page_links_only_to_the_app():
    from ravyn.testclient import TestClient

    client = TestClient(Ravyn(routes=[read_pet], docs_url="/api-docs"))
    page = client.get("/api-docs").text
    assert 'href="/api-docs/assets/swagger-ui.css"' in page
    assert 'url: "/openapi.json"' in page
    assert "//" not in page.replace("<!doctype", "")  # no absolute URL, no CDN
    bundle = client.get("/api-docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/javascript"
    assert msgspec.json.decode(client.get("/openapi.json").content)["openapi"] == "3.1.0"
