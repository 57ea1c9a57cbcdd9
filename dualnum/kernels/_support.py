"""Helpers that generated kernels call inside numba."""
import numpy as np
from numba.core import types
from numba.extending import overload


def ld(a, i):
    """``a[i]`` for an array, ``a`` itself for a scalar (a broadcast operand)."""
    return a[i] if isinstance(a, np.ndarray) else a


@overload(ld, inline="always")
def _ld(a, i):
    if isinstance(a, types.Array):
        return lambda a, i: a[i]
    return lambda a, i: a
