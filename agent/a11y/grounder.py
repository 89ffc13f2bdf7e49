"""The `a11y` grounder (the live accessibility tree) and the fused grounder (tree first, vision for the rest).

Both ground on the live screen: `locate_on(screenshot, instruction)` takes a capture that knows where its pixels lie
on the screen (agent.capture); plain `locate(image, instruction)` takes the image as a capture of all monitors
right now. Importing this module registers `a11y` (the package's `screenground.grounders` entry point points here)
and touches neither the display nor the bus.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from grounding.base import BaseGrounder
from grounding.errors import OptionError
from grounding.registry import register
from grounding.types import Grounder, Prediction, Stopwatch, TraceStep

from .backend import Limits
from .element import Snapshot
from .match import Match, rank
from .walker import DEFAULT_DEADLINE_S, shared


@runtime_checkable
class ScreenGrounder(Protocol):
    """A grounder that needs the live screen behind the screenshot, not only its pixels."""

    name: str

    def locate_on(self, screenshot, instruction: str) -> Prediction: ...

    def warm_up(self) -> None: ...


def live_screenshot(image: Image.Image):
    """`image` taken as a capture of all monitors now, with the map from its pixels to the screen; None when it
    cannot be one (no display, or a shape no capture of this screen has)."""
    from agent.capture import Screenshot
    from agent.screen import DisplayError, ScreenMap, union

    try:
        from agent.capture import monitors

        layout = monitors()
    except DisplayError:
        return None
    region = union(layout).box
    if abs(image.width / image.height - region.width / region.height) > 0.01:
        return None
    return Screenshot(image, ScreenMap.of_region(region, image.size, layout), "the live screen", live=True)


class A11yGrounder(BaseGrounder):
    """The element of the live accessibility tree whose name, text or description matches the instruction (role and
    area from the instruction break ties). Options: `min_score` (below: not_found), `deadline_s` (hard limit on a
    walk), `scope` ("active" window's application or the whole "desktop"), `max_nodes`, `call_timeout_s`."""

    name = "a11y"

    def __init__(
        self,
        *,
        min_score: float = 0.85,
        deadline_s: float = DEFAULT_DEADLINE_S,
        scope: str = "active",
        max_nodes: int = 5000,
        call_timeout_s: float = 0.4,
        candidates: int = 5,
    ):
        if not 0.0 <= min_score <= 1.0:
            raise OptionError(f"min_score must lie in [0, 1], got {min_score}")
        if deadline_s <= 0 or call_timeout_s <= 0 or max_nodes < 1:
            raise OptionError("deadline_s and call_timeout_s must be positive and max_nodes at least 1")
        if scope not in ("active", "desktop"):
            raise OptionError(f"scope must be 'active' or 'desktop', got {scope!r}")
        self.min_score = min_score
        self.deadline_s = deadline_s
        self.limits = Limits(scope=scope, max_nodes=max_nodes, call_timeout_s=call_timeout_s)
        self.candidates = candidates
        self._last: tuple[str, Snapshot] | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Start the walker's worker process now, so the first look does not wait for an interpreter to start."""
        shared().start()

    def snapshot(self, screenshot) -> Snapshot:
        """The tree's elements on this screenshot, in its pixels (one walk per screenshot: a drag's two targets or
        a re-asked instruction reuse it)."""
        return self.look(screenshot)[0]

    def look(self, screenshot) -> tuple[Snapshot, bool]:
        """The snapshot, and whether it was reused (a capture with the same pixels as the last one)."""
        with self._lock:
            if self._last is not None and self._last[0] == screenshot.hash:
                return self._last[1], True
        limits = Limits(**{**self.limits.__dict__, "region": screenshot.screen.region})
        snapshot = shared().walk(limits, self.deadline_s)
        snapshot = snapshot.in_image(screenshot.screen.to_screen.inverse(), screenshot.image.size)
        with self._lock:
            self._last = (screenshot.hash, snapshot)
        return snapshot, False

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        shot = live_screenshot(image)
        if shot is None:
            return Prediction.not_found("no live screen behind this image (a11y reads the live desktop)",
                                        extra={"source": "a11y"})
        return self.locate_on(shot, instruction)

    def locate_on(self, screenshot, instruction: str) -> Prediction:
        with Stopwatch() as watch:
            snapshot, reused = self.look(screenshot)
            matches = rank(snapshot.elements, instruction, screenshot.image.size) if snapshot.elements else []
        return self.judge(snapshot, matches, watch.elapsed, reused)

    def judge(self, snapshot: Snapshot, matches: list[Match], elapsed_s: float, reused: bool = False) -> Prediction:
        """`reused`: the snapshot is the last walk's (same pixels), so `tree_s` was spent on an earlier call."""
        extra: dict[str, Any] = {"source": "a11y", "tree": snapshot.status, "tree_s": round(snapshot.elapsed_s, 4),
                                 "tree_cached": reused}
        if matches:
            extra["candidates"] = [m.to_dict() for m in matches[: self.candidates]]
        best = matches[0] if matches else None
        if best is None or best.score < self.min_score:
            note = snapshot.describe() + ("" if best is None else f"; best {best.element.label!r} {best.score:.2f}")
            step = TraceStep("a11y", None, raw=snapshot.describe(), score=best.score if best else 0.0, note=note)
            return Prediction.not_found(note, score=best.score if best else 0.0, elapsed_s=elapsed_s, trace=(step,),
                                        extra=extra)
        return matched(best, snapshot, elapsed_s, extra)


def matched(match: Match, snapshot: Snapshot, elapsed_s: float, extra: dict[str, Any]) -> Prediction:
    element = match.element
    box = element.image_box or element.box
    raw = f"{element.role} {element.label!r}"
    step = TraceStep("a11y", None, raw=raw, point=box.center, score=match.score, note=snapshot.describe())
    return Prediction(
        point=box.center, box=box, score=match.score, raw=raw, elapsed_s=elapsed_s, trace=(step,),
        extra={**extra, "role": element.role, "name": element.label, "kinds": list(element.kinds),
               "states": sorted(element.states), "app": element.app, "window": element.window},
    )


class FusedGrounder(BaseGrounder):
    """The tree when it has a confident match, else the vision grounder; the answer's `extra["source"]` says which:
    "a11y", "vision" (the tree had nothing, or nothing that overlaps: a custom-drawn control), "vision+a11y" (vision's
    point lies on a tree control, clicked at that control's centre) or "a11y+vision" (a weak tree match that vision
    confirms). A saved screenshot has no tree behind it: vision alone, said so in the trace."""

    def __init__(self, vision: Grounder, tree: A11yGrounder | None = None, weak_score: float = 0.6):
        self.vision = vision
        self.tree = tree or A11yGrounder()
        self.weak_score = weak_score
        self.name = f"a11y+{vision.name}"

    def warm_up(self) -> None:
        self.tree.warm_up()

    def answer(self, image: Image.Image, instruction: str) -> Prediction:
        shot = live_screenshot(image)
        if shot is None:
            return self._vision(image, instruction, "no live screen behind this image", None, 0.0)
        return self.locate_on(shot, instruction)

    def locate_on(self, screenshot, instruction: str) -> Prediction:
        with Stopwatch() as watch:
            if not getattr(screenshot, "live", False):
                return self._vision(screenshot.image, instruction, f"{screenshot.source}: a saved screenshot, no tree",
                                    None, watch.elapsed)
            snapshot, reused = self.tree.look(screenshot)
            matches = rank(snapshot.elements, instruction, screenshot.image.size) if snapshot.elements else []
            tree = self.tree.judge(snapshot, matches, watch.elapsed, reused)
            if tree.found:
                return tree
            why = snapshot.describe() if not snapshot.usable else f"no confident tree match ({tree.raw})"
            return self._vision(screenshot.image, instruction, why, snapshot, watch.elapsed, matches, reused)

    def _vision(self, image, instruction, why: str, snapshot: Snapshot | None, spent: float,
                matches: list[Match] = (), reused: bool = False) -> Prediction:
        with Stopwatch() as watch:
            seen = self.vision.locate(image, instruction)
        note = f"{why}; vision ({self.vision.name}) answered"
        step = TraceStep("a11y", None, raw=why, score=matches[0].score if matches else 0.0, note=note)
        extra = {**seen.extra, "source": "vision", "tree": snapshot.status if snapshot else "none"}
        if snapshot is not None:
            extra.update(tree_s=round(snapshot.elapsed_s, 4), tree_cached=reused)
        if snapshot is not None and seen.found and snapshot.elements:
            under = _control_under(seen.point, snapshot, image.size)
            weak = next((m for m in matches if m.score >= self.weak_score and m.element is under), None)
            if weak is not None:
                confirmed = matched(weak, snapshot, spent + watch.elapsed, {**extra, "source": "a11y+vision"})
                return confirmed.with_(trace=(*seen.trace, *confirmed.trace))
            if under is not None:
                box = under.image_box
                extra.update(source="vision+a11y", role=under.role, name=under.label)
                return seen.with_(point=box.center, box=box, trace=(step, *seen.trace), extra=extra,
                                  elapsed_s=spent + watch.elapsed)
        return seen.with_(trace=(step, *seen.trace), extra=extra, elapsed_s=spent + watch.elapsed)


# A vision answer is moved onto a tree control only when the control is small enough to be one thing (a button, a
# tab: at most 2% of the screenshot), not a panel that happens to contain the point.
_CONTROL_AREA = 0.02


def _control_under(point, snapshot: Snapshot, image_size: tuple[int, int]):
    """The smallest tree control (not a container, not static text) under `point`, if it is control-sized."""
    under = [
        e for e in snapshot.elements
        if e.image_box is not None and e.kinds and e.kinds != ("label",) and e.image_box.contains(point)
    ]
    if not under:
        return None
    smallest = min(under, key=lambda e: e.image_box.area)
    return smallest if smallest.image_box.area <= _CONTROL_AREA * image_size[0] * image_size[1] else None


register(
    "a11y",
    description="the live accessibility tree (AT-SPI on Linux; UIA/AX behind the same interface): exact and fast "
    "for controls the application publishes; needs a live desktop",
)(A11yGrounder)
