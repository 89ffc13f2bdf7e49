"""`ground eval --language cn`: each record's instruction_cn, as ScreenSpot-Pro's official harness reads it."""

from __future__ import annotations

import json

import pytest

from grounding.errors import OptionError
from grounding.eval import load_dataset
from tests.grounding.eval.conftest import real_screenshots, write_pro


@pytest.fixture()
def bilingual(tmp_path):
    """The planted marker dataset, its English instructions made unreadable to the marker grounder and the colour
    moved into a Chinese instruction; the last record has no instruction_cn."""
    shots = real_screenshots(2)
    if len(shots) < 2:
        pytest.skip("no real screenshots in samples/ or ../shared/bench/dev")
    root = tmp_path / "pro"
    planted = write_pro(root, shots)
    files = sorted((root / "annotations").glob("*.json"))
    rows = [row for file in files for row in json.loads(file.read_text())]
    for row in rows:
        row["instruction_cn"] = f"点击{row['instruction']}"
        row["instruction"] = "click the marker"
    del rows[-1]["instruction_cn"]
    for file in files:
        file.unlink()
    (root / "annotations" / "all_linux.json").write_text(json.dumps(rows, ensure_ascii=False))
    return root, {p.id: p.expected for p in planted}, rows[-1]["id"]


def test_cn_reads_instruction_cn_and_records_the_language(tmp_path, bilingual):
    from agent.cli import main

    root, expected, no_cn = bilingual
    dataset = load_dataset(root, language="cn")
    assert dataset.language == "cn" and all(s.instruction.startswith("点击") for s in dataset.samples)
    assert [p.id for p in dataset.problems if p.skipped] == [no_cn]
    assert "no instruction_cn" in str(dataset.problems[0])

    out_cn, out_en = tmp_path / "cn.json", tmp_path / "en.json"
    assert main(["eval", str(root), "--model", "test-marker", "--language", "cn", "--out", str(out_cn)]) == 0
    assert main(["eval", str(root), "--model", "test-marker", "--out", str(out_en)]) == 0
    cn, en = json.loads(out_cn.read_text()), json.loads(out_en.read_text())
    assert cn["summary"]["language"] == "cn" and {d["lang"] for d in cn["details"]} == {"cn"}
    assert {d["id"]: d["correctness"] for d in cn["details"]} == {k: v for k, v in expected.items() if k != no_cn}
    # The English instructions name no colour: every one is wrong_format, so the two runs really differ.
    assert en["summary"]["language"] == "en" and en["summary"]["wrong_format"] == len(expected)
    assert cn["summary"]["fingerprint"] != en["summary"]["fingerprint"]


def test_an_unknown_language_is_an_option_error(tmp_path, bilingual):
    root, _, _ = bilingual
    with pytest.raises(OptionError, match="language"):
        load_dataset(root, language="de")


def test_the_cn_split_reads_in_both_languages():
    from tests.conftest import REPO

    split = REPO / "benchmarks" / "meaning" / "cn"
    english, chinese = load_dataset(split), load_dataset(split, language="cn")
    assert len(english) == len(chinese) > 200 and not english.problems
    assert all(any("\u4e00" <= c <= "\u9fff" for c in s.instruction) for s in chinese.samples)
    assert all(s.image_path.is_file() for s in chinese.samples)  # the screenshots are in the repository
