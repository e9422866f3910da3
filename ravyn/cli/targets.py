"""Find and import what a command runs: ``module:app`` targets and listener modules.

An import that fails is the user's to fix (a typo, the wrong directory), so it becomes one
line naming the module and where it was looked for, not a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from ravyn.cli.command import CommandError

# `ravyn run` without a target serves the first of these that exists in the app directory.
DEFAULT_TARGETS = ("main:app", "app:app")


def make_importable(app_dir: str | Path) -> Path:
    """Put ``app_dir`` first on ``sys.path`` (modules are found from the project directory)."""
    directory = Path(app_dir).resolve()
    if not directory.is_dir():
        raise CommandError(f"--app-dir {app_dir}: no such directory")
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    return directory


def default_target(app_dir: Path) -> str:
    """``main:app`` or ``app:app``, whichever module exists in ``app_dir``."""
    for target in DEFAULT_TARGETS:
        module = target.partition(":")[0]
        if (app_dir / f"{module}.py").is_file() or (app_dir / module / "__init__.py").is_file():
            return target
    raise CommandError(
        f"no app given and no main.py or app.py in {app_dir}: "
        "pass module:app (e.g. ravyn run myproject.main:app)"
    )


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    """``APP``, ``--app-dir`` and ``--factory``: how a command that reads an app finds it."""
    parser.add_argument("app", nargs="?", help="module:app (default: main:app or app:app)")
    parser.add_argument("--app-dir", default=".", help="directory the app is imported from")
    parser.add_argument("--factory", action="store_true", help="APP is a function returning it")


def app_from_arguments(args: argparse.Namespace) -> Any:
    """The app named by the arguments ``add_app_arguments`` declared."""
    app_dir = make_importable(args.app_dir)
    return load_app(args.app or default_target(app_dir), factory=args.factory)


def split_target(target: str) -> tuple[str, str]:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise CommandError(f"expected module:app (e.g. main:app), got {target!r}")
    return module_name, attribute


def load_app(target: str, *, factory: bool = False, call_factory: bool = True) -> Any:
    """``package.module:attribute`` -> the object; with ``factory`` the attribute is a callable
    that returns the app (called unless ``call_factory`` is false)."""
    module_name, attribute = split_target(target)
    module = import_module(module_name)
    try:
        app = getattr(module, attribute)
    except AttributeError:
        raise CommandError(
            f"module {module_name!r} has no attribute {attribute!r}{_suggestion(module, factory)}"
        ) from None
    if factory:
        if not callable(app):
            raise CommandError(f"--factory: {target} is not callable (it should return the app)")
        return app() if call_factory else app
    return app


def import_module(name: str) -> ModuleType:
    """Import a user's module; a failure is one ``CommandError`` line (the cause chained)."""
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise import_error([name], exc) from exc


def import_error(names: list[str], exc: BaseException) -> CommandError:
    """The one line for ``exc``, raised while importing one of the modules ``names``."""
    missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
    for name in names:
        if missing is not None and (name == missing or name.startswith(f"{missing}.")):
            return CommandError(
                f"no module named {name!r} here ({Path.cwd()}): run the command from your "
                "project directory (or pass --app-dir) and check the spelling"
            )
    return CommandError(_import_failure(", ".join(names), exc))


def _import_failure(name: str, exc: BaseException) -> str:
    """``importing 'app' failed: NameError: name 'x' is not defined (app.py:3)``."""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}:{exc.lineno}"
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        user_frames = [frame for frame in frames if "importlib" not in frame.filename]
        where = f"{user_frames[-1].filename}:{user_frames[-1].lineno}" if user_frames else ""
    location = f" ({_relative(where)})" if where else ""
    return f"importing {name!r} failed: {type(exc).__name__}: {exc}{location}"


def _relative(where: str) -> str:
    path = Path(where)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return where


def _suggestion(module: ModuleType, factory: bool) -> str:
    """Point at the module's Ravyn app (or its factory functions) when the name was wrong."""
    from ravyn.app import Ravyn

    if factory:
        names = [
            name
            for name, value in vars(module).items()
            if callable(value) and getattr(value, "__module__", None) == module.__name__
        ]
    else:
        names = [name for name, value in vars(module).items() if isinstance(value, Ravyn)]
    return f": did you mean {names[0]!r}?" if len(names) == 1 else ""
