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


def test_every_docs_src_sample_is_run_by_a_test():
    """A test names each sample: by its path under docs_src, its module, or (the samples'
    loaders) its folder and its name as strings in one test file."""
    tests = [path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py")]

    def named_by(test: str, sample: Path) -> bool:
        relative = sample.relative_to(ROOT / "docs_src")
        if relative.as_posix() in test or ".".join(relative.with_suffix("").parts) in test:
            return True
        folder = re.escape(relative.parent.as_posix())
        return bool(
            re.search(rf'["/]{folder}["/]', test)
            and re.search(rf'["/]{re.escape(sample.stem)}(\.py)?"', test)
        )

    unrun = [
        sample.relative_to(ROOT).as_posix()
        for sample in sorted((ROOT / "docs_src").rglob("*.py"))
        if sample.name != "__init__.py" and not any(named_by(test, sample) for test in tests)
    ]
    assert unrun == []


def test_every_page_is_in_the_nav_and_the_index_lists_the_users_pages():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:", 1)[1]
    in_nav = set(re.findall(r"([\w-]+\.md)\s*$", nav, re.MULTILINE))
    pages = {page.name for page in (ROOT / "docs").glob("*.md")}
    assert sorted(pages - in_nav) == []
    users_pages = set(re.findall(r"([\w-]+\.md)\s*$", nav.split("Contributors:")[0], re.MULTILINE))
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert sorted(page for page in users_pages - {"index.md"} if f"]({page})" not in index) == []


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
