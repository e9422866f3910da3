"""``ravyn run`` as a user runs it: a real server process answering real requests."""

import functools
import re
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.cli.processes import running, wait_until_serving
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(120)

# A first request (a TLS handshake) to a server on a loaded machine may take longer than
# httpx's 5 s default: the server is up (its startup line was read), so wait for it.
http_get = functools.partial(httpx.get, timeout=60)

HOME_APP = """\
from ravyn import Ravyn, get

@get("/")
async def home() -> dict:
    return {{"module": "{module}"}}

app = Ravyn(routes=[home])
"""

SERVICE = """\
import os

from ravyn import Ravyn, Request, get


@get("/whoami")
async def whoami(request: Request) -> dict:
    return {
        "client": request.client.host,
        "root_path": request.scope["root_path"],
        "greeting": os.environ.get("GREETING"),
        "version": 1,
    }


def create_app() -> Ravyn:
    return Ravyn(routes=[whoami])
"""


def test_without_a_target_serves_main_app_then_app_app(tmp_path):
    (tmp_path / "app.py").write_text(HOME_APP.format(module="app"))
    port = free_port()
    with running("run", "--port", str(port), cwd=tmp_path, log=tmp_path / "a.log") as server:
        server.wait_for("Uvicorn running on")  # bound, and the app started
        assert http_get(f"http://127.0.0.1:{port}/").json() == {"module": "app"}
    (tmp_path / "main.py").write_text(HOME_APP.format(module="main"))
    port = free_port()
    with running("run", "--port", str(port), cwd=tmp_path, log=tmp_path / "m.log") as server:
        server.wait_for("Uvicorn running on")  # bound, and the app started
        assert http_get(f"http://127.0.0.1:{port}/").json() == {"module": "main"}


def test_factory_app_dir_env_file_root_path_and_proxy_headers(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "service.py").write_text(SERVICE)
    (tmp_path / ".env").write_text("GREETING=hello from .env\n")
    port = free_port()
    options = ["--factory", "--app-dir", "src", "--env-file", ".env", "--root-path", "/api"]
    command = ["run", "service:create_app", "--port", str(port), *options]
    with running(*command, cwd=tmp_path, log=tmp_path / "server.log") as server:
        server.wait_for("Uvicorn running on")  # bound, and the app started
        answer = http_get(
            f"http://127.0.0.1:{port}/whoami", headers={"X-Forwarded-For": "203.0.113.7"}
        ).json()
    assert answer == {
        "client": "203.0.113.7",  # the proxy's header, trusted from 127.0.0.1
        "root_path": "/api",
        "greeting": "hello from .env",
        "version": 1,
    }


def test_workers_start_that_many_processes(tmp_path):
    (tmp_path / "service.py").write_text(SERVICE)
    port = free_port()
    command = ["run", "service:create_app", "--factory", "--port", str(port), "--workers", "2"]
    with running(*command, "--no-proxy-headers", cwd=tmp_path, log=tmp_path / "s.log") as server:
        server.wait_for("Application startup complete", count=2)
        answer = http_get(
            f"http://127.0.0.1:{port}/whoami", headers={"X-Forwarded-For": "203.0.113.7"}
        ).json()
        pids = set(re.findall(r"Started server process \[(\d+)\]", server.output))
    assert len(pids) == 2
    assert answer["client"] == "127.0.0.1"  # --no-proxy-headers: the header is ignored


def test_https_with_a_certificate(tmp_path):
    (tmp_path / "app.py").write_text(HOME_APP.format(module="app"))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", "key.pem", "-out", "cert.pem"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    port = free_port()
    tls = ["--ssl-certfile", "cert.pem", "--ssl-keyfile", "key.pem"]
    with running("run", "--port", str(port), *tls, cwd=tmp_path, log=tmp_path / "s.log") as server:
        server.wait_for("Uvicorn running on")  # bound, and the app started
        trusting = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        answer = http_get(f"https://127.0.0.1:{port}/", verify=trusting)
    assert answer.json() == {"module": "app"}


def test_reload_watches_the_reload_dir(tmp_path: Path):
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "service.py"
    source.write_text(SERVICE)
    port = free_port()
    command = ["run", "service:create_app", "--factory", "--port", str(port), "--reload"]
    options = ["--app-dir", "src", "--reload-dir", "src"]
    with running(*command, *options, cwd=tmp_path, log=tmp_path / "s.log") as server:
        server.wait_for("Application startup complete")  # the socket is bound before
        assert http_get(f"http://127.0.0.1:{port}/whoami").json()["version"] == 1
        source.write_text(SERVICE.replace('"version": 1', '"version": 2'))
        server.wait_for("Application startup complete", count=2)
        wait_until_serving(f"http://127.0.0.1:{port}/whoami", server)
        assert http_get(f"http://127.0.0.1:{port}/whoami").json()["version"] == 2


def test_the_readme_command_serves_the_first_app(tmp_path):
    port = free_port()
    with running(
        "run", "docs_src.first_app:app", "--port", str(port), log=tmp_path / "s.log"
    ) as server:
        server.wait_for("Uvicorn running on")  # bound, and the app started
        assert http_get(f"http://127.0.0.1:{port}/").json() == {"hello": "world"}
