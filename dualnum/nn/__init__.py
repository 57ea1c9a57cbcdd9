"""Neural-network layers with PyTorch's names, conventions and default initialisations.

Parameters are plain floating ndarrays held by the modules. There is no autograd:
:func:`functional_call` runs a model with a parameter dict from outside, so ``dn.jvp``,
``dn.grad`` and ``dn.forward_gradient`` differentiate any model, and the optimizers in
:mod:`dualnum.optim` update ``dict(model.named_parameters())`` in place.

All randomness (initialisation, dropout masks) comes from ``numpy.random.Generator``
objects: a layer's ``rng`` argument, or the default generator, which starts from the
fixed seed :data:`DEFAULT_SEED` and is restarted by :func:`manual_seed`.

>>> import numpy as np, dualnum as dn
>>> model = dn.nn.Sequential(dn.nn.Linear(2, 8, rng=0), dn.nn.ReLU(), dn.nn.Linear(8, 1, rng=1))
>>> params = dict(model.named_parameters())
>>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
>>> loss = lambda p: np.mean((dn.nn.functional_call(model, p, x) - y) ** 2)
>>> value, g = dn.forward_gradient(loss, params, rng=np.random.default_rng(0))
>>> sorted(g)
['0.bias', '0.weight', '2.bias', '2.weight']
"""
from . import init
from ._random import DEFAULT_SEED, default_generator, manual_seed
from .layers import (GELU, AvgPool2d, Conv2d, Dropout, Flatten, Linear, LocalHead, MaxPool2d,
                     ReLU, Sigmoid, Tanh)
from .module import Module, Sequential, functional_call

__all__ = ["Module", "Sequential", "functional_call", "Linear", "Conv2d", "MaxPool2d",
           "AvgPool2d", "Flatten", "ReLU", "Tanh", "Sigmoid", "GELU", "Dropout", "LocalHead",
           "init", "manual_seed", "default_generator", "DEFAULT_SEED"]
