"""The icon model's training pieces that decide what it learns: synthetic crops and the two-way contrastive loss."""

from __future__ import annotations

import numpy as np

from grounding.icons.crops import INPUT
from tests.conftest import require_module
from training.icons.synth import BACKGROUND, generate

torch = require_module("torch", "pip install torch==2.13.0")
from training.icons.net import region_loss  # noqa: E402


def ring_tile() -> np.ndarray:
    """A 48x48 RGBA icon: a dark ring on transparency."""
    import cv2

    tile = np.zeros((48, 48, 4), np.uint8)
    cv2.circle(tile, (24, 24), 16, (0, 0, 0, 255), 5, cv2.LINE_AA)
    return tile


def test_generated_crops_are_runtime_sized_varied_and_reproducible():
    tiles, mono = np.stack([ring_tile()] * 2), np.array([True, True])
    indexes = np.array([0, 1, BACKGROUND, 0] * 10)
    first = generate(tiles, mono, indexes, seed=3, workers=1)
    again = generate(tiles, mono, indexes, seed=3, workers=1)
    other = generate(tiles, mono, indexes, seed=4, workers=1)
    assert first.shape == (40, INPUT, INPUT, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert len({crop.tobytes() for crop in first}) == 40  # every sample dressed differently
    assert all(crop.std() > 3 for crop in first[indexes != BACKGROUND])  # the icon's ink is in the crop


def test_region_loss_rewards_each_name_picking_its_own_crop():
    # Three crops of labels 0, 1 and clutter (target 2 = the background column).
    target = torch.tensor([0, 1, 2])
    right = torch.tensor([[9.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 9.0]])
    wrong = torch.tensor([[0.0, 9.0, 0.0], [9.0, 0.0, 0.0], [0.0, 0.0, 9.0]])
    assert region_loss(right, target, present=2) < 0.01 < 5 < region_loss(wrong, target, present=2)
    # Clutter scoring high on a name is a wrong crop for that name: the loss sees it.
    lured = right.clone()
    lured[2, 0] = 12.0
    assert region_loss(lured, target, present=2) > 1.0


def test_region_loss_does_not_punish_other_crops_of_the_same_name():
    target = torch.tensor([0, 0, 1])
    logits = torch.tensor([[9.0, 0.0, 0.0], [9.0, 0.0, 0.0], [0.0, 9.0, 0.0]])
    assert region_loss(logits, target, present=2) < 0.01
    assert region_loss(logits, torch.tensor([2, 2, 2]), present=2) == 0  # only clutter: no name to rank crops for
