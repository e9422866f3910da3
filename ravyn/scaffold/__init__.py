"""``ravyn new``: a project laid out the way the docs recommend, from the files in
``project/`` (``__project__`` in names and contents becomes the project's name; a
``-tpl`` suffix is dropped, so the templates are not taken for this package's code, and a
``dot-`` prefix becomes ``.``: ``dot-env-tpl`` is ``.env``)."""

from __future__ import annotations

import keyword
from pathlib import Path

TEMPLATE = Path(__file__).parent / "project"
PLACEHOLDER = "__project__"


def create_project(name: str, parent: Path) -> Path:
    """Write the project ``name`` into ``parent / name``; returns that directory."""
    if not name.isidentifier() or keyword.iskeyword(name) or not name.islower():
        raise ValueError(
            f"{name!r} cannot name a Python package: use lower case letters, digits and _ "
            "(e.g. my_shop)"
        )
    root = parent / name
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} exists and is not empty: choose another name or place")
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(TEMPLATE).as_posix().replace(PLACEHOLDER, name)
        target = root / relative.removesuffix("-tpl")
        if target.name.startswith("dot-"):
            target = target.with_name("." + target.name.removeprefix("dot-"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text(encoding="utf-8").replace(PLACEHOLDER, name))
    return root
