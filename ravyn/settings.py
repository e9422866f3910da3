"""RavynSettings: the knobs an operator turns without touching code (environment ``RAVYN_*``)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

ENV_PREFIX = "RAVYN_"
DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024
DEFAULT_SYNC_LISTENER_THREADS = 8


class RavynSettings(msgspec.Struct, kw_only=True):
    """Application settings. ``RavynSettings.from_env()`` reads ``RAVYN_<FIELD>`` variables
    (``RAVYN_DEBUG=true``, ``RAVYN_EVENT_TRANSPORT=redis://localhost:6379/0``, ...)."""

    debug: bool = False
    event_transport: str | None = None
    event_secret: str | None = None
    max_in_flight: int = 10_000
    grace_period: float = 10.0
    wait_for_listeners: bool = False
    enable_scheduler: bool = True
    log_json: bool | None = None
    log_level: str = "INFO"
    max_body_size: int = DEFAULT_MAX_BODY_SIZE  # bytes; a larger request body is a 413
    # seconds the event loop may be blocked before a warning names what blocks it; None: off
    loop_stall_threshold: float | None = 0.5
    # threads for plain `def` listeners, apart from the pool that runs plain `def` routes
    sync_listener_threads: int = DEFAULT_SYNC_LISTENER_THREADS
    max_form_parts: int = 1000  # fields and files of one form; more is a 413
    max_form_field_size: int = 1024 * 1024  # bytes of one form field (not a file); more: 413
    secret_key: str | None = None  # signs cookies and tokens (ravyn.auth); required unless debug
    static_dir: str | None = None
    static_url: str = "/static"
    templates_dir: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RavynSettings:
        """Settings from ``RAVYN_*`` variables; a value of the wrong type names the variable."""
        environ = os.environ if environ is None else environ
        values = {
            field: environ[ENV_PREFIX + field.upper()]
            for field in cls.__struct_fields__
            if ENV_PREFIX + field.upper() in environ
        }
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(
                f"Invalid ravyn setting in the environment: {exc} "
                f"(the variable is {ENV_PREFIX}<FIELD> in upper case)."
            ) from exc
