"""Accuracy and speed of the `ocr` grounder on a ScreenSpot-Pro-format set (default: <repo>/../shared/bench/dev).

    python3 benchmarks/bench_ocr.py                      # the whole dev set, cold OCR per image
    python3 benchmarks/bench_ocr.py --size 3840x2160     # only the 4K screens
    python3 benchmarks/bench_ocr.py -O det_limit=2560 --failures

A hit is the predicted point inside the ground-truth box, edges included. The first instruction on each screenshot
pays for OCR ("cold"); later ones reuse the per-image cache ("warm"). Latencies are medians of wall time and of
CPU time (all threads; onnxruntime uses up to 4). SCREENGROUND_OCR_CACHE is ignored unless
--disk-cache is given, so cold timings are real.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def median(timings: list[tuple[float, float]], digits: int = 2) -> str:
    """Wall and CPU seconds (all threads): on a shared machine the CPU time says what the wall time would be alone."""
    if not timings:
        return "-"
    wall = statistics.median(t for t, _ in timings)
    cpu = statistics.median(c for _, c in timings)
    return f"{wall:.{digits}f}s (cpu {cpu:.{digits}f}s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=REPO.parent / "shared" / "bench" / "dev")
    parser.add_argument("--size", help="only screenshots of this size, e.g. 3840x2160")
    parser.add_argument("--app", help="only annotation files whose name contains this")
    parser.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE", help="grounder option")
    parser.add_argument("--failures", action="store_true", help="list the text targets missed")
    parser.add_argument("--out", type=Path, help="write every prediction as JSON lines")
    parser.add_argument("--disk-cache", type=Path, help="keep OCR results in this directory (timings are then warm)")
    args = parser.parse_args()

    if args.disk_cache:
        os.environ["SCREENGROUND_OCR_CACHE"] = str(args.disk_cache)
    else:
        os.environ.pop("SCREENGROUND_OCR_CACHE", None)
    sys.path.insert(0, str(REPO))
    import grounding

    options = {}
    for pair in args.option:
        key, _, value = pair.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    grounder = grounding.load("ocr", zoom=False, **options)
    # Load the models before timing: "cold" means the first instruction on a screenshot, not the first in a process.
    from PIL import Image

    grounder.read(Image.new("RGB", (64, 64), "white"))

    from grounding.eval import load_dataset

    samples = [s for s in load_dataset(args.dataset).samples if not args.app or args.app in s.split]
    if args.size:
        samples = [s for s in samples if "x".join(map(str, s.img_size)) == args.size]
    if not samples:
        print(f"no samples under {args.dataset}", file=sys.stderr)
        return 2
    by_image = defaultdict(list)
    for sample in samples:
        by_image[sample.image_path].append(sample)

    hits = defaultdict(lambda: [0, 0])
    cold, warm = defaultdict(list), defaultdict(list)
    out = args.out.open("w") if args.out else None
    failures = []
    started = time.perf_counter()
    for image_path, group in by_image.items():
        image = grounding.load_image(image_path)
        size = "x".join(map(str, image.size))
        for i, sample in enumerate(group):
            t0, c0 = time.perf_counter(), time.process_time()
            prediction = grounder.locate(image, sample.instruction)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            (cold if i == 0 else warm)[size].append((elapsed, cpu))
            hit = prediction.point is not None and sample.bbox.contains(prediction.point)
            for key in ("overall", sample.ui_type, f"size {size}", f"size {size} {sample.ui_type}",
                        f"app {sample.application}", f"app {sample.application} {sample.ui_type}"):
                hits[key][0] += hit
                hits[key][1] += 1
            if not hit and sample.ui_type == "text":
                failures.append((sample, prediction))
            if out:
                out.write(json.dumps({"id": sample.id, "hit": hit, "ui_type": sample.ui_type,
                                      "instruction": sample.instruction, "bbox": sample.bbox.to_list(),
                                      **prediction.to_dict()}) + "\n")
    wall = time.perf_counter() - started

    def pct(key: str) -> str:
        n, total = hits[key]
        return f"{100 * n / total:5.1f}% ({n}/{total})" if total else "   -"

    print(f"ocr {options or ''} on {args.dataset} ({len(samples)} targets, {len(by_image)} screenshots, {wall:.0f}s)")
    for key in ("overall", "text", "icon"):
        print(f"  {key:<8} {pct(key)}")
    for size in sorted({k.split()[1] for k in hits if k.startswith("size ")}, key=lambda s: int(s.split("x")[0])):
        print(f"  {size:<10} overall {pct(f'size {size}')}  text {pct(f'size {size} text')}  "
              f"median cold {median(cold[size])} warm {median(warm[size], 3)}")
    for app in sorted({k[4:] for k in hits if k.startswith("app ") and not k.endswith((" text", " icon"))}):
        print(f"  {app:<20} overall {pct(f'app {app}')}  text {pct(f'app {app} text')}")
    if args.failures:
        for sample, prediction in failures:
            extra = prediction.extra
            print(f"  MISS {sample.id:<14} {sample.instruction!r} -> target {extra.get('target')!r} "
                  f"{prediction.status.value} {prediction.point.to_list() if prediction.point else None} "
                  f"matched {extra.get('matched')!r} truth {sample.bbox.to_list()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
