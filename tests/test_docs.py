"""The documentation site builds, and every docs_src sample is shown on a page."""

import os
import re
import subprocess
import sys
from pathlib import Path

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
