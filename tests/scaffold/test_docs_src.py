"""The sample of docs/new-project.md, run as written."""

from __future__ import annotations

import pytest


def test_settings_extend_ravyns_and_read_the_environment(load_docs_src, monkeypatch):
    defaults = load_docs_src("project/settings.py").settings
    assert (defaults.orders_per_page, defaults.debug) == (20, False)

    monkeypatch.setenv("RAVYN_ORDERS_PER_PAGE", "50")
    monkeypatch.setenv("RAVYN_DEBUG", "true")
    monkeypatch.setenv("RAVYN_SUPPORT_EMAIL", "help@shop.example")
    settings = load_docs_src("project/settings.py").settings
    assert (settings.orders_per_page, settings.debug) == (50, True)
    assert settings.support_email == "help@shop.example"

    monkeypatch.setenv("RAVYN_ORDERS_PER_PAGE", "many")
    with pytest.raises(ValueError, match="orders_per_page"):
        load_docs_src("project/settings.py")
