"""A compact, numpy-free copy of the training data for a GPU machine that has only torch (see gpu.py): crops and
labels as raw little-endian arrays compressed with xz, the labels' text inputs in float16, and start states."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import numpy as np

from .fit import label_inputs


def _write(folder: Path, name: str, array: np.ndarray) -> None:
    (folder / f"{name}.xz").write_bytes(lzma.compress(np.ascontiguousarray(array).tobytes(), preset=6))


def pack(cache: Path, out: Path, synthetic: int, seed: int, starts: dict[str, dict]) -> None:
    """`synthetic` crops drawn (seed) from data.npz, every labelled or background crop of real.npz with the index of
    its application, the text inputs of the labels with a known word (renumbered), and `starts` (name -> training
    state) as torch files."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    with np.load(cache / "real.npz") as data:
        real_crops, names, tags = data["crops"], [str(n) for n in data["name"]], [str(d) for d in data["description"]]
        _, real_app = np.unique(data["app"], return_inverse=True)
    inputs, valid, real_label = label_inputs(cache, names, tags)
    renumber = np.where(valid, np.cumsum(valid) - 1, -1)
    with np.load(cache / "data.npz") as data, np.load(cache / "tiles.npz") as tiles:
        picked = np.sort(np.random.default_rng(seed).choice(len(data["icon"]), synthetic, replace=False))
        icon = data["icon"][picked]
        syn_label = np.where(icon >= 0, renumber[tiles["label"][np.maximum(icon, 0)]], -1)
        syn_crops = data["crops"][picked]
    keep = (icon < 0) | (syn_label >= 0)
    real_label = np.where(real_label >= 0, renumber[np.maximum(real_label, 0)], -1)
    real_keep = (np.array(names) == "") | (real_label >= 0)
    _write(out, "syn", syn_crops[keep])
    _write(out, "syn_label", syn_label[keep].astype("<i4"))
    _write(out, "real", real_crops[real_keep])
    _write(out, "real_label", real_label[real_keep].astype("<i4"))
    _write(out, "real_app", real_app[real_keep].astype("<i4"))
    _write(out, "text", inputs[valid].astype("<f2"))
    for name, state in starts.items():
        torch.save(state, out / f"{name}.pt")
    meta = {"syn": int(keep.sum()), "real": int(real_keep.sum()), "labels": int(valid.sum()), "seed": seed}
    (out / "meta.json").write_text(json.dumps(meta))
    print(f"packed {meta}: {sum(p.stat().st_size for p in out.iterdir()) / 2**20:.1f} MiB")
