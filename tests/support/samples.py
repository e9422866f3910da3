"""Load a docs_src sample the way a user runs it: as a fresh module, by path."""

from __future__ import annotations

import importlib.util
from contextlib import nullcontext
from itertools import count
from pathlib import Path
from types import ModuleType

from ravyn.events import Registry, active_registry, use_registry

ROOT = Path(__file__).resolve().parents[2]
_loads = count()


def load_sample(relative_path: str, registry: Registry | None = None) -> ModuleType:
    """Execute ``docs_src/<relative_path>`` as a new module each call, so its decorators run
    afresh, registering into ``registry`` (by default the active one, as a plain import
    would). The registry is kept as ``module.docs_registry`` for an app or bus a test builds
    around the module."""
    path = ROOT / "docs_src" / relative_path
    spec = importlib.util.spec_from_file_location(f"docs_src_{path.stem}_{next(_loads)}", path)
    assert spec is not None and spec.loader is not None, f"no sample at {path}"
    module = importlib.util.module_from_spec(spec)
    with use_registry(registry) if registry is not None else nullcontext():
        spec.loader.exec_module(module)
        module.docs_registry = active_registry()
    return module
