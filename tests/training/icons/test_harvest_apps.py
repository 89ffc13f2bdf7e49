"""The harvested applications: never one of the benchmarks', some held out of training to measure unseen apps."""

from __future__ import annotations

import pytest

from training.icons import harvest
from training.icons.harvest.apps import APPS, EXCLUDED, App, excluded


def test_no_benchmark_application_is_harvested():
    assert [(app.name, excluded(app)) for app in APPS if excluded(app)] == []


@pytest.mark.parametrize("app", [
    App("office", "gtk3", ("debian:libreoffice-writer",), ("lowriter",)),
    App("paint", "gtk3", ("debian:gimp",), ("gimp-2.10",)),
    App("vector", "gtk3", (), ("/usr/bin/inkscape", "{docs}/drawing.svg")),
    App("sheets", "gtk2", ("debian:gnumeric",)),
    App("cad", "qt5", ("debian:freecad",), ("FreeCAD",)),
    App("lab", "web", ("pypi:jupyterlab",), ("{python}", "-m", "jupyterlab")),
    App("nb", "web", ("pypi:notebook",), url="http://127.0.0.1:{port}/tree"),
    App("ide", "web", ("npm:code-server",)),
    App("tracking", "web", ("pypi:mlflow",), ("{python}", "-m", "mlflow", "ui")),
    App("flows", "web", ("npm:node-red",)),
    App("dashboards", "web", ("pypi:streamlit",)),
    App("admin", "web", ("pypi:Django",), url="http://127.0.0.1:{port}/admin/"),
    App("files", "gtk3", ("debian:thunar",)),
])
def test_benchmark_applications_are_caught_however_they_are_named(app):
    assert excluded(app) is not None


def test_other_applications_are_not_caught():
    assert excluded(App("editor", "gtk3", ("debian:mousepad",), ("mousepad", "{docs}/notes.txt"))) is None
    assert "notebook" in EXCLUDED and excluded(App("notes", "gtk3", ("debian:cherrytree",))) is None


def test_harvest_refuses_a_benchmark_application_before_starting_anything(monkeypatch, tmp_path):
    monkeypatch.setattr(harvest, "APPS", (*APPS, App("gimp", "gtk3", ("debian:gimp",), ("gimp",))))
    with pytest.raises(ValueError, match="gimp"):
        harvest.harvest(tmp_path, [], 1, "python3")
    assert not (tmp_path / "harvest").exists()


def test_some_desktop_and_some_web_applications_are_held_out():
    names = [app.name for app in APPS]
    assert len(names) == len(set(names)) >= 30
    held = {app.toolkit == "web" for app in APPS if app.held_out}
    assert held == {True, False}
    assert sum(app.held_out for app in APPS) < len(APPS) / 3
