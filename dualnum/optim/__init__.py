"""Optimizers (SGD, Adam, AdamW) with PyTorch's update formulas and learning-rate
schedules.

Optimizers work on pytrees of ndarrays and update them in place; gradients are passed to
``step``. A schedule is passed as ``lr`` and evaluated at the optimizer's step count.

>>> import numpy as np, dualnum as dn
>>> model = dn.nn.Linear(2, 1, rng=0)
>>> params = dict(model.named_parameters())
>>> opt = dn.optim.SGD(params, lr=dn.optim.ExponentialDecay(0.02, k=1e-2), momentum=0.5)
>>> x, y = np.ones((8, 2), np.float32), np.ones((8, 1), np.float32)
>>> loss = lambda p: np.mean((dn.nn.functional_call(model, p, x) - y) ** 2)
>>> rng = np.random.default_rng(0)
>>> first = float(loss(params))
>>> for _ in range(100):
...     _, g = dn.forward_gradient(loss, params, rng=rng, clip=1.0)
...     opt.step(g)
>>> bool(loss(params) < 1e-3 * first)
True
"""
from .optimizer import SGD, Adam, AdamW, Optimizer
from .schedules import CosineAnnealing, ExponentialDecay, Schedule, StepDecay

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Schedule", "ExponentialDecay", "StepDecay",
           "CosineAnnealing"]
