"""The eval runner and `ground eval`: journal, resume after real interruptions, workers, batching, reports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grounding import BackendError, Prediction
from grounding.eval import evaluate, fingerprint, load_dataset
from grounding.eval.journal import Journal
from grounding.eval.pipeline import MAX_BACKEND_FAILURES_IN_A_ROW
from grounding.eval.records import Outcome
from grounding.eval.scoring import CORRECT, WRONG_FORMAT
from grounding.types import Batching
from grounding.zoom import refine
from tests.conftest import REPO
from tests.grounding.eval.conftest import BatchMarkerGrounder, MarkerGrounder, real_screenshots, write_pro

TIMING = {"elapsed_s"}  # per-detail fields that legitimately differ between two runs


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    shots = real_screenshots(4)
    if len(shots) < 2:
        pytest.skip("no real screenshots in samples/ or ../shared/bench/dev")
    root = tmp_path_factory.mktemp("pro")
    planted = write_pro(root, shots)
    return root, {p.id: p.expected for p in planted}


@pytest.fixture(scope="module")
def reference(dataset_dir):
    """An uninterrupted run, the yardstick for resumed ones."""
    root, expected = dataset_dir
    results = evaluate(MarkerGrounder(), load_dataset(root), progress=False)
    assert {d["id"]: d["correctness"] for d in results.details} == expected
    return results


def _comparable(details):
    return [{k: v for k, v in d.items() if k not in TIMING} for d in details]


def _stable_summary(summary):
    return {k: v for k, v in summary.items() if k not in ("latency_s", "wall_s", "resumed", "interrupted")}


def test_summary_has_the_promised_fields(reference, dataset_dir):
    summary = reference.summary()
    _, expected = dataset_dir
    assert summary["total"] == len(expected) == summary["planned"]
    assert summary["correct"] == sum(v == CORRECT for v in expected.values())
    assert summary["wrong_format"] == sum(v == WRONG_FORMAT for v in expected.values())
    assert summary["accuracy"] == round(summary["correct"] / summary["total"], 4)
    assert set(summary["by_ui_type"]) == {"text", "icon"}
    assert set(summary["by_group"]) == {"Creative", "Dev"} and set(summary["by_platform"]) == {"windows", "linux"}
    assert set(summary["by_application"]) == {"paint", "editor"}
    resolution = summary["by_resolution"]["1920x1080"]
    assert resolution["total"] == summary["total"] and set(resolution["by_ui_type"]) == {"text", "icon"}
    assert summary["latency_s"]["median"] > 0 and summary["latency_s"]["p90"] >= summary["latency_s"]["median"]
    assert summary["calls"] == summary["total"] - summary["errors"] and summary["tokens"] == 0
    assert summary["wall_s"] > 0 and not summary["interrupted"]


def test_each_screenshot_is_loaded_once_and_its_instructions_share_a_worker(dataset_dir):
    root, expected = dataset_dir
    dataset = load_dataset(root)
    screenshots = len({s.image_path for s in dataset.samples})
    for workers in (1, 3):
        grounder = MarkerGrounder()
        results = evaluate(grounder, dataset, workers=workers, progress=False)
        assert grounder.calls == len(expected) and len(grounder.images_seen) == screenshots
        assert {d["id"]: d["correctness"] for d in results.details} == expected
        assert [d["id"] for d in results.details] == [s.id for s in dataset.samples]  # dataset order kept


def test_locate_batch_is_used_when_offered(dataset_dir, reference):
    root, _ = dataset_dir
    dataset = load_dataset(root)
    per_image = [len(g) for g in _groups(dataset)]
    screenshots = len(per_image)
    grounder = BatchMarkerGrounder()  # batch_size 8 by default: one screenshot (5 instructions) per batch
    results = evaluate(grounder, dataset, progress=False)
    assert sorted(grounder.batches) == sorted(per_image) and grounder.calls == len(dataset)
    assert _comparable(results.details) == _comparable(reference.details)

    # Small groups are bundled up to the grounder's batch size, each screenshot still decoded once.
    grounder = BatchMarkerGrounder()
    grounder.batch_size = 2 * per_image[0]
    results = evaluate(grounder, dataset, progress=False)
    assert grounder.batches == [2 * per_image[0]] * (screenshots // 2) + [per_image[0]] * (screenshots % 2)
    assert len(grounder.images_seen) == screenshots
    assert _comparable(results.details) == _comparable(reference.details)

    # A batch that raises is retried one by one, so only the guilty sample carries the error.
    victim = dataset.samples[1]
    grounder = BatchMarkerGrounder(fail_on=victim.instruction.split()[2])
    results = evaluate(grounder, dataset, progress=False)
    failed = [d["id"] for d in results.details if d["status"] == "error"]
    assert victim.id in failed and len(failed) == sum(victim.instruction == s.instruction for s in dataset.samples)


def test_a_zoomed_batching_grounder_runs_the_zoom_loop_on_every_sample(dataset_dir):
    # A batch call would answer from one look: the zoom wrapper must not offer the inner grounder's batching.
    root, expected = dataset_dir
    inner = BatchMarkerGrounder()
    zoomed = refine(inner, {"steps": 1})
    assert not isinstance(zoomed, Batching) and isinstance(inner, Batching)
    results = evaluate(zoomed, load_dataset(root), progress=False)
    assert inner.batches == [] and results.model.endswith("+zoom")
    for detail in results.details:
        kinds = [step["kind"] for step in detail["trace"]]
        assert kinds[0] == "full", kinds
        if detail["status"] == "ok":
            assert "zoom" in kinds, kinds
    assert {d["id"]: d["correctness"] for d in results.details} == expected


def _groups(dataset):
    from grounding.eval.pipeline import by_image

    return by_image(dataset.samples)


def test_resume_after_interrupt_equals_an_uninterrupted_run(tmp_path, dataset_dir, reference):
    root, expected = dataset_dir
    dataset = load_dataset(root)
    journal = tmp_path / "run.jsonl"
    stopped = evaluate(MarkerGrounder(interrupt_after=7), dataset, workers=1, journal_path=journal,
                       fingerprint="cfg", progress=False)
    assert stopped.interrupted and len(stopped.details) == 7
    assert len(journal.read_text().splitlines()) == 7  # each finished sample was flushed

    rest = MarkerGrounder()
    resumed = evaluate(rest, dataset, journal_path=journal, resume=True, fingerprint="cfg", progress=False)
    assert resumed.resumed == 7 and rest.calls == len(expected) - 7 and not resumed.interrupted
    assert _comparable(resumed.details) == _comparable(reference.details)
    assert _stable_summary(resumed.summary()) == _stable_summary(reference.summary()) | {"fingerprint": "cfg"}

    # Another configuration does not reuse these predictions; a run without --resume starts the journal afresh.
    other = MarkerGrounder()
    evaluate(other, dataset, journal_path=journal, resume=True, fingerprint="other-cfg", progress=False)
    assert other.calls == len(expected)
    fresh = MarkerGrounder()
    evaluate(fresh, dataset, journal_path=journal, resume=False, fingerprint="cfg", progress=False)
    assert fresh.calls == len(expected) and len(journal.read_text().splitlines()) == len(expected)


def test_journal_survives_a_cut_line_and_retries_errors(tmp_path, dataset_dir):
    root, expected = dataset_dir
    dataset = load_dataset(root)
    journal = tmp_path / "j.jsonl"
    first, second = dataset.samples[:2]
    lines = [
        json.dumps(Outcome(first.id, None, None, "not_found", calls=1).to_record("cfg")),
        json.dumps(Outcome.failed(second, BackendError("endpoint down")).to_record("cfg")),
        json.dumps(Outcome(second.id, None, None, "not_found").to_record("cfg"))[:25],  # a kill mid-write
    ]
    journal.write_text("\n".join(lines))
    assert set(Journal(journal, "cfg", resume=True).done) == {first.id}


def test_a_failing_sample_is_recorded_and_the_run_goes_on(dataset_dir):
    root, expected = dataset_dir
    dataset = load_dataset(root)
    victim = dataset.samples[3]
    colour = victim.instruction.split()[2]
    results = evaluate(MarkerGrounder(fail_on=colour), dataset, progress=False)
    failed = [d for d in results.details if d["status"] == "error"]
    victims = [s.id for s in dataset.samples if colour in s.instruction]
    assert victim.id in victims and len(victims) < len(expected)
    assert [d["id"] for d in failed] == victims and "ValueError: cannot handle" in failed[0]["error"]
    assert failed[0]["correctness"] == WRONG_FORMAT and failed[0]["pred"] is None
    assert len(results.details) == len(expected)


class DeadBackend:
    name = "dead"

    def __init__(self):
        self.calls = 0

    def locate(self, image, instruction) -> Prediction:
        self.calls += 1
        raise BackendError("connection refused by 127.0.0.1:9")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_dead_backend_stops_the_run(tmp_path, workers):
    # One screenshot with many instructions: they all go to one worker, which must not race on through the group
    # once the run has stopped.
    shot = real_screenshots(1)[0]
    (tmp_path / "images" / "app").mkdir(parents=True)
    shutil.copy(shot, tmp_path / "images" / "app" / "shot.png")
    rows = [{"img_filename": "app/shot.png", "bbox": [0, 0, 10, 10], "instruction": f"target {i}", "id": f"s{i}",
             "ui_type": "text", "group": "Dev", "platform": "linux", "application": "app"} for i in range(40)]
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "app_linux.json").write_text(json.dumps(rows))
    grounder = DeadBackend()
    with pytest.raises(BackendError, match="backend failures in a row"):
        evaluate(grounder, load_dataset(tmp_path), workers=workers, journal_path=tmp_path / "j.jsonl", progress=False)
    # Each worker may have one answer waiting in the queue and one call in flight when the run stops.
    assert MAX_BACKEND_FAILURES_IN_A_ROW <= grounder.calls <= MAX_BACKEND_FAILURES_IN_A_ROW + 2 * workers
    assert len((tmp_path / "j.jsonl").read_text().splitlines()) == MAX_BACKEND_FAILURES_IN_A_ROW


# ---- the command line ---------------------------------------------------------------------------------------------

def _ground(*args: str) -> subprocess.Popen:
    """`ground` in a child process that knows the test grounder, as a user's shell would run it: in the foreground,
    Ctrl-C delivered. A shell starts a background job (`pytest ... &`, as a script may run the tests) with SIGINT
    ignored, and the child would inherit that and never see the Ctrl-C this file sends."""
    code = "import sys, tests.grounding.eval.conftest; from agent.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, preexec_fn=_foreground_signals)


def _foreground_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_lines(path: Path, count: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= count:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {count} lines")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_cli_interrupted_then_resumed_equals_uninterrupted(tmp_path, dataset_dir, reference, sig):
    root, expected = dataset_dir
    out = tmp_path / "results.json"
    # 0.4 s a sample: the signal must land while samples remain, even when a loaded machine holds the test back for
    # seconds between seeing the fourth line and sending it (at 0.1 s a run under load once finished first).
    args = [root.as_posix(), "--model", "test-marker", "-O", "delay_s=0.4", "--out", str(out), "--workers", "1"]
    journal = Path(f"{out}.journal.jsonl")
    process = _ground("eval", *args)
    _wait_for_lines(journal, 4, process)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    done = len(journal.read_text().splitlines())
    assert 4 <= done < len(expected)
    if sig == signal.SIGINT:
        assert process.returncode == 130 and "interrupted after" in stderr and "--resume" in stderr
        partial = json.loads(out.read_text())
        assert partial["summary"]["interrupted"] and len(partial["details"]) >= 4
        assert set(partial) >= {"details", "metrics"}
    else:
        assert process.returncode == -signal.SIGKILL and not out.exists()

    process = _ground("eval", *args, "--resume", "--json")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert f"resumed: {done} predictions" in stderr
    summary = json.loads(stdout)
    assert _stable_summary(summary) | {"fingerprint": 0, "model": 0} == \
        _stable_summary(reference.summary()) | {"fingerprint": 0, "model": 0}
    written = json.loads(out.read_text())
    assert _comparable(written["details"]) == _comparable(reference.details)


def test_cli_outputs_results_file_json_and_reports(tmp_path, dataset_dir):
    from agent.cli import main

    root, expected = dataset_dir
    out, md, page = tmp_path / "r.json", tmp_path / "report.md", tmp_path / "report.html"
    assert main(["eval", str(root), "--model", "test-marker", "--out", str(out), "--report", str(md),
                 "--filter", "group=Dev", "--json", "--gallery", "3"]) == 0
    written = json.loads(out.read_text())
    assert set(written) == {"details", "metrics", "summary"}
    detail = written["details"][0]
    assert {"id", "img_path", "group", "platform", "application", "lang", "instruction_style", "prompt_to_evaluate",
            "gt_type", "ui_type", "task_filename", "pred", "raw_response", "bbox", "correctness", "elapsed_s",
            "calls", "tokens", "status", "score", "trace"} <= set(detail)
    dev = [i for i in expected if i.startswith("editor")]
    assert sorted(d["id"] for d in written["details"]) == sorted(dev)
    assert written["metrics"]["overall"]["num_total"] == len(dev)
    assert written["metrics"]["overall"]["num_correct_action"] == sum(expected[i] == CORRECT for i in dev)
    text = md.read_text()
    assert "| group |" in text and "accuracy_by_group.png" in text and text.count("fail_") == 3
    assert all((tmp_path / "report_files" / name).stat().st_size > 1000
               for name in os.listdir(tmp_path / "report_files"))

    assert main(["eval", str(root), "--model", "test-marker", "--limit", "5", "--report", str(page),
                 "--journal", str(tmp_path / "j.jsonl")]) == 0
    assert "<table>" in page.read_text() and "<figure>" in page.read_text()


def test_cli_bad_input_is_one_line(tmp_path, dataset_dir, capsys):
    from agent.cli import main

    root, _ = dataset_dir
    assert main(["eval", str(tmp_path / "missing")]) == 2
    assert main(["eval", str(root), "--model", "test-marker", "--filter", "nonsense"]) == 2
    assert main(["eval", str(root), "--model", "test-marker", "--report", str(tmp_path / "r.pdf"),
                 "--limit", "1", "--journal", str(tmp_path / "j.jsonl")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[:2] for line in errors if line.startswith("ground:")] == [["ground", " error"]] * 3
    assert "Traceback" not in "".join(errors)


def test_other_weights_are_another_configuration(tmp_path):
    shipped = fingerprint("offline", {}, True, tmp_path, "weights-a")
    assert shipped == fingerprint("offline", {}, True, tmp_path, "weights-a")
    assert shipped != fingerprint("offline", {}, True, tmp_path, "weights-b")
    assert shipped != fingerprint("offline", {}, True, tmp_path)


class FollowRecorder(MarkerGrounder):
    """Notes, on every call (the zoom loop's threads included), whether it may treat an image as a later step."""

    def __init__(self):
        super().__init__()
        self.may_follow: list[bool] = []

    def locate(self, image, instruction):
        from grounding.inputs import images_may_follow

        self.may_follow.append(images_may_follow())
        return super().locate(image, instruction)


def test_an_evaluation_treats_every_screenshot_as_unrelated(dataset_dir):
    from grounding.inputs import images_may_follow

    root, expected = dataset_dir
    grounder = FollowRecorder()
    evaluate(grounder, load_dataset(root), workers=2, progress=False)
    assert len(grounder.may_follow) == len(expected) and not any(grounder.may_follow)
    assert images_may_follow()  # and a live session after it may start from the screen before again
