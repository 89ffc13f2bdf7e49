"""What matching by meaning adds to `offline`'s locate on 4K screens, in CPU seconds of the thread that runs it
(wall time on a shared, busy machine says more about the neighbours than about the code).

    OMP_NUM_THREADS=1 python3 benchmarks/bench_meaning_cost.py [DATASET] [--size 3840x2160]

Runs every instruction of the dataset's screens of that size through `offline` (no zoom), timing the meaning steps on
their own: the nearest texts (`grounding.ocr.meaning.nearest`) and the command an icon instruction describes
(`IconGrounder.command`); the encoder's one-time load, with the vectors of the command table's sayings, is timed
apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import grounding  # noqa: E402
from grounding.eval import load_dataset  # noqa: E402
from grounding.icons import offline  # noqa: E402
from grounding.icons.grounder import IconGrounder  # noqa: E402
from grounding.ocr import meaning  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default=str(REPO.parent / "shared" / "bench" / "dev"))
    parser.add_argument("--size", default="3840x2160")
    args = parser.parse_args(argv)
    width, height = map(int, args.size.split("x"))

    start = time.process_time()
    meaning.commands_meant("warm up")
    load_s = time.process_time() - start
    spent: list[float] = []

    def timed(step):
        def run(*a, **k):
            begin = time.thread_time()
            found = step(*a, **k)
            spent.append(time.thread_time() - begin)
            return found

        return run

    offline.meaning.nearest = timed(meaning.nearest)  # the module the grounder calls through
    IconGrounder.command = timed(IconGrounder.command)
    grounder = grounding.load("offline", zoom=False)
    per_locate = []
    for sample in load_dataset(args.dataset).samples:
        if sample.img_size != (width, height):
            continue
        image = Image.open(sample.image_path).convert("RGB")
        before = len(spent)
        grounder.locate(image, sample.instruction)
        per_locate.append(sum(spent[before:]))
    added = np.array(per_locate)
    reached = added[added > 0]
    print(f"encoder load and the command sayings' vectors: {load_s:.2f} CPU s once per process")
    print(f"{len(added)} locates on {args.size}: CPU s added median {np.median(added):.3f}, "
          f"p90 {np.percentile(added, 90):.3f}; the {len(reached)} that reach the meaning step: median "
          f"{np.median(reached):.3f}, p90 {np.percentile(reached, 90):.3f}, max {reached.max():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
