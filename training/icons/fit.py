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

DIM = 128
BATCH = 256
EXTRA_NEGATIVES = 768
TAG_WEIGHT = 0.5
REGION_WEIGHT = 0.5
WORD_DIM = 384


def encoder():
    from torch import nn

    def block(i: int, o: int) -> list:
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(3, 24), nn.MaxPool2d(2),
        *block(24, 48), *block(48, 48), nn.MaxPool2d(2),
        *block(48, 96), *block(96, 96), nn.MaxPool2d(2),
        *block(96, 160), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(160, DIM),
    )


def label_inputs(cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """[L, WORD_DIM] text inputs of every label (name words + TAG_WEIGHT * tag words), and which labels have any."""
    labels = json.loads((cache / "labels.json").read_text())
    with np.load(cache / "words.npz") as data:
        index = {str(w): i for i, w in enumerate(data["words"])}
        vectors = data["vectors"]

    def mean(texts: list[str]) -> np.ndarray | None:
        rows = [index[w] for t in texts for w in content_words(t) if w in index]
        return vectors[rows].mean(axis=0) if rows else None

    inputs = np.zeros((len(labels), WORD_DIM), np.float32)
    valid = np.zeros(len(labels), bool)
    for i, label in enumerate(labels):
        name, tags = mean([label["name"]]), mean(label["tags"])
        if name is not None:
            inputs[i] = name + (TAG_WEIGHT * tags if tags is not None else 0)
            valid[i] = True
    return inputs, valid


def region_loss(logits, target, present: int):
    """Text -> crop cross-entropy: each icon's name must pick its crop out of the batch's crops, clutter included.

    At run time one phrase ranks the regions of a screen, so the crops compete for a name, not only names for a crop.
    Other crops of the same name are left out of the competition rather than counted as wrong.
    """
    import torch
    import torch.nn.functional as F

    labelled = torch.nonzero(target < present).squeeze(1)
    if len(labelled) == 0:
        return logits.new_zeros(())
    rows = logits[:, target[labelled]].T  # [labelled crops, batch crops]: each crop's name against every crop
    same = target[labelled][:, None] == target[None, :]
    same[torch.arange(len(labelled)), labelled] = False
    return F.cross_entropy(rows.masked_fill(same, float("-inf")), labelled)


def fit(cache: Path, minutes: float, threads: int, resume: bool = False) -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with np.load(cache / "data.npz") as data:
        crops, icon = data["crops"], data["icon"]
    with np.load(cache / "tiles.npz") as data:
        tile_label = data["label"]
    inputs, valid = label_inputs(cache)
    label = np.where(icon >= 0, tile_label[np.maximum(icon, 0)], -1)
    keep = (label < 0) | valid[np.maximum(label, 0)]
    crops, label = crops[keep], label[keep]
    held = len(crops) // 50
    val_crops, val_label = crops[:held], label[:held]
    crops, label = crops[held:], label[held:]
    valid_labels = np.flatnonzero(valid)

    image_net = encoder()
    projection = nn.Linear(WORD_DIM, DIM, bias=False)
    background = nn.Parameter(torch.randn(DIM) * 0.1)
    log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
    if resume:  # continue from the last run's weights with a fresh schedule
        state = torch.load(cache / "model.pt", weights_only=False)
        image_net.load_state_dict(state["image"])
        projection.load_state_dict(state["projection"])
        background.data.copy_(state["background"].detach())
        log_scale.data.copy_(state.get("log_scale", log_scale).detach())
    params = [*image_net.parameters(), *projection.parameters(), background, log_scale]
    text_in = torch.from_numpy(inputs)
    budget = minutes * 60
    optimiser = torch.optim.AdamW(params, lr=2e-3, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    step = 0
    while True:
        elapsed = time.perf_counter() - start
        if elapsed > budget:
            break
        # Cosine decay over the time budget rather than a step count: the machine is shared and its speed varies.
        for group in optimiser.param_groups:
            group["lr"] = 2e-3 * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / budget)))
        batch = rng.integers(0, len(crops), BATCH)
        x = torch.from_numpy(normalise(crops[batch]))
        y = label[batch]
        present = np.unique(y[y >= 0])
        extra = rng.choice(valid_labels, EXTRA_NEGATIVES)
        extra = extra[~np.isin(extra, present)]
        columns = np.concatenate([present, extra])
        position = {int(label): i for i, label in enumerate(present)}
        target = torch.tensor([position[int(label)] if label >= 0 else len(columns) for label in y])
        image_net.train()
        z = F.normalize(image_net(x), dim=1)
        t = F.normalize(torch.cat([projection(text_in[columns]), background[None]]), dim=1)
        logits = log_scale.exp().clamp(max=100) * z @ t.T
        loss = F.cross_entropy(logits, target) + REGION_WEIGHT * region_loss(logits, target, len(present))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        step += 1
        if step % 100 == 0:
            accuracy = (logits.argmax(1) == target).float().mean().item()
            print(f"step {step} {elapsed:.0f}s loss {loss.item():.3f} batch-acc {accuracy:.2f}", flush=True)
    print(f"trained {step} steps ({step * BATCH} crops) in {time.perf_counter() - start:.0f} s", flush=True)
    image_net.eval()
    with torch.no_grad():
        z = F.normalize(image_net(torch.from_numpy(normalise(val_crops))), dim=1)
        t = F.normalize(torch.cat([projection(text_in), background[None]]), dim=1)
        scores = z @ t.T
        scores[:, :-1][:, ~torch.from_numpy(valid)] = -2
        truth = torch.from_numpy(np.where(val_label >= 0, val_label, len(inputs)))
        top5 = (scores.topk(5, dim=1).indices == truth[:, None]).any(1).float().mean().item()
    print(f"held-out crops: top-5 name among {int(valid.sum())} names: {top5:.3f}")
    torch.save({"image": image_net.state_dict(), "projection": projection.state_dict(), "background": background,
                "log_scale": log_scale, "steps": step}, cache / "model.pt")


def export(cache: Path, assets: Path, checkpoint: str = "model.pt", suffix: str = "") -> None:
    """encoder<suffix>.onnx (crops -> unit vectors) and words<suffix>.npz (int8 projected word vectors + the
    background vector): one snapshot of the model (see grounding/icons/model.py)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    state = torch.load(cache / checkpoint, weights_only=False)
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

    assets.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        Normalised(), torch.zeros(1, 3, INPUT, INPUT), str(assets / f"encoder{suffix}.onnx"),
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
