"""Small random affine distortions of MNIST batches, in plain torch (no torchvision)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

MAX_DEGREES = 10.0
MAX_SCALE = 0.1  # scale in [0.9, 1.1]
MAX_SHIFT = 2.0  # pixels


def random_affine(x01: "torch.Tensor", generator: "torch.Generator") -> "torch.Tensor":
    """Rotate, scale and shift each (1, 28, 28) image of pixels in [0, 1]; the border stays black (0)."""
    import torch
    import torch.nn.functional as F

    n = x01.shape[0]
    uniform = torch.rand(n, 4, generator=generator) * 2 - 1  # [-1, 1)
    angle = uniform[:, 0] * math.radians(MAX_DEGREES)
    scale = 1 + uniform[:, 1] * MAX_SCALE
    shift = uniform[:, 2:] * (MAX_SHIFT * 2 / x01.shape[-1])  # pixels to normalized [-1, 1] units
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([
        torch.stack([cos, -sin, shift[:, 0]], dim=1),
        torch.stack([sin, cos, shift[:, 1]], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, list(x01.shape), align_corners=False)
    return F.grid_sample(x01, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def to_unit(images: "np.ndarray") -> "torch.Tensor":
    """uint8 pixels (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]."""
    import numpy as np
    import torch

    return torch.from_numpy(images.astype(np.float32)).div_(255).unsqueeze(1)  # astype copies: writable


def random_affine_pixels(pixels: "np.ndarray", generator: "torch.Generator") -> "np.ndarray":
    """`random_affine` on raw uint8 images (n, 28, 28), rounded back to uint8, for code that feeds raw pixels."""
    import torch

    moved = random_affine(to_unit(pixels), generator).squeeze(1) * 255
    return moved.round().clamp(0, 255).to(torch.uint8).numpy()
