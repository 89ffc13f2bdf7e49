"""Never blocking: a missing bus, a bus that accepts and then says nothing, and an application that stops answering
all cost at most the deadline, and the desktop falls back to vision and says why in the trace."""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from agent.a11y import Walker, walk
from agent.a11y.backend import Limits
from agent.a11y.walker import shared
from agent.desktop import Desktop
from tests.agent.a11y.conftest import SYSTEM_PYTHON, require_desktop_stack, require_gtk
from tests.conftest import REPO
from tests.desktop_session import DesktopSession


class SilentBus:
    """A unix socket that completes D-Bus authentication and then never answers: a hung bus."""

    def __init__(self, path):
        self.path = str(path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(8)
        self.clients = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.clients.append(client)
            threading.Thread(target=self._talk, args=(client,), daemon=True).start()

    def _talk(self, client):
        data = b""
        while b"BEGIN" not in data:
            chunk = client.recv(4096)
            if not chunk:
                return
            data += chunk
            if b"AUTH" in chunk:
                client.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
        # Authenticated: from here on, silence (the Hello call is never answered).

    @property
    def address(self):
        return f"unix:path={self.path}"

    def close(self):
        self.server.close()
        for client in self.clients:
            client.close()


@pytest.fixture
def fresh_walker():
    """Walks with this test's environment: the shared walker's worker is restarted around the test."""
    shared().close()
    yield
    shared().close()


def test_no_bus_is_unavailable_at_once(monkeypatch, fresh_walker):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("AT_SPI_BUS_ADDRESS", raising=False)
    snapshot = walk()
    assert snapshot.status == "unavailable" and not snapshot.elements
    assert "DBUS_SESSION_BUS_ADDRESS" in snapshot.reason


@pytest.mark.parametrize("variable", ["DBUS_SESSION_BUS_ADDRESS", "AT_SPI_BUS_ADDRESS"])
def test_a_silent_bus_costs_at_most_the_deadline(tmp_path, monkeypatch, fresh_walker, variable):
    bus = SilentBus(tmp_path / "bus")
    monkeypatch.setenv(variable, bus.address)
    try:
        for deadline in (0.5, 1.0):
            started = time.monotonic()
            snapshot = Walker().walk(Limits(call_timeout_s=30.0), deadline_s=deadline)
            took = time.monotonic() - started
            assert snapshot.status in ("failed", "unavailable") and not snapshot.elements
            assert deadline * 0.9 <= took < deadline + 1.0 or snapshot.status == "unavailable", (took, snapshot)
    finally:
        bus.close()


@pytest.fixture(scope="module")
def session():
    require_desktop_stack()
    require_gtk()
    with DesktopSession((1280, 800)) as running:
        running.form = running.launch([SYSTEM_PYTHON, "tests/apps/gtk_form.py"], app="gtk_form.py",
                                      min_elements=10, ready_line=True)
        running.stalled = subprocess.Popen([sys.executable, str(REPO / "tests/apps/stalled_app.py")],
                                           stdout=subprocess.PIPE, text=True, env=dict(os.environ))
        assert running.stalled.stdout.readline().strip() == "ready"
        yield running
        running.stalled.kill()
        running.stalled.wait()


def test_a_stalled_application_is_skipped_not_waited_for(session, fresh_walker):
    started = time.monotonic()
    snapshot = walk(scope="desktop", call_timeout_s=0.4)
    took = time.monotonic() - started
    assert snapshot.status == "complete" and took < 1.5
    assert any("did not answer" in note for note in snapshot.notes)
    assert any(e.name == "Apply" for e in snapshot.elements)  # the healthy application is read in full
    again = walk(scope="desktop", call_timeout_s=0.4)  # remembered: not asked again for a while
    assert any("did not answer the last time" in note for note in again.notes)
    assert any(e.name == "Apply" for e in again.elements)
    # A more patient walk (a test waiting for an app that starts slowly on a loaded machine) asks it again.
    patient = walk(scope="desktop", call_timeout_s=0.8)
    assert any("did not answer within 0.8s" in note for note in patient.notes), patient.notes
    assert not any("the last time" in note for note in patient.notes)


def test_the_deadline_cuts_a_walk_that_waits_too_long(session, fresh_walker, tmp_path):
    # Per-call timeouts longer than the deadline: the walk waits on the stalled app and is killed at 1 s.
    started = time.monotonic()
    snapshot = walk(scope="desktop", deadline_s=1.0, call_timeout_s=30.0)
    assert time.monotonic() - started < 2.0
    assert snapshot.status in ("partial", "failed") and "deadline 1s passed" in snapshot.reason
    # The desktop then grounds with vision and says why.
    from agent.a11y.grounder import A11yGrounder, FusedGrounder

    tree = A11yGrounder(deadline_s=1.0, call_timeout_s=30.0, scope="desktop")
    desktop = Desktop(FusedGrounder(_ocr(), tree), log_path=tmp_path / "actions.jsonl")
    located = desktop.locate("Apply")
    if located.prediction.extra["source"] == "vision":
        assert "deadline 1s passed" in located.prediction.trace[0].raw
    else:  # the active app's part of the tree arrived before the deadline: a partial tree with the answer
        assert located.prediction.extra["tree"] == "partial"
    desktop.execute(desktop.plan("click Apply", located.screenshot))
    assert session.form.events() == ["clicked Apply"]


def _ocr():
    import grounding

    return grounding.load("ocr")
