"""Official ScreenSpot scoring and the dataset loaders (formats, bbox conventions, broken rows, filters)."""

from __future__ import annotations

import json

import pytest

from grounding import Box, OptionError, Point
from grounding.eval import evaluate, load_dataset
from grounding.eval.scoring import CORRECT, WRONG, WRONG_FORMAT, answer_point, judge, official_metrics, stats
from tests.grounding.eval.conftest import MarkerGrounder, real_screenshots, write_pro, write_v1


@pytest.fixture(scope="module")
def screens():
    shots = real_screenshots(4)
    if len(shots) < 2:
        pytest.skip("no real screenshots in samples/ or ../shared/bench/dev")
    return shots


# ---- judging one point ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("point, expected", [
    ((10, 20), CORRECT),  # top-left corner: edges are inclusive
    ((30, 40), CORRECT),  # bottom-right corner
    ((30, 25), CORRECT),  # on the right edge
    ((20, 30), CORRECT),
    ((30.0001, 25), WRONG),
    ((9.9999, 25), WRONG),
    ((20, 40.0001), WRONG),
    ((20, 19.9999), WRONG),
])
def test_point_in_box_edges_inclusive(point, expected):
    assert judge(Point(*point), Box(10, 20, 30, 40), (100, 100), (100, 100)) == expected
    assert judge(Point(*point), Box(10, 20, 30, 40)) == expected  # without sizes: in pixels


def test_missing_answer_is_wrong_format():
    assert judge(None, Box(0, 0, 10, 10), (100, 100), (100, 100)) == WRONG_FORMAT
    assert answer_point(None, None) is None


def test_box_answer_is_scored_by_its_centre():
    truth = Box(100, 100, 120, 120)
    overlapping = Box(90, 90, 105, 105)  # overlaps the truth, centre (97.5, 97.5) outside it
    centred = Box(105, 60, 115, 170)  # mostly outside, centre (110, 115) inside
    assert judge(answer_point(None, overlapping), truth) == WRONG
    assert judge(answer_point(None, centred), truth) == CORRECT
    assert answer_point(Point(1, 2), centred) == Point(1, 2)  # a point, when given, is what is scored


def test_scored_in_normalised_space_when_the_image_was_resized():
    # The official script divides the truth by the annotated img_size and the point by the size the model saw.
    truth = Box(1000, 500, 1100, 600)  # annotated on 2000x1000
    assert judge(Point(500, 250), truth, (1000, 500), (2000, 1000)) == CORRECT
    assert judge(Point(550, 300), truth, (1000, 500), (2000, 1000)) == CORRECT  # corner, after halving
    assert judge(Point(551, 300), truth, (1000, 500), (2000, 1000)) == WRONG


# ---- the official metrics -----------------------------------------------------------------------------------------

def _detail(correctness, ui_type, group, app, platform):
    return {"correctness": correctness, "ui_type": ui_type, "group": group, "application": app,
            "platform": platform, "instruction_style": "instruction", "gt_type": "positive"}


def test_official_metrics_structure_and_numbers():
    details = [
        _detail(CORRECT, "text", "Dev", "vscode", "linux"),
        _detail(WRONG, "icon", "Dev", "vscode", "linux"),
        _detail(WRONG_FORMAT, "icon", "Dev", "pycharm", "macos"),
        _detail(CORRECT, "text", "CAD", "freecad", "linux"),
    ]
    metrics = official_metrics(details)
    assert set(metrics) == {"fine_grained", "seeclick_style", "leaderboard_simple_style",
                            "leaderboard_detailed_style", "overall"}
    assert metrics["overall"] == {"num_correct_action": 2, "num_total": 4, "wrong_format_num": 1,
                                  "action_acc": 0.5, "text_acc": 1.0, "icon_acc": 0.0}
    dev = metrics["leaderboard_simple_style"]["group:Dev"]
    assert (dev["num_total"], dev["num_correct_action"], dev["wrong_format_num"]) == (3, 1, 1)
    assert dev["action_acc"] == pytest.approx(1 / 3) and dev["text_acc"] == 1.0 and dev["icon_acc"] == 0.0
    assert metrics["leaderboard_simple_style"]["group:CAD"]["icon_acc"] == 0  # the official 0 for an empty type
    assert set(metrics["leaderboard_detailed_style"]) == {"app:vscode", "app:pycharm", "app:freecad"}
    # Combinations that hold no sample are dropped, as the official script does.
    assert set(metrics["fine_grained"]) == {
        "plat:linux app:vscode inst_style:instruction gt_type:positive",
        "plat:macos app:pycharm inst_style:instruction gt_type:positive",
        "plat:linux app:freecad inst_style:instruction gt_type:positive",
    }
    assert metrics["seeclick_style"]["plat:linux inst_style:instruction gt_type:positive"]["num_total"] == 3


def test_summary_stats_split_by_ui_type():
    details = [_detail(CORRECT, "text", "g", "a", "p"), _detail(WRONG_FORMAT, "icon", "g", "a", "p")]
    assert stats(details) == {
        "total": 2, "correct": 1, "wrong_format": 1, "accuracy": 0.5,
        "by_ui_type": {"text": {"total": 1, "correct": 1, "wrong_format": 0, "accuracy": 1.0},
                       "icon": {"total": 1, "correct": 0, "wrong_format": 1, "accuracy": 0.0}},
    }


# ---- loaders ------------------------------------------------------------------------------------------------------

def _expected(planted):
    return [p.expected for p in planted]


