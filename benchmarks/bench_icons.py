"""Icon grounding on a ScreenSpot-Pro-format set (default: <repo>/../shared/bench/dev): `ocr` alone vs `offline`.

    python3 benchmarks/bench_icons.py --disk-cache /tmp/icon-ocr     # per application, before/after, icon latency
    python3 benchmarks/bench_icons.py --app inkscape --failures
    python3 benchmarks/bench_icons.py --causes                       # the icon targets missed, by cause

"ocr" is what offline's own OCR grounder answers alone (its page is read once and cached, so the second call costs
little); "offline" adds the check-box-beside-its-label rule and the icon search when no words match. A hit is the
predicted point inside the ground-truth box. "icon pass" is the added time of the icon search (proposals + encoder +
scoring) on screens where it ran, OCR excluded; the per-size medians show the 4K cost.

--causes sorts each icon target missed by why: answered by a text, by meaning or by place; no icon-like region
proposed on the target; the target's best region ranked 2-5 or lower by the icon search.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=REPO.parent / "shared" / "bench" / "dev")
    parser.add_argument("--app", help="only annotation files whose name contains this")
    parser.add_argument("--disk-cache", type=Path, help="keep OCR results in this directory across runs")
    parser.add_argument("--failures", action="store_true", help="list the icon targets missed")
    parser.add_argument("--causes", action="store_true", help="count the icon targets missed by cause")
    args = parser.parse_args()
    if args.disk_cache:
        os.environ["SCREENGROUND_OCR_CACHE"] = str(args.disk_cache)
    sys.path.insert(0, str(REPO))
    import grounding
    from grounding.eval import load_dataset
    from grounding.icons.grounder import IconGrounder
    from grounding.icons.offline import words_on_screen
    from grounding.inputs import load_image

    samples = [s for s in load_dataset(args.dataset).samples if not args.app or args.app in s.split]
    grounder = grounding.load("offline", zoom=False)
    # table[application][ui type] = [samples, hits of ocr alone, hits of offline]
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    icon_seconds: dict[str, list[float]] = defaultdict(list)
    causes: Counter[str] = Counter()
    ranker = IconGrounder(candidates=1_000_000)  # every region, ranked as the icon search ranks them
    images: dict[object, object] = {}
    for sample in samples:
        name = sample.image_path
        if name not in images:
            images = {name: load_image(name)}  # samples are grouped by screenshot
        text = grounder.text.locate(images[name], sample.instruction)
        prediction = grounder.locate(images[name], sample.instruction)
        hit = prediction.found and sample.bbox.contains(prediction.point)
        text_hit = text.found and sample.bbox.contains(text.point)
        size = "x".join(map(str, sample.img_size))
        for row in (sample.application, "all"):
            for column in (sample.ui_type, "all"):
                cell = table[row][column]
                cell[0] += 1
                cell[1] += bool(text_hit)
                cell[2] += bool(hit)
        if "icon_s" in prediction.extra:
            icon_seconds[size].append(prediction.extra["icon_s"])
        if args.causes and sample.ui_type == "icon":
            words = words_on_screen(grounder.text.read(images[name]))
            causes[_cause(hit, prediction, sample, ranker, images[name], words)] += 1
        if args.failures and sample.ui_type == "icon" and not hit:
            best = prediction.point.to_list() if prediction.point else None
            print(f"miss {name} {sample.instruction!r} -> {best} words={prediction.extra.get('words')}")

    print(
        f"{'application':<20} {'n':>4} | {'ocr text':>8} {'icon':>6} {'all':>6} | "
        f"{'offline text':>12} {'icon':>6} {'all':>6}"
    )
    for row in sorted(table, key=lambda r: (r == "all", r)):
        cells = table[row]
        pct = functools.partial(_percent, cells)

        print(
            f"{row:<20} {cells['all'][0]:>4} | {pct('text', False):>8} {pct('icon', False):>6} {pct('all', False):>6}"
            f" | {pct('text', True):>12} {pct('icon', True):>6} {pct('all', True):>6}"
        )
    for size, seconds in sorted(icon_seconds.items()):
        print(
            f"icon pass {size}: median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s "
            f"({len(seconds)} runs)"
        )
    if args.causes:
        print("icon targets by cause: " + ", ".join(f"{cause} {n}" for cause, n in causes.most_common()))
    return 0


def _cause(hit, prediction, sample, ranker, image, words) -> str:
    if hit:
        return "hit"
    source = prediction.extra.get("source")
    if source != "icon":
        return f"answered by {source}"
    matches = ranker.search(image, sample.instruction, exclude=words).matches
    ranks = [i for i, m in enumerate(matches, 1) if sample.bbox.contains(m.box.center)]
    if not ranks:
        return "no region on the target"
    return "target ranked 2-5" if ranks[0] <= 5 else "target ranked lower"


def _percent(cells: dict[str, list[int]], column: str, after: bool) -> str:
    n, hits = cells[column][0], cells[column][2 if after else 1]
    return f"{100 * hits / n:5.1f}%" if n else "     -"


if __name__ == "__main__":
    sys.exit(main())
