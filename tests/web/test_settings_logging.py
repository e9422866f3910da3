import io
import json
import re
import sys

import pytest
import structlog

from ravyn.app import Ravyn
from ravyn.logging import MAX_TRACEBACK_FRAMES, configure_logging, get_logger
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


def test_an_app_configures_logging_when_the_process_did_not():
    structlog.reset_defaults()
    try:
        Ravyn(settings=RavynSettings(log_json=True, log_level="WARNING"))
        assert structlog.is_configured()
        configured = structlog.get_config()["processors"]
        assert isinstance(configured[-1], structlog.processors.JSONRenderer)
        before = structlog.get_config()
        Ravyn(settings=RavynSettings(log_json=False))  # the first configuration stays
        assert structlog.get_config() == before
    finally:
        structlog.reset_defaults()


@pytest.mark.parametrize("json_lines", [True, False], ids=["json", "console"])
def test_a_traceback_is_plain_bounded_and_never_shows_locals(monkeypatch, json_lines):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)

    def deep(level: int, password: str = "hunter2-secret") -> None:
        if level:
            deep(level - 1)
        raise RuntimeError("cannot reach redis://:Sup3rSecretPw@db:6379/0")

    try:
        configure_logging(json=json_lines)
        try:
            deep(200)
        except RuntimeError as exc:
            get_logger("ravyn.errors").error("unhandled_exception", exc_info=exc)
    finally:
        structlog.reset_defaults()
    output = stream.getvalue()
    assert "hunter2-secret" not in output and "Sup3rSecretPw" not in output
    assert "redis://***@db:6379/0" in output
    text = json.loads(output)["exception"] if json_lines else output
    assert text.startswith("Traceback") or "Traceback" in text.splitlines()[1]
    assert "RuntimeError: cannot reach" in text.strip().splitlines()[-1]
    # the innermost frames only: three shown, the rest of MAX_TRACEBACK_FRAMES counted
    assert text.count(", in deep") == 4
    assert f"[Previous line repeated {MAX_TRACEBACK_FRAMES - 4} more times]" in text
