"""Speed and memory of the default grounder, each figure beside a same-process plain RapidOCR pass as the yardstick.

    nice -n 10 python3 benchmarks/bench_speed.py                        # every figure (the full evals take long)
    python3 benchmarks/bench_speed.py --only cold,startup,live,locate5k  # the quick ones
    python3 benchmarks/bench_speed.py --only heldout --heldout-screens 20 # eval memory on a smaller held-out-sized set

Figures (README, "Speed and memory"):
- cold: the first `locate` on a new 4K dev screenshot (default grounder and settings, fresh grounder, models already
  loaded), for the first text and the first icon instruction of each of the first --cold-screens 4K screenshots; each
  in a process of its own that also runs one default RapidOCR pass over the same image just before and just after, so
  the ratio locate / plain pass holds on a busy machine.
- startup: `ground locate` on the README's sample, end to end (a new process), wall time and peak RSS, beside
  `python -c 'RapidOCR()(image)'` on the same file (the plain pass from a cold process).
- live: a `Desktop` step after a small change: locate on screenshot A, then on B, where B is A with a menu opened,
  a dialog shown or text typed (real 1080p dev screenshots); time of the locate on B, beside a plain pass over B.
- locate5k: `ground locate` on a 5120x2880 screenshot (a dev screenshot scaled 2x), peak RSS.
- heldout: `ground eval` on a held-out-sized set (the 47 dev screenshots plus scaled copies: 85 screenshots,
  1080p to 4K, ~1,100 instructions), wall time and peak RSS.
- dev: `ground eval` on the whole dev set (default settings), wall time and accuracy, beside the summed plain passes.

Every child process is timed with wall clock and measured with wait4's peak RSS. The machine's cores and load
average are printed at the start and the end: on a shared machine the absolute times say little, the ratios more.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "bench" / "dev"
README_SAMPLE = REPO / "samples" / "images" / "libreoffice_writer_linux" / "libreoffice_writer_1920x1080_main.png"
README_INSTRUCTION = "click 'Edit' in the menu bar"
FIGURES = ("cold", "startup", "live", "locate5k", "heldout", "dev")

# A child that loads the models, then times plain pass, cold locate, plain pass on one image (same process).
_COLD = r"""
import json, sys, time
import numpy as np
from PIL import Image
from rapidocr_onnxruntime import RapidOCR
import grounding

before_path, path, instruction, before_instruction = sys.argv[1:5]
plain = RapidOCR()
plain(np.full((64, 256, 3), 255, np.uint8))
grounding.load().locate(Image.new("RGB", (64, 64), "white"), "the gear icon")  # sessions and icon model loaded
from grounding.ocr import meaning
meaning.ENCODER.cosines("the gear icon", ["Settings"])  # and both sentence encoders (a blank screen has no text)
if before_path:  # the previous screenshot of a live session
    grounding.load().locate(grounding.load_image(before_path), before_instruction)
image = grounding.load_image(path)

def timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result

plain_1, _ = timed(lambda: plain(np.asarray(image)))
grounder = grounding.load()
locate_s, prediction = timed(lambda: grounder.locate(image, instruction))
plain_2, _ = timed(lambda: plain(np.asarray(image)))
print(json.dumps({"plain_s": (plain_1 + plain_2) / 2, "locate_s": locate_s,
                  "point": prediction.point.to_list() if prediction.point else None}))
