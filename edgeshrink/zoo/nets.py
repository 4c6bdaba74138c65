"""The reference MNIST networks in PyTorch: (N, 1, 28, 28) normalized pixels in, (N, 10) logits out."""

from __future__ import annotations

from torch import nn


def lenet5() -> nn.Module:
    """Caffe's LeNet-5 as pruned in Deep Compression (Han et al. 2016): 431,080 parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(800, 500), nn.ReLU(),
        nn.Linear(500, 10),
    )


def lenet300() -> nn.Module:
    """The LeNet-300-100 multilayer perceptron of Deep Compression: 266,610 parameters."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 300), nn.ReLU(),
        nn.Linear(300, 100), nn.ReLU(),
        nn.Linear(100, 10),
    )


def zoo8() -> nn.Module:
    """The topology of the ONNX Model Zoo's mnist-8 (CNTK): 5,994 parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 3),
        nn.Flatten(),
        nn.Linear(256, 10),
    )


def tiny() -> nn.Module:
    """A depthwise-separable CNN with global average pooling and fewer than 5,000 parameters.

    5x5 depthwise kernels in the later blocks widen the receptive field (21 pixels) for little cost.
    """
    return nn.Sequential(
        _conv_bn(1, 16, 3),
        _separable(16, 24, 3, stride=2),  # 14x14
        _separable(24, 32, 5, stride=1),
        _separable(32, 40, 5, stride=2),  # 7x7
        nn.Conv2d(40, 10, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(),
    )


def _separable(cin: int, cout: int, kernel: int, stride: int) -> nn.Sequential:
    """Depthwise k x k convolution then pointwise 1x1, each followed by BatchNorm and ReLU."""
    return nn.Sequential(
        _conv_bn(cin, cin, kernel, stride, groups=cin),
        _conv_bn(cin, cout, 1),
    )
