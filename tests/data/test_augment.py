"""Moved digits for training and fine-tuning: the same digits, a little rotated, scaled and shifted."""

from __future__ import annotations

import numpy as np
import torch

from edgeshrink.data.augment import random_affine_pixels


def test_augmented_pixels_are_the_same_digits_moved_a_little(train_split):
    """random_affine_pixels on raw uint8 digits: same shape and type, moved, reproducible, ink kept near."""
    digits = train_split.images[:64]
    moved = random_affine_pixels(digits, torch.Generator().manual_seed(0))
    again = random_affine_pixels(digits, torch.Generator().manual_seed(0))
    assert moved.shape == digits.shape and moved.dtype == np.uint8
    assert np.array_equal(moved, again) and not np.array_equal(moved, digits)
    ink = digits.reshape(64, -1).sum(axis=1).astype(float)
    assert np.all(np.abs(moved.reshape(64, -1).sum(axis=1) / ink - 1) < 0.35)  # scale 0.9-1.1 squared, resampled
    rows = np.arange(28)[None, :, None]
    centre = [(d * rows).sum(axis=(1, 2)) / d.sum(axis=(1, 2)) for d in (digits.astype(float), moved.astype(float))]
    assert np.abs(centre[0] - centre[1]).max() < 4  # shifts of up to 2 pixels, rotations of up to 10 degrees
