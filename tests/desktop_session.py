"""A throwaway desktop for tests and benchmarks: Xvfb, a D-Bus session bus, the AT-SPI bus, and applications in it.

    with DesktopSession(screen=(1280, 800)) as session:
        app = session.launch(["/usr/bin/python3", "tests/apps/gtk_form.py"], app="gtk_form", min_elements=10)
        ...   # os.environ has the session's DISPLAY and DBUS_SESSION_BUS_ADDRESS while it runs

Everything is a child process of the caller, stopped on exit. Xvfb picks its own display number (-displayfd); the
AT-SPI bus comes from at-spi-bus-launcher (the registry is started on demand by the bus); `launch` polls the tree
until the application has published enough elements, restarting it once when it never registers (Qt 5.15's AT-SPI
bridge sometimes loses a race with its own bus connection at start-up).
"""

from __future__ import annotations

import os
import queue
import select
import shutil
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = "/usr/libexec/at-spi-bus-launcher"


def start_xvfb(screen: tuple[int, int], extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, int]:
    """An Xvfb server on a free display; returns (process, ':N', the read end Xvfb must keep open)."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{screen[0]}x{screen[1]}x24", "-nolisten", "tcp",
         *extra],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    number = b""
    while not number.endswith(b"\n") and select.select([read_end], [], [], 20)[0]:
        chunk = os.read(read_end, 64)
        if not chunk:
            break
        number += chunk
    if not number.strip().isdigit():
        server.kill()
        raise RuntimeError("Xvfb did not start")
    return server, f":{number.decode().strip()}", read_end


class App:
    """A started application; for our own test apps, the lines they print are the events they saw."""

    def __init__(self, process: subprocess.Popen, name: str):
        self.process, self.name = process, name
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        if process.stdout is not None:
            threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, wanted: str, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while wanted not in self.seen:
            try:
                self.seen.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                return False
        return True

    def events(self, quiet: float = 1.0) -> list[str]:
        """Everything reported besides 'ready', once nothing new came for `quiet` seconds; then forgotten."""
        while True:
            try:
                self.seen.append(self.lines.get(timeout=quiet))
            except queue.Empty:
                events, self.seen = [line for line in self.seen if line != "ready"], []
                return events

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class DesktopSession:
    def __init__(self, screen: tuple[int, int] = (1280, 800), xvfb_args: tuple[str, ...] = ()):
        self.screen = screen
        self.xvfb_args = xvfb_args
        self.processes: list[subprocess.Popen] = []
        self.apps: list[App] = []
        self.env: dict[str, str] = {}
        self._saved: dict[str, str | None] = {}

    def __enter__(self) -> DesktopSession:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        xvfb, display, self._xvfb_fd = start_xvfb(self.screen, self.xvfb_args)
        self.processes.append(xvfb)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.processes.append(bus)
        address = bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not start")
        self.env = {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}
        for key, value in self.env.items():
            self._saved[key] = os.environ.get(key)
            os.environ[key] = value
        os.environ.pop("AT_SPI_BUS_ADDRESS", None)
        self.processes.append(subprocess.Popen([LAUNCHER, "--launch-immediately"], stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
        self._wait_for_bus()
        self._publish_bus_on_display()
        _restart_walker()  # the walker's worker must see this session's bus and display

    def _wait_for_bus(self, timeout: float = 20.0) -> None:
        from agent.a11y.atspi import bus_address
        from agent.a11y.backend import Unavailable

        deadline = time.monotonic() + timeout
        while True:
            try:
                bus_address(1.0)
                return
            except Unavailable:
                if time.monotonic() > deadline:
                    raise RuntimeError("the AT-SPI bus did not come up") from None
                time.sleep(0.1)

    def _publish_bus_on_display(self) -> None:
        """Put the AT-SPI bus address on the X root window (AT_SPI_BUS), where at-spi-bus-launcher puts it in a desktop
        session: Qt 5 reads it there and connects at once; asking the session bus instead races with the bridge's
        registration and loses now and then."""
        from agent.a11y.atspi import bus_address

        subprocess.run(["xprop", "-root", "-f", "AT_SPI_BUS", "8s", "-set", "AT_SPI_BUS", bus_address(1.0)],
                       check=True, timeout=10, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def launch(self, argv: list[str], app: str, min_elements: int = 1, env: dict[str, str] | None = None,
               timeout: float = 60.0, ready_line: bool = False, tries: int = 2) -> App:
        """Start an application and wait until its tree shows at least `min_elements` elements (by AT-SPI
        application name `app`)."""
        for attempt in range(tries):
            process = subprocess.Popen(
                argv, stdout=subprocess.PIPE if ready_line else subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                text=True, env={**os.environ, **(env or {})}, cwd=REPO,
            )
            started = App(process, app)
            self.apps.append(started)
            if ready_line and not started.expect("ready", timeout=timeout):
                raise RuntimeError(f"{argv[0]} did not report ready")
            if self.wait_tree(app, min_elements, timeout / tries):
                started.events(quiet=0.05)
                return started
            started.stop()
        raise RuntimeError(f"{app} never published {min_elements} accessible elements")

    def wait_tree(self, app: str, min_elements: int, timeout: float) -> bool:
        from agent.a11y import walk

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snapshot = walk(scope="desktop", deadline_s=5.0)
            if sum(e.app == app for e in snapshot.elements) >= min_elements:
                return True
            time.sleep(0.3)
        return False

    def __exit__(self, *exc) -> None:
        for app in self.apps:
            app.stop()
        _restart_walker()
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if hasattr(self, "_xvfb_fd"):
            os.close(self._xvfb_fd)
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _restart_walker() -> None:
    from agent.a11y.walker import shared

    shared().close()


def have(*executables: str) -> bool:
    return all(shutil.which(e) for e in executables)