def test_screenspot_pro_layout_is_read_as_corners(tmp_path, screens):
    planted = write_pro(tmp_path, screens)
    dataset = load_dataset(tmp_path)
    assert dataset.format == "screenspot-pro" and dataset.bbox_convention == "xyxy"
    assert not dataset.problems
    by_id = {s.id: s for s in dataset.samples}
    for p in planted:
        sample = by_id[p.id]
        assert sample.bbox == p.box and sample.img_size == p.size and sample.image_path.is_file()
        assert sample.ui_type == p.ui_type and sample.group in ("Creative", "Dev")
        assert sample.split in ("paint_windows", "editor_linux") and sample.data_source is None
    # Scored end to end on the real screenshots: every planted outcome, box edges included.
    results = evaluate(MarkerGrounder(), dataset, progress=False)
    expected = {p.id: p.expected for p in planted}
    assert {d["id"]: d["correctness"] for d in results.details} == expected
    # One annotation file given directly finds its images too.
    single = load_dataset(tmp_path / "annotations" / "paint_windows.json")
    assert len(single) == sum(p.id.startswith("paint") for p in planted) and not single.problems


def test_screenspot_v1_layout_is_read_as_xywh(tmp_path, screens):
    planted = write_v1(tmp_path, screens[:2], "screenspot_desktop.json")
    dataset = load_dataset(tmp_path)
    assert dataset.format == "screenspot" and dataset.bbox_convention == "xywh"
    for sample, p in zip(dataset.samples, planted, strict=True):  # x + w back to x2, up to float rounding
        assert list(sample.bbox) == pytest.approx(list(p.box), abs=1e-9)
    sample = dataset.samples[0]
    assert sample.platform == "desktop" and sample.data_source == "linux" and sample.img_size is None
    assert sample.id == "screenspot_desktop_0" and sample.split == "screenspot_desktop"
    results = evaluate(MarkerGrounder(), dataset, progress=False)
    assert [d["correctness"] for d in results.details] == _expected(planted)
    assert set(results.summary()["by_resolution"]) == {f"{p.size[0]}x{p.size[1]}" for p in planted}


def test_mirror_storing_corners_is_detected(tmp_path, screens):
    planted = write_v1(tmp_path, screens[:2], "screenspot_web_v2.json", corners=True)
    dataset = load_dataset(tmp_path)
    assert dataset.bbox_convention == "xyxy" and [s.bbox for s in dataset.samples] == [p.box for p in planted]
    results = evaluate(MarkerGrounder(), dataset, progress=False)
    assert [d["correctness"] for d in results.details] == _expected(planted)


def test_broken_rows_and_missing_image_are_reported_not_fatal(tmp_path, screens):
    planted = write_pro(tmp_path, screens[:2], apps=("paint_windows",))
    file = tmp_path / "annotations" / "paint_windows.json"
    rows = json.loads(file.read_text())
    good = len(rows)
    rows += [
        {**rows[0], "id": "no_bbox", "bbox": None},
        {**rows[0], "id": "three_numbers", "bbox": [1, 2, 3]},
        {**rows[0], "id": "reversed", "bbox": [50, 50, 10, 10]},
        {**rows[0], "id": "blank_instruction", "instruction": "  "},
        "not a record",
        {**rows[0], "id": "gone", "img_filename": "paint_windows/deleted.png"},
    ]
    file.write_text(json.dumps(rows))
    dataset = load_dataset(tmp_path)
    skipped = {p.id for p in dataset.problems if p.skipped}
    assert skipped == {"no_bbox", "three_numbers", "reversed", "blank_instruction", None}
    assert f"paint_windows.json[{good + 4}]" in [p.where for p in dataset.problems if p.id is None]
    failing = [p for p in dataset.problems if not p.skipped]
    assert [p.id for p in failing] == ["gone"] and "image not found" in failing[0].reason
    assert len(dataset) == good + 1  # the sample with a missing image stays, as a failure

    results = evaluate(MarkerGrounder(), dataset, progress=False)
    summary = results.summary()
    gone = next(d for d in results.details if d["id"] == "gone")
    assert gone["status"] == "error" and gone["correctness"] == WRONG_FORMAT and "not found" in gone["error"]
    assert summary["total"] == good + 1 and summary["errors"] == 1 and summary["skipped_rows"] == 5
    assert summary["correct"] == sum(p.expected == CORRECT for p in planted)


def test_filters(tmp_path, screens):
    write_pro(tmp_path, screens)
    everything = load_dataset(tmp_path)
    icons = load_dataset(tmp_path, {"ui_type": "ICON"})
    assert icons.samples and all(s.ui_type == "icon" for s in icons.samples)
    assert len(icons) == sum(s.ui_type == "icon" for s in everything.samples)
    both = load_dataset(tmp_path, {"group": ["dev", "creative"], "ui_type": "text"})
    assert len(both) == sum(s.ui_type == "text" for s in everything.samples)
    with pytest.raises(OptionError, match="cannot filter on 'colour'"):
        load_dataset(tmp_path, {"colour": "red"})


def test_not_a_dataset_is_one_clear_error(tmp_path):
    from grounding import GroundingError

    with pytest.raises(GroundingError, match="dataset not found"):
        load_dataset(tmp_path / "nowhere")
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    with pytest.raises(GroundingError, match="no ScreenSpot-style annotations"):
        load_dataset(tmp_path)
    (tmp_path / "notes.json").write_text("{broken")
    with pytest.raises(GroundingError, match="cannot read annotation file"):
        load_dataset(tmp_path)
