"""The zoom loop on real pixels: a marker detector that, like a real grounder, only sees what is big enough.

`MarkerDetector` finds a magenta square by its pixels (OpenCV connected components). It fails on a view where the
square is smaller than `min_side` pixels, and it answers on a coarse normalised grid (like VLMs answering in 0-1000
coordinates), so both finding and precision depend on the magnification the zoom loop gives it.
"""

from __future__ import annotations

import argparse
import json
import threading

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

import grounding
from grounding.cli.options import add_model_options, backend_options, zoom_setting
from grounding.errors import InstructionError, OptionError
from grounding.geometry import Box, Point
from grounding.inputs import prepare
from grounding.trace import write_trace
from grounding.types import Prediction, Status
from grounding.zoom import ZoomConfig, refine
from grounding.zoom.aggregate import aggregate
from grounding.zoom.look import Hit
from grounding.zoom.search import attempt_tiles, cascade, grid

MAGENTA = (255, 0, 255)


class MarkerDetector:
    """Finds the largest magenta blob; reports its centre on a `levels` x `levels` grid of the view it is given."""

    def __init__(self, min_side: int = 12, levels: int = 100, preferred_max_pixels: int | None = None) -> None:
        self.name = "marker"
        self.min_side = min_side
        self.levels = levels
        if preferred_max_pixels:
            self.preferred_max_pixels = preferred_max_pixels
        self.sizes: list[tuple[int, int]] = []
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def locate(self, image: Image.Image, instruction: str) -> Prediction:
        image, instruction = prepare(image, instruction)
        with self._lock:
            self.sizes.append(image.size)
            self.threads.add(threading.current_thread().name)
        rgb = np.asarray(image).astype(np.int16)
        mask = ((rgb[..., 0] > 180) & (rgb[..., 1] < 90) & (rgb[..., 2] > 180)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = [stats[i] for i in range(1, count) if min(stats[i][2], stats[i][3]) >= self.min_side]
        if not blobs:
            return Prediction.not_found(raw="no marker", score=0.0)
        x, y, w, h = (int(v) for v in max(blobs, key=lambda s: s[2] * s[3])[:4])
        cell_x, cell_y = image.width / self.levels, image.height / self.levels
        # The answer is the centre of the grid cell holding the marker's centre: coarse, as a model's tokens are.
        gx, gy = int((x + w / 2) / cell_x), int((y + h / 2) / cell_y)
        point = Point((gx + 0.5) * cell_x, (gy + 0.5) * cell_y)
        score = min(1.0, min(w, h) / 64.0)
        return Prediction(
            point=point, box=Box(x, y, x + w, y + h), score=score, raw=f"({gx},{gy})", extra={"blob_side": min(w, h)}
        )


def screen(size: tuple[int, int], markers: list[tuple[float, float, int]], seed: int = 0) -> Image.Image:
    """A busy synthetic screen (panels, lines of text, buttons) with magenta squares (cx, cy, side) on it."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", size, (236, 236, 236))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(60):
        x, y = rng.integers(0, width), rng.integers(0, height)
        w, h = rng.integers(20, width // 4), rng.integers(10, height // 6)
        red, green, blue = (int(v) for v in rng.integers(60, 250, size=3))
        shade = (red, max(green, 130), blue)  # nothing magenta but the markers
        draw.rectangle((x, y, x + w, y + h), fill=shade, outline=(40, 40, 40))
    for row in range(0, height, 23):
        draw.text((int(rng.integers(0, width // 2)), row), "File Edit View Save settings", fill=(20, 20, 20))
    for cx, cy, side in markers:
        draw.rectangle((cx - side / 2, cy - side / 2, cx + side / 2 - 1, cy + side / 2 - 1), fill=MAGENTA)
    return image


def marker_box(cx: float, cy: float, side: int) -> Box:
    return Box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


@grounding.register("test-magenta", description="magenta square detector used by the zoom tests")
def _marker_factory(min_side: int = 12, levels: int = 100) -> MarkerDetector:
    return MarkerDetector(min_side=min_side, levels=levels)


# -- the narrowing loop ------------------------------------------------------------------------------------------------


def test_narrowing_sharpens_a_coarse_answer_and_maps_back_exactly():
    target = (2890, 1680, 20)
    image = screen((3840, 2160), [target])
    detector = MarkerDetector(levels=40)
    plain = detector.locate(image, "the magenta square")
    zoomed = refine(detector, {"steps": 3, "converge": 0.0}).locate(image, "the magenta square")

    truth = Point(target[0], target[1])
    assert plain.found and zoomed.found
    assert plain.point.distance(truth) > 20  # a 40-level grid on 3840 px is 96 px coarse
    assert zoomed.point.distance(truth) < plain.point.distance(truth) / 3
    assert marker_box(*target).expand(2).contains(zoomed.point)
    kinds = [step.kind for step in zoomed.trace]
    assert kinds[0] == "full" and set(kinds[1:]) == {"zoom"} and len(kinds) >= 2
    assert zoomed.calls == len(zoomed.trace)  # every look is one call of the inner grounder
    # The detector's own box maps back too: it is the drawn square, in screen pixels.
    assert zoomed.box is not None and zoomed.box.iou(marker_box(*target)) > 0.7
    # Its own details come through, tagged with the view they were measured in (the magnified last crop).
    last = zoomed.trace[-1]
    assert zoomed.extra["view"] == {"crop": last.crop.to_list(), "scale": last.scale} and last.scale > 1
    assert zoomed.extra["blob_side"] == pytest.approx(20 * last.scale, abs=3)


def test_crops_keep_the_screen_aspect_stay_inside_and_respect_the_floor():
    image = screen((3840, 1080), [(3800, 40, 20)])  # a 32:9 stitched screen, target in a corner
    prediction = refine(MarkerDetector(levels=40), {"steps": 4, "min_crop": 600, "converge": 0.0}).locate(image, "x")
    zooms = [step for step in prediction.trace if step.kind == "zoom"]
    assert zooms
    for step in zooms:
        crop = step.crop
        assert 0 <= crop.x1 and 0 <= crop.y1 and crop.x2 <= 3840 and crop.y2 <= 1080
        assert max(crop.width, crop.height) >= 600 - 1
        assert crop.width / crop.height == pytest.approx(3840 / 1080, rel=0.02)
        assert crop.contains(step.point)
    sides = [step.crop.width for step in zooms]
    assert sides == sorted(sides, reverse=True)  # each look is at least as tight as the last
    assert marker_box(3800, 40, 20).expand(2).contains(prediction.point)


def test_converged_chain_stops_before_its_step_budget():
    image = screen((1920, 1080), [(700, 500, 40)])
    prediction = refine(MarkerDetector(levels=1000), {"steps": 5, "converge": 0.05}).locate(image, "x")
    zooms = [step for step in prediction.trace if step.kind == "zoom"]
    assert len(zooms) == 1 and "converged" in zooms[0].note


def test_a_worse_zoomed_answer_is_rejected_and_the_first_stands():
    """A decoy only the zoomed view shows (the real marker scores higher at full frame) must not win."""

    class FadingDetector(MarkerDetector):
        def locate(self, image, instruction):
            answer = super().locate(image, instruction)
            # The first look (the whole screen) is sure of itself; every later look answers with a low score.
            return answer.with_(score=0.9 if len(self.sizes) == 1 else 0.2) if answer.found else answer

    image = screen((1920, 1080), [(900, 500, 30)])
    prediction = refine(FadingDetector(levels=20), {"steps": 3, "tolerance": 0.1}).locate(image, "x")
    zoom_step = next(step for step in prediction.trace if step.kind == "zoom")
    assert zoom_step.note.startswith("rejected")
    assert prediction.point == prediction.trace[0].point and prediction.score == pytest.approx(0.9)


# -- downscaled first look, tiling search ------------------------------------------------------------------------------


def test_first_look_is_downscaled_to_the_grounders_preferred_pixels():
    image = screen((3840, 2160), [(1000, 1500, 60)])
    detector = MarkerDetector(preferred_max_pixels=1_000_000)
    prediction = refine(detector, True).locate(image, "x")
    assert prediction.found and marker_box(1000, 1500, 60).contains(prediction.point)
    assert all(w * h <= 1_000_000 * 1.01 for w, h in detector.sizes)
    assert prediction.trace[0].scale == pytest.approx((1_000_000 / (3840 * 2160)) ** 0.5, rel=0.01)


def test_tiling_search_finds_a_target_too_small_for_the_full_screen():
    target = (2500, 700, 8)  # 8 px: below the detector's 12 px at 1x, readable at 2x
    image = screen((3840, 2160), [target])
    detector = MarkerDetector(levels=1000)
    assert detector.locate(image, "x").status is Status.NOT_FOUND
    prediction = refine(detector, {"upscale": 2.0}).locate(image, "x")
    assert prediction.found and marker_box(*target).expand(2).contains(prediction.point)
    kinds = [step.kind for step in prediction.trace]
    assert kinds[0] == "full" and "tile" in kinds
    tiles = [step for step in prediction.trace if step.kind == "tile"]
    assert all(step.scale > 1.4 for step in tiles)  # magnified: that is what made the marker visible
    assert prediction.calls == len(prediction.trace)


def test_without_search_or_magnification_nothing_is_found():
    image = screen((3840, 2160), [(2500, 700, 8)])
    assert refine(MarkerDetector(), {"search": False}).locate(image, "x").status is Status.NOT_FOUND
    missed = refine(MarkerDetector(), {"upscale": 1.0}).locate(image, "x")
    assert missed.status is Status.NOT_FOUND and missed.point is None
    assert missed.calls == len(missed.trace) > 1


class SureDetector(MarkerDetector):
    """A marker detector that calls every answer final, as OCR does for an exact reading or a fully read screen."""

    def locate(self, image, instruction):
        return super().locate(image, instruction).with_(final=True)


def test_a_final_answer_is_neither_narrowed_nor_searched_for():
    coarse = screen((3840, 2160), [(2890, 1680, 20)])
    found = refine(SureDetector(levels=40), {"steps": 3, "converge": 0.0}).locate(coarse, "x")
    assert found.found and [step.kind for step in found.trace] == ["full"] and found.calls == 1
    tiny = screen((3840, 2160), [(2500, 700, 8)])  # only the tiling search would find it
    missed = refine(SureDetector(levels=1000), {"upscale": 2.0}).locate(tiny, "x")
    assert missed.status is Status.NOT_FOUND and [step.kind for step in missed.trace] == ["full"]


def test_a_final_zoomed_answer_ends_the_chain():
    class SureWhenMagnified(MarkerDetector):
        def locate(self, image, instruction):
            answer = super().locate(image, instruction)
            return answer.with_(final=len(self.sizes) > 1)  # the first look is unsure, the first zoom is not

    image = screen((3840, 2160), [(2890, 1680, 20)])
    prediction = refine(SureWhenMagnified(levels=40), {"steps": 4, "converge": 0.0}).locate(image, "x")
    assert [step.kind for step in prediction.trace] == ["full", "zoom"]


def test_tiles_cover_the_screen_overlap_and_cascade_finer():
    screen_box = Box(0, 0, 3840, 2160)
    level1, level2 = cascade(screen_box, 2, 768)
    assert len(level1) == 4 and len(level2) == 16
    for tiles in (level1, level2):
        assert all(0 <= t.x1 and 0 <= t.y1 and t.x2 <= 3840 + 1e-6 and t.y2 <= 2160 + 1e-6 for t in tiles)
        # Every point of the screen is in some tile, with a margin: a target on a seam is wholly inside one tile.
        for x in range(0, 3841, 160):
            for y in range(0, 2161, 90):
                assert any(
                    t.expand(-20).contains(Point(x, y)) or not screen_box.expand(-20).contains(Point(x, y))
                    for t in tiles
                )
    assert level1[0].width / level1[0].height == pytest.approx(16 / 9)
    assert level2[0].width < level1[0].width and max(level2[0].width, level2[0].height) >= 768
    # Tiles never shrink below the context floor; on a small screen the floor makes them the whole screen.
    assert grid(Box(0, 0, 800, 450), 2, 2, 768)[0].width == pytest.approx(768)
    assert attempt_tiles(screen_box, 2, 768) == grid(screen_box, 1, 2, 768) and attempt_tiles(screen_box, 0, 768) == []
    assert len(attempt_tiles(screen_box, 4, 768)) == 4 and len(attempt_tiles(screen_box, 5, 768)) == 4


# -- parallel candidates and voting ------------------------------------------------------------------------------------


def test_parallel_candidates_run_concurrently_and_vote():
    target = (3100, 1800, 8)
    image = screen((3840, 2160), [target])
    detector = MarkerDetector(levels=200)
    prediction = refine(detector, {"candidates": 5}).locate(image, "x")
    assert prediction.found and marker_box(*target).expand(3).contains(prediction.point)
    assert len(detector.threads) > 1 and all(name.startswith("zoom") for name in detector.threads)
    assert [step.kind for step in prediction.trace[:5]] == ["full", "tile", "tile", "tile", "tile"]
    assert prediction.calls == sum(1 for step in prediction.trace if step.crop is not None)
    assert refine(detector, {"candidates": 5}).name == "marker+zoomx5"


def _hit(x: float, y: float, score: float) -> Hit:
    return Hit(Point(x, y), None, score, "", Box(0, 0, 100, 100), 1.0)


def test_aggregate_weighs_agreeing_answers_over_one_strong_outlier():
    vote = aggregate([_hit(10, 10, 0.9), _hit(500, 500, 0.5), _hit(505, 498, 0.5)], radius=20)
    assert vote.best.point == Point(500, 500) and vote.support == 2 and vote.total == 3
    # Unscored answers (score 0) are plain votes.
    vote = aggregate([_hit(10, 10, 0.0), _hit(500, 500, 0.0), _hit(509, 500, 0.0)], radius=20)
    assert vote.best.point.x in (500, 509) and vote.support == 2
    with pytest.raises(ValueError):
        aggregate([], radius=20)


# -- wiring: registry, options, CLI flags, trace files ----------------------------------------------------------------


def test_registry_load_wraps_with_a_config_and_rejects_bad_settings():
    grounder = grounding.load("test-magenta", zoom={"steps": 1, "candidates": 3})
    assert grounder.name == "marker+zoomx3" and grounder.config == ZoomConfig(steps=1, candidates=3)
    assert grounding.load("test-magenta").name == "marker"  # default_zoom is False for it
    # The wrapped grounder's own attributes are reached through `inner`; the wrapper offers only what still holds.
    assert grounder.inner.min_side == 12 and grounder.inner.levels == 100 and not hasattr(grounder, "min_side")
    assert grounding.load("test-magenta", zoom=ZoomConfig(steps=4)).config.steps == 4
    with pytest.raises(OptionError, match="unknown setting"):
        grounding.load("test-magenta", zoom={"stepz": 1})
    with pytest.raises(OptionError, match="crop"):
        grounding.load("test-magenta", zoom={"crop": 2.0})
    with pytest.raises(OptionError, match="whole number"):
        grounding.load("test-magenta", zoom={"steps": 1.5})
    with pytest.raises(OptionError):
        grounding.load("test-magenta", zoom="yes")
    with pytest.raises(InstructionError):
        grounding.load("test-magenta", zoom=True).locate(screen((200, 100), []), "   ")


@grounding.register("test-composite", description="a grounder that composes zoomed parts itself", default_zoom=True)
class _Composite:
    name = "composite"

    def __init__(self, *, levels: int = 100, refine=None) -> None:
        part = grounding.load("test-magenta", zoom=False, levels=levels)
        self.part = refine(part) if refine else part

    def locate(self, image: Image.Image, instruction: str) -> Prediction:
        return self.part.locate(image, instruction)


def test_a_grounder_taking_refine_applies_the_zoom_setting_to_its_parts_instead_of_being_wrapped():
    default = grounding.load("test-composite")
    assert default.name == "composite" and default.part.config == ZoomConfig()  # its default_zoom, passed in
    assert grounding.load("test-composite", zoom=False).part.name == "marker"
    tuned = grounding.load("test-composite", zoom={"candidates": 2}, levels=50)
    assert tuned.part.config.candidates == 2 and tuned.part.inner.levels == 50
    with pytest.raises(OptionError, match="does not take option.*refine"):  # load's to give, not the caller's
        grounding.load("test-composite", refine=lambda g: g)
    with pytest.raises(OptionError, match="zoom"):  # a bad setting fails even though the composite is not wrapped
        grounding.load("test-composite", zoom={"stepz": 1})
    offline = grounding.load("offline")
    assert offline.name == "offline" and offline.text.name == "ocr+zoom"
    assert grounding.load("offline", zoom=False).text.name == "ocr"


def _args(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_model_options(parser)
    return parser.parse_args(list(flags))


def test_cli_zoom_flags_become_settings():
    assert zoom_setting(_args()) is None
    assert zoom_setting(_args("--zoom")) is True
    assert zoom_setting(_args("--no-zoom")) is False
    assert zoom_setting(_args("--zoom-steps", "3", "--candidates", "4")) == {"steps": 3, "candidates": 4}
    assert zoom_setting(_args("--zoom-upscale", "1.5", "--no-zoom-search")) == {"upscale": 1.5, "search": False}
    with pytest.raises(OptionError, match="--no-zoom contradicts --zoom-steps"):
        zoom_setting(_args("--no-zoom", "--zoom-steps", "3"))
    with pytest.raises(OptionError, match="not a backend option"):
        backend_options(_args("-O", "zoom=true"))
    config = refine(MarkerDetector(), zoom_setting(_args("--zoom-crop", "0.6", "--zoom-min-crop", "512"))).config
    assert (config.crop, config.min_crop) == (0.6, 512)


def test_trace_dir_holds_each_crop_as_the_grounder_saw_it(tmp_path):
    target = (2500, 700, 8)
    image = screen((3840, 2160), [target])
    prediction = refine(MarkerDetector(levels=1000), True).locate(image, "x")
    files = write_trace(image, prediction, tmp_path / "trace")
    record = json.loads((tmp_path / "trace" / "trace.json").read_text())
    assert record["point"] == prediction.point.to_list() and len(record["trace"]) == len(prediction.trace)
    pictures = sorted((tmp_path / "trace").glob("[0-9]*.png"))
    assert (
        len(pictures) == len([s for s in prediction.trace if s.crop]) and (tmp_path / "trace" / "overview.png") in files
    )
    for picture, step in zip(pictures, [s for s in prediction.trace if s.crop]):
        with Image.open(picture) as shown:
            assert shown.size == (round(step.crop.width * step.scale), round(step.crop.height * step.scale))
            if step.point is not None:
                # The drawn crosshair's ring sits where the answer maps into this crop.
                x = (step.point.x - step.crop.x1) * step.scale
                y = (step.point.y - step.crop.y1) * step.scale
                ring = np.asarray(shown.crop((int(x) - 40, int(y) - 40, int(x) + 40, int(y) + 40)))
                assert ((ring[..., 0] > 200) & (ring[..., 1] < 60) & (ring[..., 2] < 60)).any()
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(OptionError, match="cannot write the trace"):
        write_trace(image, prediction, blocked / "sub")
