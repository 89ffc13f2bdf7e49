"""Does the zoom loop pay? `ocr` (or any grounder) with and without it, on a ScreenSpot-style dataset.

    nice -n 10 python3 benchmarks/bench_zoom.py                       # the dev set, the three standard configurations
    python3 benchmarks/bench_zoom.py --resolution 3840x2160 --every 2 # every other 4K screenshot, while tuning
    python3 benchmarks/bench_zoom.py --config steps3='{"steps": 3}'   # add a configuration (JSON zoom settings)

Prints accuracy split by text/icon and by screen size, median/p90 latency and model calls per sample for each
configuration, and writes the table and the raw summaries to --out. Predictions go to one journal per configuration
in --out, so an interrupted run resumes where it stopped. Samples run one at a time (--workers 1) by default, so the
latencies compare the configurations themselves rather than the machine's contention.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import grounding
from grounding.eval import evaluate, fingerprint, load_dataset
from grounding.types import revision_of

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "bench" / "dev"

# name -> the `zoom` argument of grounding.load
STANDARD = {
    "single": False,
    "zoom": True,
    # Four attempt tiles are the tiling search's own 2x2 tiles, so a grounder that caches per image reads them once.
    "candidates5": {"candidates": 5},
}
SCREENS = {"1920x1080": "1080p", "2560x1440": "1440p", "3840x2160": "4K"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default=str(DEV), help=f"dataset folder (default {DEV})")
    parser.add_argument("--model", default="ocr")
    parser.add_argument("--config", action="append", default=[], metavar="NAME=JSON", help="extra zoom configuration")
    parser.add_argument("--only", help="comma-separated configuration names to run (default: all)")
    parser.add_argument("--resolution", action="append", help="keep screens of this size, e.g. 3840x2160")
    parser.add_argument("--every", type=int, default=1, help="keep every N-th screenshot (a spread-out subset)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--out",
        default=str(REPO / "out" / "bench_zoom"),
        help="journals and table (default out/bench_zoom, git-ignored)",
    )
    args = parser.parse_args(argv)

    configs: dict[str, Any] = dict(STANDARD)
    for item in args.config:
        name, _, setting = item.partition("=")
        configs[name] = json.loads(setting)
    if args.only:
        configs = {name: configs[name] for name in args.only.split(",")}

    dataset = load_dataset(args.dataset)
    samples = [s for s in dataset.samples if not args.resolution or _size(s) in args.resolution]
    # Whole screenshots, so grounders that read a screen once for all its instructions (OCR) keep that advantage.
    keep = list(dict.fromkeys(s.image_path for s in samples))[:: args.every]
    samples = [s for s in samples if s.image_path in set(keep)]
    dataset = dataclasses.replace(dataset, samples=tuple(samples))
    print(f"{dataset.describe()}", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    rows = {}
    for name, setting in configs.items():
        grounder = grounding.load(args.model, zoom=setting)
        key = fingerprint(
            args.model,
            {"every": args.every, "resolution": args.resolution},
            setting,
            dataset.path,
            revision_of(grounder),
        )
        results = evaluate(
            grounder, dataset, workers=args.workers, journal_path=out / f"{name}-{key}.jsonl", resume=True
        )
        summary = results.summary()
        rows[name] = {"grounder": grounder.name, "zoom": _jsonable(setting), **summary}
        print(f"{name}: {summary['accuracy']:.3f} in {summary['wall_s']:.0f}s", file=sys.stderr)

    table = render(rows)
    print(table)
    (out / "table.md").write_text(table + "\n")
    (out / "summaries.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")
    return 0


def _size(sample) -> str:
    return f"{sample.img_size[0]}x{sample.img_size[1]}" if sample.img_size else "?"


def _jsonable(setting: Any) -> Any:
    return dataclasses.asdict(setting) if dataclasses.is_dataclass(setting) else setting


def _pct(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("accuracy") is None:
        return "-"
    return f"{100 * entry['accuracy']:.1f} ({entry['correct']}/{entry['total']})"


def render(rows: dict[str, dict[str, Any]]) -> str:
    """A Markdown table: one row per configuration."""
    sizes = sorted(
        {size for row in rows.values() for size in row["by_resolution"]}, key=lambda s: s.split("x")[0].zfill(5)
    )
    header = [
        "config",
        "grounder",
        "all",
        "text",
        "icon",
        *[SCREENS.get(s, s) for s in sizes],
        "median s",
        "p90 s",
        "calls",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in rows.items():
        cells = [
            name,
            row["grounder"],
            _pct(row),
            _pct(row["by_ui_type"].get("text")),
            _pct(row["by_ui_type"].get("icon")),
            *[_pct(row["by_resolution"].get(size)) for size in sizes],
            f"{row['latency_s']['median']:.2f}" if row["latency_s"]["median"] is not None else "-",
            f"{row['latency_s']['p90']:.2f}" if row["latency_s"]["p90"] is not None else "-",
            f"{row['calls'] / max(1, row['total']):.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
