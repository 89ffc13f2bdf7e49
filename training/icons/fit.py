"""Train the icon encoder against frozen MiniLM word embeddings, then export it for ONNX Runtime.

Contrastive: each crop must pick its icon's name (+ tags) out of the batch's names plus several hundred random other
names and a learned "background" vector that clutter maps to. The text side is a linear projection of the mean MiniLM
vector of the name's words, so the runtime can apply it per word ahead of time (see grounding/icons/text.py).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from grounding.icons.crops import INPUT, normalise
from grounding.icons.text import content_words

from .net import BATCH, DIM, EXTRA_NEGATIVES, WORD_DIM, encoder, learning_rate, train_step

TAG_WEIGHT = 0.5


def _text_input(index: dict[str, int], vectors: np.ndarray, name: str, tags: list[str]) -> np.ndarray | None:
    """A label's text input: the mean MiniLM vector of its name's words + TAG_WEIGHT x that of its tags' words."""

    def mean(texts: list[str]) -> np.ndarray | None:
        rows = [index[w] for t in texts for w in content_words(t) if w in index]
        return vectors[rows].mean(axis=0) if rows else None

    words, extra = mean([name]), mean(tags)
    if words is None:
        return None
    return words + (TAG_WEIGHT * extra if extra is not None else 0)


def label_inputs(
    cache: Path, real_names: list[str] = (), real_tags: list[str] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """[L, WORD_DIM] text inputs of every label, which labels have any known word, and the label of each real crop
    (-1 for background): the icon libraries' labels (name + tags) first, then the real controls' names that are not
    already a library label's name (their descriptions, the tooltips, as tags)."""
    labels = json.loads((cache / "labels.json").read_text())
    with np.load(cache / "words.npz") as data:
        index = {str(w): i for i, w in enumerate(data["words"])}
        vectors = data["vectors"]
    texts = [(label["name"], label["tags"]) for label in labels]
    known = {" ".join(content_words(name)): i for i, (name, _) in enumerate(texts)}
    real = np.full(len(real_names), -1, np.int64)
    for i, (name, tags) in enumerate(zip(real_names, real_tags)):
        if not name:
            continue
        key = " ".join(content_words(name))
        if key not in known:
            known[key] = len(texts)
            texts.append((name, [tags] if tags else []))
        real[i] = known[key]
    inputs = np.zeros((len(texts), WORD_DIM), np.float32)
    valid = np.zeros(len(texts), bool)
    for i, (name, tags) in enumerate(texts):
        vector = _text_input(index, vectors, name, tags)
        if vector is not None:
            inputs[i], valid[i] = vector, True
    return inputs, valid, real


def from_snapshot(encoder_path: Path, words_path: Path, cache: Path) -> dict:
    """A training state rebuilt from a shipped snapshot (its ONNX encoder and word table), so training can go on from
    it when its checkpoint is gone: each convolution's folded batch norm becomes an identity norm carrying the bias,
    and the text projection is recovered by least squares from the word table and the words' MiniLM vectors."""
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(encoder_path)).graph
    weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    net = encoder()
    state = net.state_dict()
    layers = [name.removesuffix(".weight") for name in state if name.endswith(".weight") and state[name].dim() == 4]
    for layer, node in zip(layers, convs, strict=True):
        kernel, bias = weights[node.input[1]], weights[node.input[2]]
        norm = f"{int(layer) + 1}"
        state[f"{layer}.weight"] = torch.from_numpy(kernel.copy())
        state[f"{norm}.weight"] = torch.ones(len(bias))
        state[f"{norm}.bias"] = torch.from_numpy(bias.copy())
        state[f"{norm}.running_mean"] = torch.zeros(len(bias))
        state[f"{norm}.running_var"] = torch.ones(len(bias)) - 1e-5  # (x - 0) / sqrt(var + eps) = x
    gemm = next(node for node in graph.node if node.op_type == "Gemm")
    linear = [name for name in state if name.endswith(".weight") and state[name].dim() == 2][0].removesuffix(".weight")
    state[f"{linear}.weight"] = torch.from_numpy(weights[gemm.input[1]].copy())
    state[f"{linear}.bias"] = torch.from_numpy(weights[gemm.input[2]].copy())
    with np.load(words_path) as data:
        table = data["vectors"].astype(np.float32) * data["scales"][:, None]
        table_words = [str(w) for w in data["words"]]
        background = data["background"]
    with np.load(cache / "words.npz") as data:
        index = {str(w): i for i, w in enumerate(data["words"])}
        minilm = data["vectors"]
    rows = [(i, index[w]) for i, w in enumerate(table_words) if w in index]
    solved, *_ = np.linalg.lstsq(minilm[[j for _, j in rows]], table[[i for i, _ in rows]], rcond=None)
    return {"image": state, "projection": {"weight": torch.from_numpy(solved.T.copy())},
            "background": torch.from_numpy(background.copy()), "log_scale": torch.tensor(math.log(1 / 0.07)),
            "frozen_norm": True}


