"""The live-events page in a real browser: headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import httpx
import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, require_browser

from .helpers import BridgedApp
from .servers import serve

pytestmark = pytest.mark.timeout(60)


async def test_live_page_lists_events_as_they_arrive() -> None:
    require_browser()
    from playwright.async_api import async_playwright, expect

    bridged = BridgedApp(live_page=True)
    async with serve(bridged.app) as server, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{server.http_url}/events/live?events=new_comment")
            status = page.locator("#status")
            await expect(status).to_have_text("connected: new_comment")

            await bridged.emit("user.created", {"id": 1})  # not subscribed: not shown
            await bridged.emit("new_comment", {"text": "first!"})
            await bridged.emit("new_comment", {"text": "second"})

            items = page.locator("#events li")
            await expect(items).to_have_count(2)
            await expect(items.nth(0)).to_contain_text("second")  # newest first
            await expect(items.nth(1)).to_contain_text("new_comment")
            await expect(items.nth(1)).to_contain_text('"text": "first!"')
        finally:
            await browser.close()


async def test_live_page_is_off_unless_asked() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server, httpx.AsyncClient(base_url=server.http_url) as client:
        assert (await client.get("/events/live")).status_code == 404
