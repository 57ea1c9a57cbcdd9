"""``power(a, b)`` with a scalar exponent: the tangent ``b·a^(b-1)·ȧ`` in one pass.

The value is NumPy's own ``np.power`` (its SIMD loop; numba's ``**`` is a scalar libm
call, several times slower). The tangent reuses it: ``b·a^(b-1) = b·y/a``, so no second
power is computed, except where ``y/a`` is undefined or inexact (``a == 0``, and ``y``
under- or overflowed) and the kernel takes ``b·a^(b-1)`` itself, and at ``b == 0``, where
the tangent is 0 as the rule says (also at ``a == 0``).

``power(primals, tangents, kwargs, k)`` is attached to the power rule by
:func:`dualnum.kernels.install`; it returns None unless ``a`` is a float array carrying
the only tangent and ``b`` a plain number.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@kernel
def _power_tangent(a, y, ta, b, out):
    for i in prange(out.size):
        ai = a[i]
        yi = y[i]
        if b == 0:
            out[i] = 0  # d/da a**0 = 0, also at a == 0 (the rule's convention)
        elif ai != 0 and yi != 0 and np.isfinite(yi):
            out[i] = b * (yi / ai) * ta[i]
        else:  # y/a is undefined at 0, and wrong where y under- or overflowed
            out[i] = b * ai ** (b - 1) * ta[i]


def power(primals, tangents, kwargs=None, k=None):
    if len(primals) != 2 or tangents[1] is not None or tangents[0] is None:
        return None
    a, b = primals
    ta = tangents[0]
    if type(a) is not np.ndarray or a.dtype not in _FLOATS or a.size < 256:
        return None
    if not isinstance(b, (float, int, np.floating, np.integer)) or isinstance(b, bool):
        return None
    if type(ta) is not np.ndarray or ta.shape != a.shape or not a.flags.c_contiguous:
        return None
    y = np.power(a, b)
    if y.dtype is not a.dtype:
        return None  # a float64 exponent on float32 data: NumPy's promotion decides
    ta = np.ascontiguousarray(ta, a.dtype)
    t = np.empty_like(y)
    _power_tangent(y.size, a.reshape(-1), y.reshape(-1), ta.reshape(-1), a.dtype.type(b),
                   t.reshape(-1))
    return y, t
