#!/usr/bin/env bash
# The README's test command: set everything up, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/mypy  # strict on ravyn/events ([tool.mypy] in pyproject.toml)
exec .venv/bin/python -m pytest "$@"
