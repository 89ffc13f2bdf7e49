"""Each family against what its authors' published code produces (`reference.json`, every fixture naming its source).

The fixtures were made by running the authors' own prompt code, resize calls and answer mapping (at the commits the
fixtures name), not screenground's: a family that drifts from its model's conventions fails here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from grounding.types import Status
from grounding.vlm.families import FAMILIES, get_family

REFERENCE = json.loads((Path(__file__).parent / "reference.json").read_text(encoding="utf-8"))
FIXTURES = {fixture["family"]: fixture for fixture in REFERENCE["fixtures"]}
# Families whose authors' inference code could not be read here (see reference.json's "about").
UNSOURCED = {"gui-g2"}


def test_every_family_has_a_sourced_fixture_or_is_named_as_unsourced():
    assert set(FIXTURES) | UNSOURCED == set(FAMILIES)
    assert not set(FIXTURES) & UNSOURCED
    for fixture in FIXTURES.values():
        assert fixture["sources"] and all(isinstance(source, str) and source for source in fixture["sources"])


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_the_model_sees_each_screen_at_the_authors_size(name):
    family = get_family(name)
    for screen, expected in FIXTURES[name]["sizes"].items():
        width, height = map(int, screen.split("x"))
        assert list(family.model_size(width, height)) == expected, screen


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_the_prompt_is_the_authors_to_the_character(name):
    fixture, family = FIXTURES[name], get_family(name)
    messages = family.messages(fixture["instruction"], *fixture["model_size"])
    system = messages[0]["content"] if messages[0]["role"] == "system" else None
    assert system == fixture["system"]
    parts = messages[-1]["content"]
    assert [part["type"] for part in parts] == ["text"] * bool(fixture["preamble"]) + ["image", "text"]
    assert parts[-1]["text"] == fixture["user"]
    assert (parts[0]["text"] if fixture["preamble"] else None) == fixture["preamble"]
    if "answer_prefix" in fixture:
        assert family.answer_prefix == fixture["answer_prefix"]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_answers_are_read_as_the_authors_read_them(name):
    fixture, family = FIXTURES[name], get_family(name)
    for case in fixture["answers"]:
        reading = family.read(case["text"], tuple(fixture["model_size"]), (1920, 1080))
        if case["expect"] == "not_found":
            assert reading.status is Status.NOT_FOUND, case["text"]
        else:
            assert reading.status is Status.OK, case["text"]
            assert math.isclose(reading.point.x, case["expect"][0], abs_tol=1e-6), case["text"]
            assert math.isclose(reading.point.y, case["expect"][1], abs_tol=1e-6), case["text"]
