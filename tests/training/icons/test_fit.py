"""Training in resumable blocks: the same seeds give the same model however the run is cut; a shipped snapshot can
be trained further though its checkpoint is gone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.conftest import REPO, require_module

torch = require_module("torch", "pip install torch==2.13.0")
require_module("onnx", "pip install -e '.[train]'")
onnxruntime = require_module("onnxruntime", "pip install onnxruntime")
from grounding.icons.crops import INPUT, normalise  # noqa: E402
from training.icons.fit import WORD_DIM, _networks, fit, from_snapshot  # noqa: E402

ASSETS = REPO / "grounding" / "icons" / "assets"


def tiny_cache(folder: Path) -> Path:
    """Three labelled icon shapes and clutter, a word table of their words, and two real crops."""
    rng = np.random.default_rng(0)
    names = ["circle", "square", "cross"]
    (folder / "labels.json").write_text(json.dumps([{"name": n, "tags": []} for n in names]))
    np.savez(folder / "words.npz", words=np.array(sorted(names + ["record"])),
             vectors=rng.normal(size=(4, WORD_DIM)).astype(np.float32))
    np.savez(folder / "tiles.npz", label=np.array([0, 1, 2]))
    crops = rng.integers(0, 255, (60, INPUT, INPUT, 3)).astype(np.uint8)
    np.savez(folder / "data.npz", crops=crops, icon=np.array([0, 1, 2, -1] * 15))
    np.savez(folder / "real.npz", crops=crops[:8], name=np.array(["Record", ""] * 4), description=np.array([""] * 8),
             app=np.array(["demo"] * 8))
    return folder


def weights(path: Path) -> list[np.ndarray]:
    state = torch.load(path, weights_only=False)
    return [v.numpy() for v in state["image"].values()] + [state["projection"]["weight"].numpy()]


def test_a_run_cut_into_blocks_is_the_run_in_one_block(tmp_path):
    cache = tiny_cache(tmp_path)
    fit(cache, total_steps=6, seed=3, threads=1, real_share=0.25, out="whole.pt")
    fit(cache, total_steps=6, seed=3, threads=1, real_share=0.25, minutes=0.0, out="cut.pt")  # stops at once
    assert torch.load(cache / "cut.pt", weights_only=False)["step"] == 0
    fit(cache, total_steps=6, seed=3, threads=1, real_share=0.25, out="cut.pt", resume=True)
    assert torch.load(cache / "cut.pt", weights_only=False)["step"] == 6
    for a, b in zip(weights(cache / "whole.pt"), weights(cache / "cut.pt")):
        np.testing.assert_array_equal(a, b)
    fit(cache, total_steps=6, seed=4, threads=1, real_share=0.25, out="other.pt")
    assert not all(np.array_equal(a, b) for a, b in zip(weights(cache / "whole.pt"), weights(cache / "other.pt")))


def test_a_shipped_snapshot_becomes_a_training_state_with_the_same_encoder(tmp_path):
    with np.load(ASSETS / "words-3.npz") as data:
        words = data["words"]
    np.savez(tmp_path / "words.npz", words=words,
             vectors=np.random.default_rng(0).normal(size=(len(words), WORD_DIM)).astype(np.float32))
    state = from_snapshot(ASSETS / "encoder-3.onnx", ASSETS / "words-3.npz", tmp_path)
    network, projection = _networks(state)
    crops = np.random.default_rng(1).integers(0, 255, (16, INPUT, INPUT, 3)).astype(np.uint8)
    session = onnxruntime.InferenceSession(str(ASSETS / "encoder-3.onnx"), providers=["CPUExecutionProvider"])
    shipped = session.run(None, {"crops": normalise(crops)})[0]
    with torch.no_grad():
        rebuilt = network(torch.from_numpy(normalise(crops))).numpy()
    np.testing.assert_allclose(rebuilt, shipped, atol=1e-5)
    assert tuple(projection.weight.shape) == (shipped.shape[1], WORD_DIM) and state["frozen_norm"]
