"""The redis-server the template's tests start for themselves
(`rendering.private_redis_url`) ends with the run that started it, however
that run ends: an xdist worker killed mid-run leaves no server behind."""

import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from rendering import REPO_ROOT, private_redis_url

STARTS_A_SERVER = """\
import sys, time
sys.path[:0] = ["tests/support", "hooks"]
from rendering import private_redis_url
print(private_redis_url("a killed run"), flush=True)
time.sleep(600)
"""


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_a_killed_runs_server_stops_with_it(how: signal.Signals) -> None:
    private_redis_url("the check that redis-server is installed")
    with subprocess.Popen(
        [sys.executable, "-c", STARTS_A_SERVER],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        stdout=subprocess.PIPE,
        text=True,
    ) as run:
        assert run.stdout is not None
        port = urlsplit(run.stdout.readline().strip()).port
        assert port
        assert listening(port)

        os.kill(run.pid, how)
        run.wait(timeout=10)

    deadline = time.monotonic() + 10
    while listening(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not listening(port), f"the redis-server on port {port} outlived its run"
