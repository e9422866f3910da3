"""The event side (``ravyn.events``, a worker) loads no web layer; ``ravyn`` loads lazily."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WEB_PACKAGES = ("lilya", "httpx", "uvicorn", "jinja2", "multipart")
WEB_MODULES = (
    "ravyn.app",
    "ravyn.routing",
    "ravyn.middleware",
    "ravyn.bridge",
    "ravyn.openapi",
    "ravyn.asyncapi",
    "ravyn.requests",
    "ravyn.responses",
    "ravyn.websockets",
)


def modules_loaded_by(statement: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    script = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        timeout=60,
    )
    return result.stdout.split()


def web_layer(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        if name.split(".")[0] in WEB_PACKAGES
        or any(name == web or name.startswith(f"{web}.") for web in WEB_MODULES)
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "import ravyn.events",
        "import ravyn.events.transports",
        "from ravyn.events.worker import serve_worker",
        "from ravyn.cli.commands import worker",
        "import ravyn",
    ],
)
def test_the_event_side_loads_no_web_layer(statement: str) -> None:
    loaded = modules_loaded_by(statement)
    assert "ravyn" in loaded
    assert web_layer(loaded) == []


def test_a_name_of_ravyn_loads_its_module_on_first_use() -> None:
    loaded = modules_loaded_by("from ravyn import observable, Ravyn")
    assert "ravyn.app" in loaded and "lilya" in loaded


def test_observable_is_one_function_at_every_documented_path() -> None:
    import ravyn
    import ravyn.events
    import ravyn.utils.decorators

    assert ravyn.observable is ravyn.events.observable is ravyn.utils.decorators.observable
    assert "observable" in ravyn.__all__ and "observable" in dir(ravyn)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        ravyn.nothing_here  # noqa: B018
