"""The icon encoder and its contrastive loss, in torch alone (no numpy, no package imports), so the same network and
loss train on this machine (fit.py) and on a GPU machine that has nothing but torch (gpu.py)."""

from __future__ import annotations

import math

DIM = 128
WORD_DIM = 384
BATCH = 256
EXTRA_NEGATIVES = 768
REGION_WEIGHT = 0.5
WARM_UP = 200


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


def frozen_norm(net) -> None:
    """Batch norms keep their statistics (a model rebuilt from exported weights has its norms folded away)."""
    from torch import nn

    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()


def learning_rate(step: int, total_steps: int, peak: float) -> float:
    """Warm-up, then cosine decay over the whole run (not the block), so blocks add up to one schedule."""
    return peak * min(1.0, (step + 1) / WARM_UP) * 0.5 * (1 + math.cos(math.pi * step / total_steps))


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
    same[torch.arange(len(labelled), device=logits.device), labelled] = False
    return F.cross_entropy(rows.masked_fill(same, float("-inf")), labelled)


def batch_loss(features, text_rows, background, log_scale, target, present: int):
    """The loss and logits of one batch: each crop must pick its name (or the background vector, for clutter) out of
    `text_rows` (the batch's names first, `present` of them, then extra negatives), and each name its crop."""
    import torch
    import torch.nn.functional as F

    z = F.normalize(features, dim=1)
    t = F.normalize(torch.cat([text_rows, background[None]]), dim=1)
    logits = log_scale.exp().clamp(max=100) * z @ t.T
    return F.cross_entropy(logits, target) + REGION_WEIGHT * region_loss(logits, target, present), logits


def train_step(image_net, projection, background, log_scale, optimiser, x, text_rows, target, present: int,
               frozen: bool):
    """One optimiser step on a batch (see `batch_loss`); `frozen`: the batch norms keep their statistics. Returns the
    loss and logits."""
    image_net.train()
    if frozen:
        frozen_norm(image_net)
    loss, logits = batch_loss(image_net(x), projection(text_rows), background, log_scale, target, present)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return loss, logits
