"""The registry: grounders by name, presets, the entry-point group for third-party grounders, helpful errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import grounding
from grounding.errors import OptionError, UnknownModelError
from grounding.registry import DEFAULT_MODEL, available, get, register
from tests.conftest import REPO


class _Fixed:
    """Answers the same point whatever it is asked; remembers how it was built."""

    def __init__(self, *, x: float = 1.0, y: float = 2.0, model: str = "none") -> None:
        self.name = "fixed"
        self.x, self.y, self.model = x, y, model

    def locate(self, image, instruction):
        return grounding.Prediction(point=grounding.Point(self.x, self.y), score=1.0)


register("test-fixed", description="a fixed point (registry tests)")(_Fixed)
register("test-fixed-preset", description="a fixed point with a preset (registry tests)", model="org/weights", x=5.0)(
    _Fixed
)


def test_builtin_grounders_are_listed_in_name_order_with_the_default_among_them():
    names = [entry.name for entry in available()]
    assert names == sorted(names)
    assert {"ocr", "icons", "offline", "openai", DEFAULT_MODEL} <= set(names)
    assert get("ocr").default_zoom and not get("icons").default_zoom


def test_a_preset_fills_options_under_the_callers():
    built = grounding.load("test-fixed-preset")
    assert (built.model, built.x, built.y) == ("org/weights", 5.0, 2.0)
    assert grounding.load("test-fixed-preset", x=7.0).x == 7.0  # the caller wins
    assert grounding.load("test-fixed-preset", x=None).x == 5.0  # an unset CLI flag arrives as None: the preset stays


def test_a_name_cannot_be_taken_twice_by_another_factory():
    with pytest.raises(ValueError, match="already registered"):
        register("test-fixed", description="another")(lambda: None)
    register("test-fixed", description="the same factory again")(_Fixed)  # re-importing a module is harmless


def test_an_unknown_name_suggests_the_closest_and_lists_the_rest():
    with pytest.raises(UnknownModelError, match=r"unknown model 'oflline'; did you mean 'offline'\?.*ocr"):
        get("oflline")


def test_unknown_options_name_what_the_grounder_takes():
    with pytest.raises(OptionError, match=r"does not take option\(s\) z \(it takes: model, x, y\)"):
        grounding.load("test-fixed", z=1)


def test_a_third_party_package_registers_through_the_entry_point_group(tmp_path):
    # A real installed distribution (a dist-info with entry_points.txt on sys.path), found by importlib.metadata.
    (tmp_path / "thirdparty_grounder.py").write_text(textwrap.dedent('''
        import grounding

        @grounding.register("thirdparty", description="a plug-in grounder")
        class ThirdParty:
            name = "thirdparty"

            def locate(self, image, instruction):
                return grounding.Prediction.not_found()
    '''))
    info = tmp_path / "thirdparty_grounder-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-grounder\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[screenground.grounders]\nthirdparty = thirdparty_grounder\n")
    code = ("import grounding; print(grounding.load('thirdparty', zoom=False).name, "
            "'thirdparty' in {e.name for e in grounding.available()})")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": ""},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["thirdparty", "True"]
