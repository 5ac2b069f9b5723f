"""A Prefect API for ``zhnews serve``: schedules need a real server, not the ephemeral one.

When ``PREFECT_API_URL`` is set (a team's Prefect server or Prefect Cloud) it is used as it
is; otherwise a local ``prefect server start`` is launched for the life of ``serve``. Must
run before Prefect is imported, since Prefect reads its settings at import.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextmanager
def prefect_api(timeout_s: float = 90.0, log: Path | None = None) -> Iterator[str]:
    """Yield the API URL to serve against, starting a local server when none is configured."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    prefect_cli = Path(sys.executable).with_name("prefect")
    log_file = open(log or os.devnull, "ab")
    proc = subprocess.Popen(
        [str(prefect_cli), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log_file, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while not _healthy(api_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local Prefect server did not start (exit {proc.poll()}); see {log or 'its log'}")
            time.sleep(0.5)
        os.environ["PREFECT_API_URL"] = api_url
        yield api_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log_file.close()
