"""Real server processes on 127.0.0.1 for the tests: start one, read the port it prints, stop it afterwards."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

STUB = Path(__file__).with_name("chat_stub.py")
REPO = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running(command: list[str], port_pattern: str = r"^(\d+)$", timeout_s: float = 120.0):
    """Starts `command`, waits for a stdout line matching `port_pattern`, yields (process, port), then stops it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               cwd=REPO)
    found: list[int] = []
    seen: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            seen.append(line)
            match = re.search(port_pattern, line.strip())
            if match and not found:
                found.append(int(match.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(timeout_s) or not found:
            raise RuntimeError(f"{command} did not start: {''.join(seen)[-2000:]}")
        yield process, found[0]
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stub(*args: str):
    """The scripted chat-completions stub (`chat_stub.py`) with these arguments."""
    return running([sys.executable, str(STUB), *args])
