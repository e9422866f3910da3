"""The bus alone, as a script uses it: no app, no set-up, the process default bus."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(30)

SCRIPT = textwrap.dedent(
    """
    import asyncio

    from ravyn import Event, observable, trigger_event

    received = []


    @observable(listen=["ping"])
    async def pong(n: int) -> None:
        await asyncio.sleep(0.01)
        received.append(n)


    @observable(listen=["ping"])
    def audit(event: Event) -> None:  # a sync listener, run in a worker thread
        received.append(event.name)


    async def main() -> None:
        event = await trigger_event("ping", {"n": 7})
        print(sorted(map(str, received)), event.source)


    asyncio.run(main())
    """
)


def test_trigger_event_in_a_script_reaches_the_default_bus_and_waits(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=25
    )
    assert result.returncode == 0, result.stderr
    # Outside an app the default bus is not started, so emit waits for every listener.
    assert result.stdout.strip() == "['7', 'ping'] trigger_event"
