"""Time one `locate` call of the transformers backend with tiny random checkpoints (the path, not a real model).

    nice -n 10 python3 benchmarks/vlm_tiny_locate.py                       # CPU, fp32
    python3 benchmarks/vlm_tiny_locate.py --device cuda --dtype bfloat16   # GPU, bf16 path

Builds a tiny Qwen2.5-VL and Qwen3-VL checkpoint (rigged to answer "[12, 34]" after the prompt, or after a
forced answer prefix ending in "[", so every call is a full, parsed answer),
then times `locate` on a 1920x1080 screenshot for each family that runs on that architecture. The numbers measure
the backend's own overhead (prompt, processor, generate, parse, map), not a real model's speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

import grounding
from grounding.vlm.families import FAMILIES
from grounding.vlm.tiny import build_tiny


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device")
    parser.add_argument("--dtype")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-pixels", type=int, default=128 * 28 * 28)
    args = parser.parse_args()

    image = Image.new("RGB", (1920, 1080), (236, 236, 236))
    ImageDraw.Draw(image).rectangle((800, 500, 900, 540), fill=(40, 90, 200))
    with tempfile.TemporaryDirectory() as root:
        checkpoints = {
            arch: build_tiny(Path(root) / arch, arch, max_pixels=args.max_pixels, script="\n[12, 34]")
            for arch in ("qwen2.5-vl", "qwen3-vl")
        }
        print(f"{'family':20} {'arch':11} {'device':6} {'median s':>9} {'min s':>7} {'tokens':>7}  status")
        for name, family in FAMILIES.items():
            arch = "qwen3-vl" if family.resize.factor == 32 else "qwen2.5-vl"
            grounder = grounding.load(name, model=str(checkpoints[arch]), zoom=False, device=args.device,
                                      dtype=args.dtype, max_pixels=args.max_pixels, max_new_tokens=16)
            grounder.locate(image, "the blue button")  # warm-up
            times, prediction = [], None
            for _ in range(args.repeat):
                start = time.perf_counter()
                prediction = grounder.locate(image, "the blue button")
                times.append(time.perf_counter() - start)
            print(f"{name:20} {arch:11} {grounder.device:6} {statistics.median(times):9.3f} {min(times):7.3f} "
                  f"{prediction.tokens:7d}  {prediction.status.value}")


if __name__ == "__main__":
    main()
