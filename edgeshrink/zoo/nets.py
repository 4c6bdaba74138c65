"""The reference MNIST networks in PyTorch: (N, 1, 28, 28) normalized pixels in, (N, 10) logits out.

Each takes a width multiplier: every hidden layer's channels or units are scaled by it (rounded, at least
one); the input and the 10 class outputs stay. Width 1 is the published network.
"""

from __future__ import annotations

from torch import nn


def _w(n: int, width: float) -> int:
    return max(1, round(n * width))


def lenet5(width: float = 1.0) -> nn.Module:
    """Caffe's LeNet-5 as pruned in Deep Compression (Han et al. 2016): 431,080 parameters."""
    c1, c2, h = _w(20, width), _w(50, width), _w(500, width)
    return nn.Sequential(
        nn.Conv2d(1, c1, 5), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 16, h), nn.ReLU(),
        nn.Linear(h, 10),
    )


def lenet300(width: float = 1.0) -> nn.Module:
    """The LeNet-300-100 multilayer perceptron of Deep Compression: 266,610 parameters."""
    h1, h2 = _w(300, width), _w(100, width)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, h1), nn.ReLU(),
        nn.Linear(h1, h2), nn.ReLU(),
        nn.Linear(h2, 10),
    )


def zoo8(width: float = 1.0) -> nn.Module:
    """The topology of the ONNX Model Zoo's mnist-8 (CNTK): 5,994 parameters."""
    c1, c2 = _w(8, width), _w(16, width)
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 3),
        nn.Flatten(),
        nn.Linear(c2 * 16, 10),
    )


def tiny(width: float = 1.0) -> nn.Module:
    """A depthwise-separable CNN with global average pooling and fewer than 5,000 parameters.

    5x5 depthwise kernels in the later blocks widen the receptive field (21 pixels) for little cost.
    """
    c1, c2, c3, c4 = (_w(n, width) for n in (16, 24, 32, 40))
    return nn.Sequential(
        _conv_bn(1, c1, 3),
        _separable(c1, c2, 3, stride=2),  # 14x14
        _separable(c2, c3, 5, stride=1),
        _separable(c3, c4, 5, stride=2),  # 7x7
        nn.Conv2d(c4, 10, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


def micro(width: float = 1.0) -> nn.Module:
    """The smallest reader: 2,414 parameters, 2,294 once BatchNorm is folded (2,164 weights, 130 biases).

    Depthwise-separable blocks with max pooling between them (tiny strides its depthwise convolutions), 5x5
    depthwise kernels on the 7x7 map, global average pooling.
    """
    c1, c2, c3, c4 = (_w(n, width) for n in (8, 12, 16, 24))
    return nn.Sequential(
        _conv_bn(1, c1, 3),
        _separable(c1, c2, 3, stride=1), nn.MaxPool2d(2),  # 14x14
        _separable(c2, c3, 3, stride=1), nn.MaxPool2d(2),  # 7x7
        _separable(c3, c4, 5, stride=1),
        _conv_bn(c4, c4, 5, groups=c4),
        nn.Conv2d(c4, 10, 1),
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