"""

_PLAIN = "import sys; from rapidocr_onnxruntime import RapidOCR; RapidOCR()(sys.argv[1])"


def machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)"


def measured(args: list[str], timeout: float = 7200) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process, its RSS read from wait4."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SCREENGROUND_OCR_CACHE", None)  # cold means cold
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=err, text=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
            time.sleep(0.02)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(map(str, args[:5]))}... exited {process.returncode}: {stderr.strip()[-800:]}")
    return wall, usage.ru_maxrss / 1024, stdout


def ground(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent.cli", *args]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p90(values: list[float]) -> float:
    return sorted(values)[min(len(values) - 1, int(0.9 * len(values)))] if values else float("nan")


def dev_samples(dataset: Path):
    sys.path.insert(0, str(REPO))
    from grounding.eval import load_dataset

    return load_dataset(dataset).samples


def cold(dataset: Path, screens: int) -> list[str]:
    """First locate on the first `screens` 4K screenshots: the first text and first icon instruction, a process each."""
    samples = [sample for sample in dev_samples(dataset) if tuple(sample.img_size or ()) == (3840, 2160)]
    kept = set(list(dict.fromkeys(sample.image_path for sample in samples))[:screens])
    picked: dict[tuple[Path, str], object] = {}
    for sample in samples:
        if sample.image_path in kept:
            picked.setdefault((sample.image_path, sample.ui_type), sample)
    rows = {"text": [], "icon": []}
    for (path, kind), sample in picked.items():
        _, _, out = measured([sys.executable, "-c", _COLD, "", str(path), sample.instruction, ""])
        result = json.loads(out.strip().splitlines()[-1])
        hit = result["point"] is not None and sample.bbox.contains(_point(result["point"]))
        rows[kind].append((result["locate_s"], result["plain_s"], hit))
        print(f"  cold {path.name[:40]:<40} {kind:<4} locate {result['locate_s']:.2f}s plain {result['plain_s']:.2f}s "
              f"ratio {result['locate_s'] / result['plain_s']:.2f} {'hit' if hit else 'miss'}", file=sys.stderr)
    lines = []
    every = rows["text"] + rows["icon"]
    for kind, found in (("all", every), *rows.items()):
        if not found:
            continue
        ratios = [loc / plain for loc, plain, _ in found]
        lines.append(
            f"cold 4K locate ({kind}, {len(found)} screenshots x instruction): ratio to plain pass median "
            f"{median(ratios):.2f} (p90 {p90(ratios):.2f}); locate median {median([r[0] for r in found]):.2f}s, "
            f"plain pass median {median([r[1] for r in found]):.2f}s; {sum(r[2] for r in found)}/{len(found)} hit"
        )
    return lines


def _point(xy):
    from grounding.geometry import Point

    return Point(*xy)


def startup() -> list[str]:
    """`ground locate` on the README sample from a new process, three times; the plain pass from a new process."""
    locate, plain = [], []
    for _ in range(3):
        wall, rss, out = measured(ground("locate", str(README_SAMPLE), README_INSTRUCTION))
        locate.append((wall, rss, out.strip()))
        wall, rss, _ = measured([sys.executable, "-c", _PLAIN, str(README_SAMPLE)])
        plain.append((wall, rss))
    wall = median([w for w, _, _ in locate])
    plain_wall = median([w for w, _ in plain])
    return [
        f"startup: ground locate README sample: median {wall:.2f}s wall "
        f"(runs {', '.join(f'{w:.2f}' for w, _, _ in locate)}), "
        f"peak RSS {max(r for _, r, _ in locate):.0f} MB, answer {locate[0][2]!r}; plain RapidOCR process on the same "
        f"file {plain_wall:.2f}s, {max(r for _, r in plain):.0f} MB; ratio {wall / plain_wall:.2f}"
    ]


# (previous screenshot, next screenshot): a menu opened, a dialog shown, on real 1080p screens of the dev set.
LIVE_PAIRS = (
    ("libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png",
     "libreoffice_writer_linux/libreoffice_writer_1920x1080_menu_format.png", "a menu opened"),
    ("libreoffice_calc_linux/libreoffice_calc_1920x1080_main.png",
     "libreoffice_calc_linux/libreoffice_calc_1920x1080_menu_data.png", "a menu opened"),
    ("thunar_linux/thunar_1920x1080_details.png", "thunar_linux/thunar_1920x1080_menu_edit.png", "a menu opened"),
    ("libreoffice_calc_linux/libreoffice_calc_1920x1080_main.png",
     "libreoffice_calc_linux/libreoffice_calc_1920x1080_dlg_format_cells.png", "a dialog appeared"),
)


def typed(path: Path, out: Path) -> Path:
    """The screenshot with a line of text typed into its page (Writer's document body)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(path).convert("RGB")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 15)
    except OSError:
        font = ImageFont.load_default()
    draw.text((560, 300), "Quarterly figures, typed just now", fill=(0, 0, 0), font=font)
    image.save(out)
    return out


def live(dataset: Path, per_pair: int) -> list[str]:
    samples = dev_samples(dataset)
    by_image: dict[str, list] = {}
    for sample in samples:
        by_image.setdefault(str(sample.image_path.relative_to(dataset / "images")), []).append(sample)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        writer = "libreoffice_writer_linux/libreoffice_writer_1920x1080_main.png"
        steps = [(dataset / "images" / a, dataset / "images" / b, why, by_image[b][:per_pair], by_image[a][0])
                 for a, b, why in LIVE_PAIRS]
        after = typed(dataset / "images" / writer, Path(tmp) / "typed.png")
        steps.append(
            (dataset / "images" / writer, after, "text typed", by_image[writer][:per_pair], by_image[writer][0])
        )
        for before, after_path, why, targets, first in steps:
            for sample in targets:
                _, _, out = measured([sys.executable, "-c", _COLD, str(before), str(after_path), sample.instruction,
                                      first.instruction])
                result = json.loads(out.strip().splitlines()[-1])
                hit = result["point"] is not None and sample.bbox.contains(_point(result["point"]))
                rows.append((result["locate_s"], result["plain_s"], hit))
                print(f"  live {after_path.name[:40]:<40} ({why}) {result['locate_s']:.2f}s plain "
                      f"{result['plain_s']:.2f}s {'hit' if hit else 'miss'}", file=sys.stderr)
    ratios = [loc / plain for loc, plain, _ in rows]
    return [
        f"live 1080p step after a small change ({len(rows)} steps): locate median {median([r[0] for r in rows]):.2f}s "
        f"(p90 {p90([r[0] for r in rows]):.2f}s), ratio to a plain pass over the new screen median "
        f"{median(ratios):.2f}; "
        f"{sum(r[2] for r in rows)}/{len(rows)} hit"
    ]


def locate5k(dataset: Path) -> list[str]:
    from PIL import Image

    source = dataset / "images" / "geany_linux" / "geany_2560x1440_main.png"
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "geany_5120x2880.png"
        Image.open(source).convert("RGB").resize((5120, 2880), Image.Resampling.BICUBIC).save(big)
        lines = []
        for instruction in ("click the Build menu", "the Save button"):
            wall, rss, out = measured(ground("locate", str(big), instruction))
            lines.append(f"locate 5120x2880 {instruction!r}: peak RSS {rss:.0f} MB, {wall:.1f}s wall ({out.strip()})")
        return lines


def heldout_set(dataset: Path, out: Path, screens: int) -> Path:
    """The dev screenshots plus copies scaled up one step (1080p -> 1440p, 1440p -> 4K) until `screens` in all;
    fewer than the dev set has: the largest first (memory is the figure)."""
    from PIL import Image

    annotations = sorted((dataset / "annotations").glob("*.json"))
    entries = [entry for path in annotations for entry in json.loads(path.read_text())]
    sizes = {entry["img_filename"]: tuple(entry["img_size"]) for entry in entries}
    files = sorted(dict.fromkeys(entry["img_filename"] for entry in entries), key=lambda name: -sizes[name][0])
    copies = [name for name in files if sizes[name][0] < 3840][: max(0, screens - len(files))]
    keep = set(files[:screens])
    rows = [dict(entry) for entry in entries if entry["img_filename"] in keep]
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "annotations").mkdir(exist_ok=True)
    for name in keep:
        (out / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        (out / "images" / name).symlink_to(dataset / "images" / name)
    for name in copies:
        width, height = sizes[name]
        target = (2560, 1440) if width == 1920 else (3840, 2160)
        factor = target[0] / width
        scaled = name.replace(".png", f"_scaled{target[0]}.png")
        Image.open(dataset / "images" / name).convert("RGB").resize(target, Image.Resampling.BICUBIC).save(
            out / "images" / scaled
        )
        for entry in entries:
            if entry["img_filename"] == name:
                rows.append({**entry, "id": f"{entry['id']}_scaled", "img_filename": scaled, "img_size": list(target),
                             "bbox": [round(v * factor, 1) for v in entry["bbox"]]})
    (out / "annotations" / "heldout.json").write_text(json.dumps(rows))
    return out


def evaluation(dataset: Path, label: str) -> tuple[str, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        wall, rss, out = measured(ground("eval", str(dataset), "--json", "--no-progress", "--out", str(results),
                                         "--journal", str(Path(tmp) / "journal.jsonl")))
        summary = json.loads(out.strip().splitlines()[-1])
    return (
        f"{label}: {summary['total']} instructions, accuracy {100 * summary['accuracy']:.1f}%, "
        f"{summary['errors']} errors, wall {wall:.0f}s, peak RSS {rss:.0f} MB", {"wall": wall, "rss": rss, **summary}
    )


def plain_passes(dataset: Path) -> float:
    """Seconds for one plain RapidOCR pass over every screenshot of the dataset, in one process."""
    code = (
        "import sys, time, glob; from rapidocr_onnxruntime import RapidOCR; ocr = RapidOCR(); "
        "files = sorted(glob.glob(sys.argv[1] + '/images/**/*.png', recursive=True)); ocr(files[0]); "
        "t = time.perf_counter(); [ocr(f) for f in files]; print(time.perf_counter() - t)"
    )
    _, _, out = measured([sys.executable, "-c", code, str(dataset)])
    return float(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEV)
    parser.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated figures ({', '.join(FIGURES)})")
    parser.add_argument("--cold-screens", type=int, default=8, help="4K screenshots timed cold (the dev set has 8)")
    parser.add_argument("--live-per-pair", type=int, default=2, help="instructions timed on each changed screen")
    parser.add_argument("--heldout-screens", type=int, default=85)
    args = parser.parse_args(argv)
    args.dataset = args.dataset.resolve()  # the held-out-sized set links to its images
    wanted = args.only.split(",")
    unknown = sorted(set(wanted) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(unknown)}")

    print(f"bench_speed at {REPO.name} ({_commit()}): start: {machine()}")
    lines: list[str] = []
    if "cold" in wanted:
        lines += cold(args.dataset, args.cold_screens)
    if "startup" in wanted:
        lines += startup()
    if "live" in wanted:
        lines += live(args.dataset, args.live_per_pair)
    if "locate5k" in wanted:
        lines += locate5k(args.dataset)
    if "heldout" in wanted:
        with tempfile.TemporaryDirectory() as tmp:
            heldout = heldout_set(args.dataset, Path(tmp), args.heldout_screens)
            line, _ = evaluation(heldout, f"eval held-out-sized set ({args.heldout_screens} screenshots)")
            lines.append(line)
    if "dev" in wanted:
        plain = plain_passes(args.dataset)
        line, summary = evaluation(args.dataset, "eval dev (default settings)")
        lines.append(f"{line}; one plain pass over each screenshot {plain:.0f}s: ratio {summary['wall'] / plain:.2f}")
    for line in lines:
        print(line)
    print(f"end: {machine()}")
    return 0


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no git"


if __name__ == "__main__":
    sys.exit(main())
