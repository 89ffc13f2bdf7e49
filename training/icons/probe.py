"""The icon targets of a benchmark as `offline` sees them without zoom, cached, so a model is scored in seconds.

`offline` answers from OCR text when a match scores high enough, else from the icon search over the proposals left
once confidently read words are blocked. Neither the text side nor the proposals depend on the icon model, so both
are computed once per dataset (`collect`) and a model is scored by embedding the cached crops (`evaluate`): the same
answers `python3 benchmarks/bench_icons.py` gets with that model, in a fraction of the time.

Each miss is given one cause, checked in this order:
- text: OCR text matched well enough and offline answered with the wrong words;
- words: the instruction's words did not reach the model (none known, or the words the search kept lose the target
  while all the instruction's content words would have found it);
- proposal: no proposed region is centred inside the target;
- rank: the target was proposed, another region ranked first.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grounding.icons.text import content_words

CAUSES = ("text", "words", "proposal", "rank")


@dataclass(frozen=True)
class Case:
    id: str
    application: str
    instruction: str
    screen: int  # index of its screenshot's regions
    text_answer: bool  # offline answered from OCR text
    text_hit: bool
    query: str  # the text the icon search looks up ("" when no word is known)
    inside: tuple[int, ...]  # regions of its screenshot centred inside the target


@dataclass(frozen=True)
class Cases:
    cases: tuple[Case, ...]
    crops: tuple[np.ndarray, ...]  # per screenshot: uint8 [P, INPUT, INPUT, 3]


@dataclass(frozen=True)
class Outcome:
    case: Case
    hit: bool
    cause: str  # "" for a hit, else one of CAUSES
    rank: int | None  # of the best region inside the target, 0 = first; None when none was proposed


def collect(dataset: Path, cache: Path) -> Cases:
    """The icon targets of a ScreenSpot-Pro-format `dataset`, with offline's text outcome and the proposals' crops;
    cached in `cache` under a digest of the annotations."""
    from grounding.icons import crops as cutting
    from grounding.icons import offline, proposals

    digest = hashlib.sha256()
    code = [Path(module.__file__) for module in (cutting, offline, proposals)]  # the regions change with the code
    for path in [*code, *sorted(dataset.glob("annotations/*.json"))]:
        digest.update(path.name.encode() + path.read_bytes())
    stored = cache / f"probe-{dataset.name}-{digest.hexdigest()[:12]}.npz"
    if stored.is_file():
        with np.load(stored) as data:
            offsets = data["offsets"]
            crops = tuple(data["crops"][a:b] for a, b in zip(offsets[:-1], offsets[1:]))
            cases = tuple(Case(**{**c, "inside": tuple(c["inside"])}) for c in json.loads(str(data["cases"])))
        return Cases(cases, crops)

    import grounding
    from grounding.eval import load_dataset
    from grounding.icons.offline import words_on_screen
    from grounding.inputs import load_image, prepare

    grounder = grounding.load("offline", zoom=False)
    samples = [s for s in load_dataset(dataset).samples if s.ui_type == "icon"]
    screens: dict[Path, int] = {}
    regions: list[list] = []
    crops: list[np.ndarray] = []
    cases = []
    images: dict[Path, object] = {}
    for sample in samples:
        if sample.image_path not in images:
            images = {sample.image_path: load_image(sample.image_path)}  # samples come grouped by screenshot
        rgb, instruction = prepare(images[sample.image_path], sample.instruction)
        text = grounder.text.locate(rgb, instruction)
        if text.found:
            answer = grounder.locate(rgb, instruction)  # the check box beside its label, when asked for one
            hit = answer.found and sample.bbox.contains(answer.point)
            cases.append(Case(sample.id, sample.application or "", instruction, -1, True, bool(hit), "", ()))
            continue
        if sample.image_path not in screens:
            boxes, cut = grounder.icons.regions(np.asarray(rgb), words_on_screen(grounder.text.read(rgb)))
            screens[sample.image_path] = len(regions)
            regions.append(boxes)
            crops.append(cut)
        screen = screens[sample.image_path]
        query, _ = grounder.icons.query(instruction)
        inside = tuple(i for i, box in enumerate(regions[screen]) if sample.bbox.contains(box.center))
        cases.append(Case(sample.id, sample.application or "", instruction, screen, False, False, query, inside))
    cache.mkdir(parents=True, exist_ok=True)
    offsets = np.cumsum([0, *(len(c) for c in crops)])
    np.savez(stored, crops=np.concatenate(crops) if crops else np.zeros((0, 32, 32, 3), np.uint8), offsets=offsets,
             cases=json.dumps([c.__dict__ for c in cases]))
    return Cases(tuple(cases), tuple(crops))


def evaluate(cases: Cases, icon_model) -> list[Outcome]:
    """Each icon target's answer with `icon_model` (a grounding.icons.model.IconModel) and, for a miss, its cause."""
    embedded = {}
    outcomes = []
    for case in cases.cases:
        if case.text_answer:
            outcomes.append(Outcome(case, case.text_hit, "" if case.text_hit else "text", None))
            continue
        if case.screen not in embedded:
            embedded[case.screen] = icon_model.embed(cases.crops[case.screen])
        vectors = embedded[case.screen]
        rank = _rank(icon_model, vectors, case.query, case.inside)
        if rank == 0:
            outcomes.append(Outcome(case, True, "", 0))
            continue
        everything = " ".join(content_words(case.instruction, roles=True))
        lost = icon_model.words(everything) and _rank(icon_model, vectors, everything, case.inside) == 0
        if not case.query or lost:
            cause = "words"
        else:
            cause = "rank" if case.inside else "proposal"
        outcomes.append(Outcome(case, False, cause, rank))
    return outcomes


def _rank(icon_model, vectors: tuple[np.ndarray, ...], query: str, inside: tuple[int, ...]) -> int | None:
    """Where the best region inside the target ranks among all regions for `query` (None: none inside or no query)."""
    if not inside or not query or not icon_model.words(query):
        return None
    order = np.argsort(-icon_model.compare(vectors, query))  # as the grounder orders them, ties included
    return int(np.flatnonzero(np.isin(order, inside))[0])


def summary(outcomes: list[Outcome]) -> dict:
    """Accuracy over the icon targets, the misses by cause, and per application."""
    by_app: dict[str, list[bool]] = defaultdict(list)
    for outcome in outcomes:
        by_app[outcome.case.application].append(outcome.hit)
    causes = Counter(o.cause for o in outcomes if not o.hit)
    ranks = [o.rank for o in outcomes if o.cause == "rank"]
    return {
        "targets": len(outcomes),
        "accuracy": round(100 * sum(o.hit for o in outcomes) / max(1, len(outcomes)), 1),
        "misses": {cause: causes.get(cause, 0) for cause in CAUSES},
        "rank_misses_in_top5": sum(r is not None and r < 5 for r in ranks),
        "by_application": {app: round(100 * sum(h) / len(h), 1) for app, h in sorted(by_app.items())},
    }
