"""Shared set-up for the accessibility tests: what they need from the system, and a desktop session per module."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import missing, require_tool

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's Python, where python3-gi and python3-pyqt5 install the toolkits


def require_desktop_stack() -> None:
    require_tool("Xvfb", "xvfb")
    require_tool("dbus-daemon", "dbus-daemon")
    require_tool("/usr/libexec/at-spi-bus-launcher", "at-spi2-core")
    require_tool("xprop", "x11-utils")
    require_tool("xdotool", "xdotool")  # the session moves the pointer over each new application


def require_system_module(check: str, what: str, packages: str) -> None:
    """A toolkit binding importable by Debian's python3 (the test apps run there, not in the venv)."""
    require_tool(SYSTEM_PYTHON, "python3")
    if subprocess.run([SYSTEM_PYTHON, "-c", check], capture_output=True, timeout=60).returncode != 0:
        missing(f"needs {what} for {SYSTEM_PYTHON} (apt-get install {packages})")


def require_gtk() -> None:
    require_system_module("import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk",
                          "PyGObject with GTK 3", "python3-gi python3-gi-cairo gir1.2-gtk-3.0")


def require_qt() -> None:
    require_system_module("from PyQt5 import QtWidgets", "PyQt5", "python3-pyqt5")


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return tmp_path_factory.mktemp("a11y") / "actions.jsonl"
