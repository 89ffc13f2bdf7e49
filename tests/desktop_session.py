"""A throwaway desktop for tests and benchmarks: Xvfb, a D-Bus session bus, the AT-SPI bus, and applications in it.

    with DesktopSession(screen=(1280, 800)) as session:
        app = session.launch(["/usr/bin/python3", "tests/apps/gtk_form.py"], app="gtk_form", min_elements=10)
        ...   # os.environ has the session's DISPLAY and DBUS_SESSION_BUS_ADDRESS while it runs

    with DesktopSession(monitors=((0, 0, 1280, 800), (1280, 200, 1024, 768))) as session:   # two monitors

Everything is a child process of the caller, stopped on exit. Xvfb picks its own display number (-displayfd); the
AT-SPI bus comes from at-spi-bus-launcher (the registry is started on demand by the bus); `launch` polls the tree
until the application has published enough elements, restarting it when it never does.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from agent.a11y.headless import publish_bus_on_display, start_atspi_bus, start_session_bus, start_xvfb

REPO = Path(__file__).resolve().parents[1]
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
        """Stops the application and whatever it started (it runs in a process group of its own)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue


def set_monitors(layout: tuple[tuple[int, int, int, int], ...]) -> None:
    """Split the X screen ($DISPLAY) into RandR 1.5 monitors, each (left, top, width, height) in root pixels.

    Xvfb has one output and one CRTC, so `+xinerama` or a second `-screen` never gives mss two monitors; mss >= 10.2
    lists RandR 1.5 monitors, which a client can define anywhere on the root window. The first one takes Xvfb's
    only output, so the automatic whole-screen monitor of that output is no longer listed."""
    for index, (left, top, width, height) in enumerate(layout, start=1):
        millimetres = f"{width}/{round(width * 25.4 / 96)}x{height}/{round(height * 25.4 / 96)}"
        subprocess.run(["xrandr", "--setmonitor", f"SG-{index}", f"{millimetres}+{left}+{top}",
                        "screen" if index == 1 else "none"], check=True, timeout=20, capture_output=True)


class DesktopSession:
    def __init__(self, screen: tuple[int, int] = (1280, 800), xvfb_args: tuple[str, ...] = (),
                 monitors: tuple[tuple[int, int, int, int], ...] = ()):
        """`monitors` (left, top, width, height each) splits the screen into that layout, which then sets its size:
        the layout's bounding box (parts of it may lie on no monitor)."""
        if monitors:
            screen = (max(x + w for x, _, w, _ in monitors), max(y + h for _, y, _, h in monitors))
        self.screen = screen
        self.monitors = monitors
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
        # A private runtime dir: the AT-SPI socket and any portal mount go there, not into the user's ~/.cache.
        self._runtime = tempfile.TemporaryDirectory(prefix="screenground-session-")
        bus, address = start_session_bus(Path(self._runtime.name))
        self.processes.append(bus)
        self.env = {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": self._runtime.name}
        for key, value in self.env.items():
            self._saved[key] = os.environ.get(key)
            os.environ[key] = value
        if self.monitors:
            set_monitors(self.monitors)
        self.processes.append(start_atspi_bus())
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
        from agent.a11y.atspi import bus_address

        publish_bus_on_display(bus_address(1.0))

    def launch(self, argv: list[str], app: str, min_elements: int = 1, env: dict[str, str] | None = None,
               timeout: float = 60.0, ready_line: bool = False, tries: int = 2) -> App:
        """Start an application and wait until its tree shows at least `min_elements` elements (by AT-SPI
        application name `app`); a start that never gets there is stopped and retried, `tries` in all. The error
        after the last try says what the tree showed, since a toolkit that fails to publish prints nothing."""
        problem = None
        for attempt in range(tries):
            self._publish_bus_on_display()
            errors = Path(self._runtime.name) / f"{app}-{attempt}.stderr"
            process = subprocess.Popen(
                argv, stdout=subprocess.PIPE if ready_line else subprocess.DEVNULL, stderr=errors.open("w"),
                text=True, env={**app_environment(), **(env or {})}, cwd=REPO, start_new_session=True,
            )
            started = App(process, app)
            self.apps.append(started)
            if ready_line and not started.expect("ready", timeout=timeout / tries):
                started.stop()
                raise RuntimeError(f"{argv} did not report ready: {errors.read_text()[-2000:]}")
            problem = self.wait_tree(app, min_elements, timeout / tries)
            if problem is None:
                started.events(quiet=0.05)
                return started
            started.stop()
        raise RuntimeError(f"{app} never published {min_elements} accessible elements in {tries} starts; "
                           f"last: {problem}; stderr: {errors.read_text()[-2000:]!r}")

    def wait_tree(self, app: str, min_elements: int, timeout: float) -> str | None:
        """Until the application shows `min_elements` elements and their boxes stop moving (a window still being
        laid out after start-up would send the first clicks astray): None then, else what the last walk saw.

        The walks are patient (2 s per call, 5 s in all): on a loaded machine an application answering its first
        questions slowly is still starting, not hung."""
        from agent.a11y import walk

        if min_elements <= 0:
            return None
        deadline = time.monotonic() + timeout
        previous = None
        seen = "no walk finished"
        while time.monotonic() < deadline:
            snapshot = walk(scope="desktop", deadline_s=5.0, call_timeout_s=2.0)
            mine = [e for e in snapshot.elements if e.app == app]
            # Controls only: a progress bar or clock that keeps changing must not keep the session waiting.
            boxes = sorted((e.name, e.role, e.box.to_list()) for e in mine if e.kinds)
            if len(mine) >= min_elements and boxes == previous:
                return None
            if len(mine) >= min_elements and previous is None:
                # As a user's pointer would: LibreOffice 7.4 reports its toolbars' extents shifted by the menu
                # bar's height until the pointer first moves over its window.
                frame = next((e for e in mine if e.role in ("frame", "dialog", "window")), mine[0])
                x, y = frame.box.center.rounded()
                subprocess.run(["xdotool", "mousemove", str(x), str(y)], check=False, timeout=10)
            previous = boxes if len(mine) >= min_elements else None
            apps = sorted({e.app for e in snapshot.elements})
            seen = (f"walk {snapshot.status} ({snapshot.reason or 'no reason'}), {len(mine)} elements of {app}, "
                    f"applications {apps}, notes {list(snapshot.notes)}")
            time.sleep(0.5)
        return seen

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
        if hasattr(self, "_runtime"):
            self._runtime.cleanup()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _restart_walker() -> None:
    from agent.a11y.walker import shared

    shared().close()


def app_environment() -> dict[str, str]:
    """Our environment minus what our own libraries put there for themselves: opencv-python points Qt at its bundled
    plugins and fonts (QT_QPA_*) when imported, which breaks every other Qt application started from here."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QT_QPA_") and k != "QT_PLUGIN_PATH"}


def have(*executables: str) -> bool:
    return all(shutil.which(e) for e in executables)
