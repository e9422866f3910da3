"""A blocking call in async code is named in the log: through a real uvicorn process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(60)

APP = textwrap.dedent(
    """
    import time

    from ravyn import Ravyn, post
    from ravyn.events import observable


    @post("/orders")
    @observable(send=["order_placed"])
    async def place_order() -> dict:
        return {"order_id": 1}


    @observable(listen=["order_placed"])
    async def blocking_listener(order_id: int) -> None:
        time.sleep(1.0)  # the mistake: a blocking call inside async def


    app = Ravyn(routes=[place_order])
    """
)


def test_a_listener_that_blocks_the_loop_is_named_in_the_log(tmp_path: Path) -> None:
    (tmp_path / "stall_app.py").write_text(APP)
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "RAVYN_LOOP_STALL_THRESHOLD": "0.3", "RAVYN_LOG_JSON": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "stall_app:app", "--port", str(port)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": f"{tmp_path}:{Path(__file__).parents[2]}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert httpx.post(f"http://127.0.0.1:{port}/orders", timeout=10).status_code == 201
        time.sleep(1.5)  # the listener blocks for 1 s after the response
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    stalls = [line for line in output.splitlines() if "event_loop_stalled" in line]
    assert len(stalls) == 1, output  # one line per stall, however long it lasts
    assert "stall_app.blocking_listener" in stalls[0]
    assert "stall_app.py:" in stalls[0]
