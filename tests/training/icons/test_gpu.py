"""The GPU trainer's path: a pack of the training cache, trained by gpu.py (here on the CPU), exported as a snapshot."""

from __future__ import annotations

import lzma
import subprocess
import sys

import numpy as np

from tests.conftest import REPO, require_module

torch = require_module("torch", "pip install torch==2.13.0")
require_module("onnx", "pip install -e '.[train]'")
onnxruntime = require_module("onnxruntime", "pip install onnxruntime")
from grounding.icons.crops import INPUT, normalise  # noqa: E402
from tests.training.icons.test_fit import tiny_cache, weights  # noqa: E402
from training.icons import gpu  # noqa: E402
from training.icons.fit import export, fit, label_inputs  # noqa: E402
from training.icons.pack import pack  # noqa: E402


def train(pack_dir, out, name, seed, *extra):
    subprocess.run([sys.executable, "-m", "training.icons.gpu", str(pack_dir), str(out), name, "--start", "start-0",
                    "--steps", "4", "--seconds", "600", "--real", "0.25", "--seed", str(seed), *extra],
                   cwd=REPO, check=True, capture_output=True)


def test_crops_are_normalised_as_at_run_time():
    crops = np.random.default_rng(0).integers(0, 255, (5, INPUT, INPUT, 3)).astype(np.uint8)
    np.testing.assert_allclose(gpu.normalise(torch.from_numpy(crops)).numpy(), normalise(crops), atol=1e-5)


def test_a_pack_keeps_each_crop_with_the_text_of_its_name(tmp_path):
    cache = tiny_cache(tmp_path)
    pack(cache, tmp_path / "pack", synthetic=40, seed=0, starts={})
    with np.load(cache / "real.npz") as data:
        inputs, valid, real_label = label_inputs(cache, [str(n) for n in data["name"]], [""] * 8)
    text = np.frombuffer(lzma.decompress((tmp_path / "pack" / "text.xz").read_bytes()), "<f2").reshape(-1, 384)
    labels = np.frombuffer(lzma.decompress((tmp_path / "pack" / "real_label.xz").read_bytes()), "<i4")
    assert len(text) == valid.sum() and list(labels) == [len(text) - 1, -1] * 4  # "Record" is the one new name
    np.testing.assert_allclose(text[-1], inputs[real_label[0]], atol=1e-3)
    syn = np.frombuffer(lzma.decompress((tmp_path / "pack" / "syn.xz").read_bytes()), np.uint8)
    assert len(syn) == 40 * INPUT * INPUT * 3


def test_the_gpu_trainer_is_repeatable_and_its_checkpoints_export(tmp_path):
    cache = tiny_cache(tmp_path)
    fit(cache, total_steps=1, seed=0, threads=1, real_share=0.25, out="start.pt")
    pack(cache, tmp_path / "pack", synthetic=40, seed=0,
         starts={"start-0": torch.load(cache / "start.pt", weights_only=False)})
    train(tmp_path / "pack", tmp_path / "a", "run", seed=1)
    train(tmp_path / "pack", tmp_path / "b", "run", seed=1)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [f"run-{s}.pt" for s in (1, 2, 3, 4)]
    for first, second in zip(weights(tmp_path / "a" / "run-4.pt"), weights(tmp_path / "b" / "run-4.pt")):
        np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-7)  # threads sum in varying order
    start, trained = weights(cache / "start.pt"), weights(tmp_path / "a" / "run-4.pt")
    assert not all(np.array_equal(a, b) for a, b in zip(start, trained))
    (cache / "run-4.pt").write_bytes((tmp_path / "a" / "run-4.pt").read_bytes())
    export(cache, tmp_path / "assets", "run-4.pt", "-9")
    session = onnxruntime.InferenceSession(str(tmp_path / "assets" / "encoder-9.onnx"),
                                           providers=["CPUExecutionProvider"])
    crops = np.random.default_rng(2).integers(0, 255, (3, INPUT, INPUT, 3)).astype(np.uint8)
    vectors = session.run(None, {"crops": normalise(crops)})[0]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_same_app_steps_draw_their_real_crops_from_one_application(tmp_path):
    cache = tiny_cache(tmp_path)
    with np.load(cache / "real.npz") as data:
        real = dict(data)
    apps = np.array(["editor", "editor", "viewer", "viewer"] * 2)
    np.savez(cache / "real.npz", **{**real, "app": apps})
    fit(cache, total_steps=1, seed=0, threads=1, real_share=0.25, out="start.pt")
    pack(cache, tmp_path / "pack", synthetic=40, seed=0,
         starts={"start-0": torch.load(cache / "start.pt", weights_only=False)})
    packed = np.frombuffer(lzma.decompress((tmp_path / "pack" / "real_app.xz").read_bytes()), "<i4")
    assert list(packed) == [0, 0, 1, 1] * 2
    by_app = gpu._ByApp(torch.from_numpy(packed.astype(np.int64)))
    generator = torch.Generator().manual_seed(0)
    drawn = [set(packed[by_app.draw(6, generator).numpy()]) for _ in range(40)]
    assert all(len(apps_drawn) == 1 for apps_drawn in drawn) and set().union(*drawn) == {0, 1}
    train(tmp_path / "pack", tmp_path / "same", "run", 1, "--same-app")
    assert (tmp_path / "same" / "run-4.pt").is_file()
