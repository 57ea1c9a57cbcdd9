"""Learning-rate schedules.

A schedule is a callable ``schedule(i) -> lr`` of the number ``i`` of optimizer steps
already taken (0 for the first step). Pass one as an optimizer's ``lr`` and the optimizer
evaluates it at every step; its position comes from the optimizer's step count, so it is
restored with the optimizer's ``state_dict``. Any callable of one int works the same way.

>>> import numpy as np, dualnum as dn
>>> w = {"w": np.ones(2)}
>>> opt = dn.optim.SGD(w, lr=dn.optim.StepDecay(0.1, step_size=2, gamma=0.5))
>>> for _ in range(3):
...     print(opt.current_lr)
...     opt.step({"w": np.zeros(2)})
0.1
0.1
0.05
"""
from __future__ import annotations

import math
import numbers

__all__ = ["Schedule", "ExponentialDecay", "StepDecay", "CosineAnnealing"]


def _real(value, what, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite real number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{what} must be {'positive' if positive else 'non-negative'}, "
                         f"got {value!r}")
    return float(value)


class Schedule:
    """Base class: subclasses define ``lr_at(i)``; calling the schedule checks ``i``.

    >>> import dualnum as dn
    >>> class Halving(dn.optim.Schedule):
    ...     def lr_at(self, i):
    ...         return 1.0 / 2 ** i
    >>> Halving()(3)
    0.125
    """

    def lr_at(self, i):
        raise NotImplementedError

    def __call__(self, i):
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or i < 0:
            raise ValueError(f"a schedule's step must be a non-negative integer, got {i!r}")
        return float(self.lr_at(int(i)))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class ExponentialDecay(Schedule):
    """``lr_i = lr0 * exp(-i * k)``, the schedule of Baydin et al. (2022), "Gradients
    without Backpropagation".

    >>> import dualnum as dn
    >>> s = dn.optim.ExponentialDecay(0.1, k=1e-3)
    >>> s(0), round(s(1000), 6)
    (0.1, 0.036788)
    """

    def __init__(self, lr0, k):
        self.lr0 = _real(lr0, "lr0", positive=True)
        self.k = _real(k, "k")

    def lr_at(self, i):
        return self.lr0 * math.exp(-i * self.k)


class StepDecay(Schedule):
    """``lr_i = lr0 * gamma ** (i // step_size)``, PyTorch's ``StepLR``.

    >>> import dualnum as dn
    >>> s = dn.optim.StepDecay(1.0, step_size=10, gamma=0.5)
    >>> s(9), s(10), s(25)
    (1.0, 0.5, 0.25)
    """

    def __init__(self, lr0, step_size, gamma=0.1):
        self.lr0 = _real(lr0, "lr0", positive=True)
        if isinstance(step_size, bool) or not isinstance(step_size, numbers.Integral) \
                or step_size < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = _real(gamma, "gamma", positive=True)

    def lr_at(self, i):
        return self.lr0 * self.gamma ** (i // self.step_size)


class CosineAnnealing(Schedule):
    """``lr_i = eta_min + (lr0 - eta_min) * (1 + cos(pi * i / T_max)) / 2``, the closed form
    of PyTorch's ``CosineAnnealingLR`` (from ``lr0`` at step 0 down to ``eta_min`` at step
    ``T_max``; like PyTorch's, it rises again after that, with period ``2 * T_max``).

    >>> import dualnum as dn
    >>> s = dn.optim.CosineAnnealing(1.0, T_max=100, eta_min=0.1)
    >>> s(0), s(50), s(100)
    (1.0, 0.55, 0.1)
    """

    def __init__(self, lr0, T_max, eta_min=0.0):
        self.lr0 = _real(lr0, "lr0", positive=True)
        if isinstance(T_max, bool) or not isinstance(T_max, numbers.Integral) or T_max < 1:
            raise ValueError(f"T_max must be a positive integer, got {T_max!r}")
        self.T_max = int(T_max)
        self.eta_min = _real(eta_min, "eta_min")
        if self.eta_min > self.lr0:
            raise ValueError(f"eta_min ({eta_min!r}) must not exceed lr0 ({lr0!r})")

    def lr_at(self, i):
        cos = math.cos(math.pi * i / self.T_max)
        return self.eta_min + (self.lr0 - self.eta_min) * (1 + cos) / 2
