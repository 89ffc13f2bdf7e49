"""What every test module may use: the repository's paths, real server processes on 127.0.0.1, and the rule for
tests that need a system tool.

A test that needs a program the README's install does not bring (an X server, zenity, Tk, bubblewrap, tmux) asks
for it through `require_tool`: on a newcomer's machine the test skips with one line naming the tool and the Debian
package that provides it (`pytest -ra` lists them); under CI, where `.ci/run` installs every tool and sets
SCREENGROUND_REQUIRE_SYSTEM_TOOLS=1, a missing tool fails the test instead, so CI never silently runs less.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
DEV = REPO.parent / "shared" / "bench" / "dev"
STUB = REPO / "tests" / "stubs" / "chat_stub.py"

REQUIRE_TOOLS_VARIABLE = "SCREENGROUND_REQUIRE_SYSTEM_TOOLS"


def tools_required() -> bool:
    return os.environ.get(REQUIRE_TOOLS_VARIABLE, "") not in ("", "0")


def missing(what: str) -> None:
    """Skips the calling test, or fails it where CI promised every tool is installed."""
    if tools_required():
        pytest.fail(f"{what} ({REQUIRE_TOOLS_VARIABLE} is set: .ci/run installs it)", pytrace=False)
    pytest.skip(what, allow_module_level=True)


def require_tool(executable: str, package: str) -> str:
    """The path of a system program, or a skip naming it and the Debian package that provides it."""
    path = shutil.which(executable)
    if path is None:
        missing(f"needs {executable} (apt-get install {package})")
    return path


def require_module(name: str, install: str) -> ModuleType:
    """A Python module that a system package or an extra provides (tkinter, torch), or a skip naming it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing(f"needs the Python module {name} ({install}): {exc}")
        raise  # unreachable: missing() skips or fails


@pytest.fixture
def isolated() -> None:
    """The python tool's bubblewrap sandbox working here, or a skip (a failure under CI) that says why not."""
    require_tool("bwrap", "bubblewrap")
    from tools import isolation

    found = isolation()
    if not found.isolated:
        missing(f"bubblewrap cannot isolate the python tool here: {found.reason}")


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
    """The scripted chat-completions stub (`stubs/chat_stub.py`) with these arguments."""
    return running([sys.executable, str(STUB), *args])


class Listener:
    """A TCP port on 127.0.0.1 that accepts nothing but remembers whether anything connected to it: the target for
    code that must not reach this machine's network (tests never aim at any other address)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port: int = self.socket.getsockname()[1]

    def reached(self) -> bool:
        # The kernel completes handshakes into the backlog without accept(), closed connections included.
        self.socket.setblocking(False)
        try:
            connection, _ = self.socket.accept()
        except BlockingIOError:
            return False
        connection.close()
        return True

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc_info) -> None:
        self.socket.close()
