"""The documentation site builds, and every docs_src sample is shown on a page."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = re.compile(r'--8<--\s+"([^"]+)"')


def test_the_site_builds_strictly(tmp_path):
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "observables" / "index.html").exists()


def test_every_docs_src_sample_is_included_by_a_page():
    included = {
        match
        for page in (ROOT / "docs").rglob("*.md")
        for match in SNIPPET.findall(page.read_text(encoding="utf-8"))
    }
    samples = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "docs_src").rglob("*.py")
        if path.name != "__init__.py"
    }
    assert sorted(samples - included) == []


def test_every_install_line_installs_this_project():
    """PyPI's `ravyn` is another project: a line installing ravyn says from where (a git URL,
    a checkout with -e, or a wheel file), never the bare name."""
    bare = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for command in line.split("pip install")[1:]:
                words = command.replace('"', " ").replace("'", " ").split()
                names_ravyn = any(word.split("[")[0] == "ravyn" for word in words[:1])
                if names_ravyn and "@" not in words[1:2]:
                    bare.append(f"{page.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bare == []


HEADLINE_SAMPLES = [
    "first_app.py",
    "events/quick_start.py",
    "scheduler/scheduled_events.py",
    "bridge/comments.py",
    "transports/app.py",
]


@pytest.mark.parametrize("sample", HEADLINE_SAMPLES)
def test_a_headline_sample_starts_without_catalogue_warnings(sample):
    """What a user copies first starts clean: every event sent is heard and vice versa."""
    from ravyn.events import Registry
    from tests.support.samples import load_sample

    module = load_sample(sample, Registry())
    assert module.app.events.catalogue()["warnings"] == []
