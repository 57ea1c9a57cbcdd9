"""The models of ``dualnum train``, built for a dataset's input shape and class count.

* ``logreg``: multinomial logistic regression, ``Flatten -> Linear(d, C)``;
* ``mlp``: ``Flatten -> Linear(d, hidden) -> ReLU -> Linear(hidden, C)``;
* ``cnn``: for ``(C, H, W)`` images, two 3×3 convolutions (8 and 16 channels, padding 1)
  each followed by ReLU and 2×2 max pooling, then ``Linear(16·⌊H/4⌋·⌊W/4⌋, C)``.

``local_heads=True`` adds a ``dn.nn.LocalHead`` after every hidden block, for forward
gradients with local losses (Ren et al. 2023): after the mlp's hidden layer a
``Linear(hidden, C)``; after each of the cnn's blocks a ``Linear`` on the block's output
average-pooled to a grid of about 7×7 (``LocalHead(pool=max(1, ⌊size/7⌋))``). The heads
only run while such a forward gradient is estimated; the network that predicts is the
same.

>>> import dualnum as dn
>>> from dualnum.models import build_model, count_parameters
>>> m = build_model("mlp", (1, 8, 8), 10, hidden=64, rng=0)
>>> count_parameters(m)
4810
>>> build_model("cnn", (2,), 3)
Traceback (most recent call last):
...
ValueError: model 'cnn' needs images (channels, height, width) of at least 4×4; this data has examples of shape (2,)
"""
from __future__ import annotations

import math

import numpy as np

from . import nn

__all__ = ["MODELS", "build_model", "count_parameters"]

#: The model names ``build_model`` (and ``dualnum train --model``) accept.
MODELS = ("logreg", "mlp", "cnn")


def count_parameters(model):
    """The number of scalar parameters of a module."""
    return int(sum(p.size for p in model.parameters()))


def build_model(name, input_shape, n_classes, *, hidden=64, rng=None, dtype=np.float32,
                local_heads=False):
    """The model ``name`` (one of :data:`MODELS`) for examples of shape ``input_shape``
    and ``n_classes`` classes. ``rng`` (a Generator or a seed) draws the initial weights
    (PyTorch's default initialisations), the heads' last, so the network's own weights
    are the same with and without ``local_heads``.

    >>> from dualnum.models import build_model
    >>> net = build_model("cnn", (1, 28, 28), 10, rng=0, local_heads=True)
    >>> [type(m).__name__ for m in net]  # doctest: +NORMALIZE_WHITESPACE
    ['Conv2d', 'ReLU', 'MaxPool2d', 'LocalHead', 'Conv2d', 'ReLU', 'MaxPool2d', 'LocalHead',
     'Flatten', 'Linear']
    >>> net[3], net[7].pool
    (LocalHead(
      pool=2
      (head): Linear(in_features=392, out_features=10, bias=True)
    ), 1)
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    input_shape = tuple(int(s) for s in input_shape)
    if isinstance(rng, (int, np.integer)) or rng is None:
        rng = np.random.default_rng(rng)
    d = math.prod(input_shape)
    if name == "logreg":
        return nn.Sequential(nn.Flatten(), nn.Linear(d, n_classes, rng=rng, dtype=dtype))
    if name == "mlp":
        layers = [nn.Flatten(), nn.Linear(d, hidden, rng=rng, dtype=dtype), nn.ReLU(),
                  nn.Linear(hidden, n_classes, rng=rng, dtype=dtype)]
        if local_heads:
            layers.insert(3, nn.LocalHead(nn.Linear(hidden, n_classes, rng=rng, dtype=dtype)))
        return nn.Sequential(*layers)
    if len(input_shape) != 3 or input_shape[1] < 4 or input_shape[2] < 4:
        raise ValueError(f"model 'cnn' needs images (channels, height, width) of at least "
                         f"4×4; this data has examples of shape {input_shape}")
    c, h, w = input_shape
    layers = [
        nn.Conv2d(c, 8, 3, padding=1, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * (h // 4) * (w // 4), n_classes, rng=rng, dtype=dtype)]
    if local_heads:  # the later block's head first: inserting it keeps the index of the other
        for at, channels, shrink in ((6, 16, 4), (3, 8, 2)):
            bh, bw = h // shrink, w // shrink  # the block's output
            pool = max(min(bh, bw) // 7, 1)
            cells = (bh // pool) * (bw // pool)
            layers.insert(at, nn.LocalHead(
                nn.Linear(channels * cells, n_classes, rng=rng, dtype=dtype), pool=pool))
    return nn.Sequential(*layers)
