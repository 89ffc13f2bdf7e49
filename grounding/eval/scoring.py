"""Scoring as the official ScreenSpot-Pro script does it, and the breakdowns it reports.

A prediction is judged by one point: the grounder's point, else the centre of its box. The official script divides
the ground-truth box by the annotated `img_size` and the point by the size of the image the model saw, then tests
`x1 <= x <= x2 and y1 <= y <= y2`; `judge` does exactly that, so a mirror with resized screenshots scores the same.
No point at all is `wrong_format`, which counts as not correct.

Breakdowns work on `details` dicts (the official per-sample records), so a results file can be re-scored.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..geometry import Box, Point

CORRECT = "correct"
WRONG = "wrong"
WRONG_FORMAT = "wrong_format"
UI_TYPES = ("text", "icon")


def answer_point(point: Point | None, box: Box | None) -> Point | None:
    """The point an answer is scored by: its point, else its box's centre, else none."""
    if point is not None:
        return point
    return box.center if box is not None else None


def judge(
    point: Point | None,
    truth: Box,
    image_size: tuple[float, float] | None = None,
    annotated_size: tuple[float, float] | None = None,
) -> str:
    """correct / wrong / wrong_format for a point in the pixels of an image of `image_size`.

    `truth` is in the pixels of `annotated_size` (the dataset's img_size); either size defaults to the other, and
    with neither the test is made in pixels.
    """
    if point is None:
        return WRONG_FORMAT
    image_size = image_size or annotated_size
    annotated_size = annotated_size or image_size
    if image_size is None:
        return CORRECT if truth.contains(point) else WRONG
    (iw, ih), (aw, ah) = image_size, annotated_size
    px, py = point.x / iw, point.y / ih
    inside = truth.x1 / aw <= px <= truth.x2 / aw and truth.y1 / ah <= py <= truth.y2 / ah
    return CORRECT if inside else WRONG


# ---- the official script's metrics -------------------------------------------------------------------------------

def official_stats(details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One breakdown cell, with the official keys and its convention of 0 accuracy for an empty type."""
    total = len(details)
    correct = sum(d["correctness"] == CORRECT for d in details)
    by_type = {t: [d for d in details if d.get("ui_type") == t] for t in UI_TYPES}

    def accuracy(rows: Sequence[Mapping[str, Any]]) -> float:
        return sum(d["correctness"] == CORRECT for d in rows) / len(rows) if rows else 0

    return {
        "num_correct_action": correct,
        "num_total": total,
        "wrong_format_num": sum(d["correctness"] == WRONG_FORMAT for d in details),
        "action_acc": correct / total if total else 0,
        "text_acc": accuracy(by_type["text"]),
        "icon_acc": accuracy(by_type["icon"]),
    }


def _official_breakdown(details: Sequence[Mapping[str, Any]], keys: Sequence[str], label: Callable[..., str]):
    """Every combination of the values `keys` take, as the official script enumerates them; empty cells dropped."""
    values = [sorted({d.get(k) for d in details}, key=str) for k in keys]
    out = {}
    for combo in itertools.product(*values):
        rows = [d for d in details if all(d.get(k) == v for k, v in zip(keys, combo))]
        if rows:
            out[label(*combo)] = official_stats(rows)
    return out


def official_metrics(details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The `metrics` object of the official results file."""
    return {
        "fine_grained": _official_breakdown(
            details, ("platform", "application", "instruction_style", "gt_type"),
            lambda p, a, s, g: f"plat:{p} app:{a} inst_style:{s} gt_type:{g}",
        ),
        "seeclick_style": _official_breakdown(
            details, ("platform", "instruction_style", "gt_type"),
            lambda p, s, g: f"plat:{p} inst_style:{s} gt_type:{g}",
        ),
        "leaderboard_simple_style": _official_breakdown(details, ("group",), lambda g: f"group:{g}"),
        "leaderboard_detailed_style": _official_breakdown(details, ("application",), lambda a: f"app:{a}"),
        "overall": official_stats(details),
    }


# ---- our summary ---------------------------------------------------------------------------------------------------

def stats(details: Sequence[Mapping[str, Any]], *, split_ui: bool = True) -> dict[str, Any]:
    """{total, correct, wrong_format, accuracy} and, when asked, the same per ui_type (None accuracy when empty)."""
    total = len(details)
    correct = sum(d["correctness"] == CORRECT for d in details)
    out: dict[str, Any] = {
        "total": total,
        "correct": correct,
        "wrong_format": sum(d["correctness"] == WRONG_FORMAT for d in details),
        "accuracy": round(correct / total, 4) if total else None,
    }
    if split_ui:
        out["by_ui_type"] = by_ui_type(details)
    return out


def by_ui_type(details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    types = [t for t in UI_TYPES if any(d.get("ui_type") == t for d in details)]
    types += sorted({d["ui_type"] for d in details if d.get("ui_type") not in (None, *UI_TYPES)})
    return {t: stats([d for d in details if d.get("ui_type") == t], split_ui=False) for t in types}


def breakdown(details: Iterable[Mapping[str, Any]], key: str | Callable[[Mapping[str, Any]], Any]) -> dict[str, Any]:
    """stats per value of a field (or of a function of the detail); rows without a value are left out."""
    get = key if callable(key) else (lambda d: d.get(key))
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for detail in details:
        value = get(detail)
        if value is not None:
            groups.setdefault(str(value), []).append(detail)
    return {value: stats(rows) for value, rows in sorted(groups.items(), key=lambda kv: _natural(kv[0]))}


def resolution(detail: Mapping[str, Any]) -> str | None:
    size = detail.get("img_size")
    return f"{size[0]}x{size[1]}" if size else None


def _natural(text: str) -> tuple:
    """"1920x1080" before "3840x2160"; other keys alphabetically."""
    parts = text.split("x")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return (0, int(parts[0]) * int(parts[1]), text)
    return (1, 0, text.lower())