def fit(cache: Path, *, total_steps: int, seed: int = 0, threads: int = 2, minutes: float | None = None,
        start: dict | None = None, resume: bool = False, real_share: float = 0.0, lr: float = 2e-3,
        out: str = "model.pt") -> None:
    """Train towards `total_steps` steps, in blocks: with `resume`, go on from `out`'s saved step (optimiser
    included) until `total_steps` or `minutes`. Every step's batch is drawn from (seed, step), so the same seeds give
    the same model however the run was cut into blocks. `start` is the state to begin from (else random weights);
    `real_share` of each batch comes from real.npz (harvested controls), the rest from data.npz (synthetic)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    with np.load(cache / "data.npz") as data:
        crops, icon = data["crops"], data["icon"]
    with np.load(cache / "tiles.npz") as data:
        tile_label = data["label"]
    real_crops = np.zeros((0, INPUT, INPUT, 3), np.uint8)
    real_names, real_tags = [], []
    if real_share > 0:
        with np.load(cache / "real.npz") as data:
            real_crops = data["crops"]
            real_names, real_tags = [str(n) for n in data["name"]], [str(d) for d in data["description"]]
    inputs, valid, real_label = label_inputs(cache, real_names, real_tags)
    label = np.where(icon >= 0, tile_label[np.maximum(icon, 0)], -1)
    keep = (label < 0) | valid[np.maximum(label, 0)]
    crops, label = crops[keep], label[keep]
    keep = (real_label < 0) | valid[np.maximum(real_label, 0)]
    real_crops, real_label = real_crops[keep], real_label[keep]
    held = len(crops) // 50
    val_crops, val_label = crops[:held], label[:held]
    crops, label = crops[held:], label[held:]
    valid_labels = np.flatnonzero(valid)

    image_net = encoder()
    projection = nn.Linear(WORD_DIM, DIM, bias=False)
    background = nn.Parameter(torch.randn(DIM) * 0.1)
    log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    params = [*image_net.parameters(), *projection.parameters(), background, log_scale]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    state = torch.load(cache / out, weights_only=False) if resume else start
    step, frozen = 0, False
    if state is not None:
        image_net.load_state_dict(state["image"])
        projection.load_state_dict(state["projection"])
        background.data.copy_(state["background"].detach())
        log_scale.data.copy_(state.get("log_scale", log_scale).detach())
        frozen = bool(state.get("frozen_norm", False))
        if resume:
            optimiser.load_state_dict(state["optimiser"])
            step = int(state["step"])
    text_in = torch.from_numpy(inputs)
    clock = time.perf_counter()
    first = step
    real_batch = round(BATCH * real_share) if len(real_crops) else 0
    while step < total_steps and (minutes is None or time.perf_counter() - clock < minutes * 60):
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(step, total_steps, lr)
        rng = np.random.default_rng([seed, step])
        picked = rng.integers(0, len(crops), BATCH - real_batch)
        picked_real = rng.integers(0, len(real_crops), real_batch) if real_batch else picked[:0]
        x = torch.from_numpy(normalise(np.concatenate([crops[picked], real_crops[picked_real]])))
        y = np.concatenate([label[picked], real_label[picked_real]])
        present = np.unique(y[y >= 0])
        extra = rng.choice(valid_labels, EXTRA_NEGATIVES)
        extra = extra[~np.isin(extra, present)]
        columns = np.concatenate([present, extra])
        position = {int(name): i for i, name in enumerate(present)}
        target = torch.tensor([position[int(name)] if name >= 0 else len(columns) for name in y])
        loss, logits = train_step(image_net, projection, background, log_scale, optimiser, x, text_in[columns], target,
                                  len(present), frozen)
        step += 1
        if step % 100 == 0:
            accuracy = (logits.argmax(1) == target).float().mean().item()
            print(f"step {step} {time.perf_counter() - clock:.0f}s loss {loss.item():.3f} batch-acc {accuracy:.2f}",
                  flush=True)
    print(f"trained steps {first}-{step} of {total_steps} in {time.perf_counter() - clock:.0f} s", flush=True)
    image_net.eval()
    with torch.no_grad():
        z = F.normalize(image_net(torch.from_numpy(normalise(val_crops))), dim=1)
        t = F.normalize(torch.cat([projection(text_in), background[None]]), dim=1)
        scores = z @ t.T
        scores[:, :-1][:, ~torch.from_numpy(valid)] = -2
        truth = torch.from_numpy(np.where(val_label >= 0, val_label, len(inputs)))
        top5 = (scores.topk(5, dim=1).indices == truth[:, None]).any(1).float().mean().item()
    print(f"held-out synthetic crops: top-5 name among {int(valid.sum())} names: {top5:.3f}")
    torch.save({"image": image_net.state_dict(), "projection": projection.state_dict(), "background": background,
                "log_scale": log_scale, "optimiser": optimiser.state_dict(), "step": step, "frozen_norm": frozen},
               cache / out)


def _networks(state: dict):
    """The encoder (unit vectors out, eval mode) and the text projection of a training state."""
    import torch.nn.functional as F
    from torch import nn

    image_net = encoder()
    image_net.load_state_dict(state["image"])
    image_net.eval()
    projection = nn.Linear(WORD_DIM, DIM, bias=False)
    projection.load_state_dict(state["projection"])

    class Normalised(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = image_net

        def forward(self, x):
            return F.normalize(self.net(x), dim=1)

    return Normalised(), projection


def checkpoint_model(path: Path):
    """A saved training state as a grounding.icons.model.IconModel (torch in place of ONNX Runtime), to score it
    with the probe before exporting it."""
    import torch

    from grounding.icons.model import IconModel, Snapshot
    from grounding.icons.text import Vocabulary

    state = torch.load(path, weights_only=False)
    net, projection = _networks(state)
    with np.load(path.parent / "words.npz") as data:
        words = {str(w): i for i, w in enumerate(data["words"])}
        with torch.no_grad():
            vectors = projection(torch.from_numpy(data["vectors"])).numpy()

    class Session:  # what Snapshot.embed asks of an ONNX Runtime session
        def run(self, _outputs, feeds):
            with torch.no_grad():
                return [net(torch.from_numpy(feeds["crops"])).numpy()]

    return IconModel((Snapshot(Session(), Vocabulary(words, vectors)),))


def export(cache: Path, assets: Path, checkpoint: str = "model.pt", suffix: str = "") -> None:
    """encoder<suffix>.onnx (crops -> unit vectors) and words<suffix>.npz (int8 projected word vectors + the
    background vector, which only `from_snapshot` reads back): one snapshot of the model (see
    grounding/icons/model.py)."""
    import torch
    import torch.nn.functional as F

    state = torch.load(cache / checkpoint, weights_only=False)
    network, projection = _networks(state)
    assets.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        network, torch.zeros(1, 3, INPUT, INPUT), str(assets / f"encoder{suffix}.onnx"),
        input_names=["crops"], output_names=["vectors"], dynamic_axes={"crops": {0: "n"}, "vectors": {0: "n"}},
        opset_version=17, dynamo=False,
    )
    with np.load(cache / "words.npz") as data:
        words, vectors = data["words"], data["vectors"]
    with torch.no_grad():
        projected = projection(torch.from_numpy(vectors)).numpy()
        background = F.normalize(state["background"].detach(), dim=0).numpy()
    scales = np.abs(projected).max(axis=1) / 127.0 + 1e-12
    quantised = np.round(projected / scales[:, None]).astype(np.int8)
    np.savez_compressed(assets / f"words{suffix}.npz", words=words, vectors=quantised, scales=scales.astype(np.float32),
                        background=background.astype(np.float32))
    sizes = {p.name: p.stat().st_size for p in assets.iterdir()}
    print(f"exported {sizes}")
