"""Parameter initialisation, after ``torch.nn.init``.

Each ``*_`` function fills an ndarray in place and returns it. Random ones take
``rng``: a ``numpy.random.Generator``, an int seed, or ``None`` for the default generator
(see :func:`dualnum.nn.manual_seed`).

PyTorch's default for ``Linear`` and ``Conv2d`` weights is
``kaiming_uniform_(w, a=math.sqrt(5))``, which works out to ``U(-1/sqrt(fan_in),
1/sqrt(fan_in))``; their biases are drawn from the same interval.
"""
from __future__ import annotations

import math

import numpy as np

from ._random import resolve_rng

__all__ = ["calculate_gain", "calculate_fan_in_and_fan_out", "uniform_", "normal_",
           "constant_", "zeros_", "ones_", "kaiming_uniform_", "kaiming_normal_",
           "xavier_uniform_", "xavier_normal_"]

_LINEAR_LIKE = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid"}


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (``torch.nn.init.calculate_gain``).

    >>> from dualnum.nn import init
    >>> round(init.calculate_gain("relu"), 4), init.calculate_gain("tanh")
    (1.4142, 1.6666666666666667)
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(array):
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> init.calculate_fan_in_and_fan_out(np.empty((8, 3, 5, 5)))
    (75, 200)
    """
    shape = np.shape(array)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need an array of at least 2 dimensions, "
                         f"got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(array, mode):
    fan_in, fan_out = calculate_fan_in_and_fan_out(array)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")


def uniform_(array, a=0.0, b=1.0, *, rng=None):
    """Fill ``array`` with draws from ``U(a, b)``.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> w = init.uniform_(np.empty(1000), -2.0, 2.0, rng=0)
    >>> bool(w.min() >= -2.0 and w.max() <= 2.0)
    True
    """
    array[...] = resolve_rng(rng).uniform(a, b, np.shape(array))
    return array


def normal_(array, mean=0.0, std=1.0, *, rng=None):
    """Fill ``array`` with draws from ``N(mean, std**2)``.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> w = init.normal_(np.empty(10_000), 1.0, 0.5, rng=0)
    >>> round(float(w.mean()), 1), round(float(w.std()), 1)
    (1.0, 0.5)
    """
    array[...] = resolve_rng(rng).normal(mean, std, np.shape(array))
    return array


def constant_(array, val):
    """Fill ``array`` with ``val``.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> init.constant_(np.empty(2), 0.5)
    array([0.5, 0.5])
    """
    array[...] = val
    return array


def zeros_(array):
    """Fill ``array`` with zeros.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> init.zeros_(np.ones(2))
    array([0., 0.])
    """
    return constant_(array, 0.0)


def ones_(array):
    """Fill ``array`` with ones.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> init.ones_(np.zeros(2))
    array([1., 1.])
    """
    return constant_(array, 1.0)


def kaiming_uniform_(array, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    """He et al. (2015) uniform init: ``U(-bound, bound)``, ``bound = gain * sqrt(3 / fan)``.

    With ``a=math.sqrt(5)`` (PyTorch's layer default) the bound is ``1 / sqrt(fan_in)``.

    >>> import math, numpy as np
    >>> from dualnum.nn import init
    >>> w = init.kaiming_uniform_(np.empty((64, 16)), a=math.sqrt(5), rng=0)
    >>> bool(np.abs(w).max() <= 1 / math.sqrt(16))
    True
    """
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(_fan(array, mode))
    return uniform_(array, -bound, bound, rng=rng)


def kaiming_normal_(array, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    """He et al. (2015) normal init: ``N(0, std**2)``, ``std = gain / sqrt(fan)``.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> w = init.kaiming_normal_(np.empty((500, 50)), nonlinearity="relu", rng=0)
    >>> round(float(w.std()), 2)  # sqrt(2 / 50)
    0.2
    """
    gain = calculate_gain(nonlinearity, a)
    return normal_(array, 0.0, gain / math.sqrt(_fan(array, mode)), rng=rng)


def xavier_uniform_(array, gain=1.0, *, rng=None):
    """Glorot & Bengio (2010) uniform init: ``bound = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> w = init.xavier_uniform_(np.empty((3, 3)), rng=0)
    >>> bool(np.abs(w).max() <= 1.0)
    True
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(array)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(array, -bound, bound, rng=rng)


def xavier_normal_(array, gain=1.0, *, rng=None):
    """Glorot & Bengio (2010) normal init: ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    >>> import numpy as np
    >>> from dualnum.nn import init
    >>> w = init.xavier_normal_(np.empty((400, 100)), rng=0)
    >>> round(float(w.std()), 2)  # sqrt(2 / 500)
    0.06
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(array)
    return normal_(array, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng)
