"""The models of ``dualnum train``, built for a dataset's input shape and class count.

* ``logreg``: multinomial logistic regression, ``Flatten -> Linear(d, C)``;
* ``mlp``: ``Flatten -> Linear(d, hidden) -> ReLU -> Linear(hidden, C)``;
* ``cnn``: for ``(C, H, W)`` images, two 3×3 convolutions (8 and 16 channels, padding 1)
  each followed by ReLU and 2×2 max pooling, then ``Linear(16·⌊H/4⌋·⌊W/4⌋, C)``.

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


def build_model(name, input_shape, n_classes, *, hidden=64, rng=None, dtype=np.float32):
    """The model ``name`` (one of :data:`MODELS`) for examples of shape ``input_shape``
    and ``n_classes`` classes. ``rng`` (a Generator or a seed) draws the initial weights
    (PyTorch's default initialisations)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    input_shape = tuple(int(s) for s in input_shape)
    if isinstance(rng, (int, np.integer)) or rng is None:
        rng = np.random.default_rng(rng)
    d = math.prod(input_shape)
    if name == "logreg":
        return nn.Sequential(nn.Flatten(), nn.Linear(d, n_classes, rng=rng, dtype=dtype))
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(d, hidden, rng=rng, dtype=dtype),
                             nn.ReLU(), nn.Linear(hidden, n_classes, rng=rng, dtype=dtype))
    if len(input_shape) != 3 or input_shape[1] < 4 or input_shape[2] < 4:
        raise ValueError(f"model 'cnn' needs images (channels, height, width) of at least "
                         f"4×4; this data has examples of shape {input_shape}")
    c, h, w = input_shape
    return nn.Sequential(
        nn.Conv2d(c, 8, 3, padding=1, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * (h // 4) * (w // 4), n_classes, rng=rng, dtype=dtype))
