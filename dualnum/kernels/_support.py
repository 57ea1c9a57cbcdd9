"""Helpers that generated kernels call inside numba."""
import numpy as np
from numba.core import types
from numba.extending import overload


def ld(a, i):
    """``a[i]`` for an array, ``a`` itself for a scalar (a broadcast operand)."""
    return a[i] if isinstance(a, np.ndarray) else a


@overload(ld)
def _ld(a, i):
    if isinstance(a, types.Array):
        return lambda a, i: a[i]
    return lambda a, i: a


def flat(a):
    """A 1-D view of a C-contiguous array (a copy otherwise); scalars pass through."""
    return a.reshape(-1) if isinstance(a, np.ndarray) else a


@overload(flat)
def _flat(a):
    if isinstance(a, types.Array):
        if a.layout == "C":
            return lambda a: a.reshape(-1)
        return lambda a: np.ascontiguousarray(a).reshape(-1)
    return lambda a: a
