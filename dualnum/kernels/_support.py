"""Helpers shared by the kernels: what generated kernels call inside numba, and how a
kernel reads a structured (rank-one) tangent."""
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


def low_rank_factors(t, k, shape, dtype):
    """The factors (a (R, shape[0]), b (R,) + shape[1:]) of a rank-R tangent of a weight
    of ``shape``: a structured tangent with fields ``a`` and ``b`` (a LowRank of
    dualnum.fgrad.structured, read by its fields so that the kernels need no class),
    batched (R = K) when the call is, else summed; or None."""
    if not getattr(t, "is_structured_tangent", False) or not hasattr(t, "a") \
            or bool(getattr(t, "batched", False)) != (k is not None):
        return None
    a, b = t.a, t.b
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 \
            or a.shape[1] != shape[0] or b.shape[1:] != tuple(shape[1:]) \
            or b.shape[0] != a.shape[0] or (k is not None and a.shape[0] != k) \
            or a.dtype.kind != "f" or b.dtype.kind != "f":
        return None
    return a.astype(dtype, copy=False), np.ascontiguousarray(b, dtype)
