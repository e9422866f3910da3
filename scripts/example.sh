#!/usr/bin/env bash
# The README's example command: install ravyn with a server and run the first app
# (in-memory event bus, nothing else to start) on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet -e '.[standard]'
exec .venv/bin/ravyn run docs_src.first_app:app --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
