import io
import json
import re
import sys

import pytest
import structlog

from ravyn.app import Ravyn
from ravyn.logging import configure_logging, get_logger
from ravyn.settings import RavynSettings

pytestmark = pytest.mark.timeout(30)


def test_settings_from_environment_variables():
    settings = RavynSettings.from_env(
        {"RAVYN_DEBUG": "true", "RAVYN_MAX_IN_FLIGHT": "50", "RAVYN_LOG_LEVEL": "DEBUG"}
    )
    assert (settings.debug, settings.max_in_flight, settings.log_level) == (True, 50, "DEBUG")
    assert settings.event_transport is None


def test_invalid_environment_value_names_the_variable():
    with pytest.raises(ValueError, match="max_in_flight"):
        RavynSettings.from_env({"RAVYN_MAX_IN_FLIGHT": "lots"})


def test_app_arguments_override_settings():
    settings = RavynSettings(debug=True, wait_for_listeners=True, grace_period=3.0)
    app = Ravyn(settings=settings, wait_for_listeners=False)
    assert app.debug is True
    assert app.wait_for_listeners is False
    assert app.events.grace_period == 3.0


def test_configure_logging_json_lines_and_level(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        configure_logging(json=True, level="WARNING")
        logger = get_logger("ravyn.test")
        logger.info("hidden")
        logger.warning("shown", answer=42)
        [line] = stream.getvalue().splitlines()
        record = json.loads(line)
        assert (record["event"], record["answer"], record["level"]) == ("shown", 42, "warning")
    finally:
        structlog.reset_defaults()


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="Unknown log level"):
        configure_logging(level="LOUD")


def test_configure_logging_console_lines(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        configure_logging(json=False)
        get_logger("ravyn.test").info("shown", answer=42)
        [line] = stream.getvalue().splitlines()
        plain = re.sub(r"\x1b\[[0-9;]*m", "", line)  # without the terminal colours
        assert "shown" in plain and "answer=42" in plain
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    finally:
        structlog.reset_defaults()
