"""LibreOffice (its GTK 3 plugin) and Chromium (accessibility forced on) read over AT-SPI and acted on for
real; each application's own state says whether the click landed."""

import time

import pytest

from agent.a11y import walk
from agent.desktop import Desktop
from tests.agent.a11y.conftest import require_desktop_stack
from tests.conftest import REPO, require_tool
from tests.desktop_session import DesktopSession

PAGE = REPO / "tests" / "apps" / "web" / "form.html"
# Chromium 156.0.8078.114 (Debian's update of December 2026) publishes no tree for --force-renderer-accessibility
# alone, only when its environment says that accessibility is on, as a desktop with a screen reader's setting does.
CHROMIUM_ACCESSIBLE = {"ACCESSIBILITY_ENABLED": "1"}


@pytest.fixture(scope="module")
def session():
    require_desktop_stack()
    with DesktopSession((1280, 800)) as running:
        yield running


def wait_until(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def named(name, app):
    return [e for e in walk(scope="desktop").elements if e.name == name and e.app == app]


def test_chromium_page_controls(session, tmp_path):
    browser = require_tool("chromium", "chromium")
    app = session.launch(
        [browser, "--no-sandbox", "--force-renderer-accessibility", "--no-first-run", "--disable-gpu",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-position=0,0", "--window-size=900,600",
         PAGE.as_uri()],
        app="Chromium", min_elements=10, timeout=90, env=CHROMIUM_ACCESSIBLE,
    )
    desktop = Desktop(model="ocr", log_path=tmp_path / "actions.jsonl")
    for step, title in (("click the Save button", "clicked Save"), ("tick Newsletter", "toggled Newsletter"),
                        ("click the Help link", "link Help")):
        done = desktop.do(step)
        assert done.plan.targets[0].prediction.extra["source"] == "a11y", step
        # The page's own state: each control sets the document title, which the browser window's name shows.
        assert wait_until(lambda title=title: named(f"{title} - Chromium", "Chromium")), step
    app.stop()


def test_libreoffice_writer_toolbar(session, tmp_path):
    office = require_tool("soffice", "libreoffice-writer libreoffice-gtk3")
    app = session.launch(
        [office, "--writer", "--norestore", "--nologo", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}"],
        app="soffice", min_elements=40, timeout=180, env={"SAL_USE_VCLPLUGIN": "gtk3"},
    )
    [bold] = [e for e in named("Bold", "soffice") if e.role == "toggle button"]
    assert not {"checked", "pressed"} & bold.states
    desktop = Desktop(model="ocr", log_path=tmp_path / "actions.jsonl")
    done = desktop.click("the Bold button")
    assert done.plan.targets[0].prediction.extra["source"] == "a11y"
    # Writer's own state: the Bold toggle is now on.
    def bold_on() -> bool:
        return any({"checked", "pressed"} & e.states for e in named("Bold", "soffice") if e.role == "toggle button")

    assert wait_until(bold_on), [(e.role, sorted(e.states), e.box) for e in named("Bold", "soffice")]
    app.stop()
