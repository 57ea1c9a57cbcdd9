"""matmul's value and tangents for large 2-D products, as independent GEMMs run side by
side on the kernel threads.

``y = a @ b`` and ``ẏ_k = ȧ_k @ b + a @ ḃ_k`` are K + 1 products with the same right
operand b (a layer's weight) and row blocks that do not depend on each other: the value,
and each direction's ``ȧ_k @ b``. :func:`dualnum._jit.parallel_pieces` runs them as pieces
on the kernel threads, each on one BLAS thread, where BLAS's own threads would split
every product in two and wait for each other once per product (a wait that costs a
scheduler slice when another process holds a core). ``a @ ḃ`` goes through NumPy's
dispatch, so a structured ``ḃ`` (a LowRank's ``(a u) vᵀ``) keeps its cheap form.

``matmul(primals, tangents, kwargs, k)`` is attached to the matmul rule by
:func:`dualnum.kernels.install`; it returns None (the rule's NumPy path runs) for
anything but two 2-D float arrays of one dtype with plain-array or structured tangents,
for products below :data:`MIN_MACS`, and when the kernels have one thread (the pieces
would then be NumPy's own calls).
"""
from __future__ import annotations

import numpy as np

from .._jit import parallel_pieces, threads

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: Smallest value product (multiply-adds) worth splitting into pieces.
MIN_MACS = 1 << 20


def _operand(t, shape, k, dtype):
    """A tangent as an array of ``(K,) + shape`` (or ``shape``), or None when the kernel
    does not take it."""
    want = shape if k is None else (k,) + shape
    if type(t) is not np.ndarray or t.shape != want or t.dtype.kind != "f":
        return None
    return t.astype(dtype, copy=False)


def matmul(primals, tangents, kwargs, k):
    """(a @ b, its tangent) for large 2-D float products, or None."""
    if kwargs or len(primals) != 2:
        return None
    a, b = primals
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 \
            or b.ndim != 2 or a.dtype is not b.dtype or a.dtype not in _FLOATS \
            or a.shape[1] != b.shape[0]:
        return None
    n, m = a.shape[0], b.shape[1]
    if n * a.shape[1] * m < MIN_MACS or threads() < 2:
        return None
    ta, tb = (list(tangents) + [None, None])[:2]
    if ta is not None:
        ta = _operand(ta, a.shape, k, a.dtype)
        if ta is None:
            return None
    if tb is not None and type(tb) is np.ndarray:
        tb = _operand(tb, b.shape, k, a.dtype)
        if tb is None:
            return None
    elif tb is not None and not getattr(tb, "is_structured_tangent", False):
        return None
    y = np.empty((n, m), a.dtype)
    t = None
    if ta is not None or tb is not None:
        t = np.empty(((k,) if k is not None else ()) + (n, m), a.dtype)
    t3 = None if t is None else t.reshape((-1, n, m))
    pieces = [(a, y)]
    if ta is not None:
        pieces += list(zip(ta.reshape((-1, n, a.shape[1])), t3))
    if len(pieces) < threads():  # the value alone: split its rows
        half = n // 2
        pieces = [(a[:half], y[:half]), (a[half:], y[half:])]

    def piece(p):
        np.matmul(p[0], b, out=p[1])

    parallel_pieces(piece, pieces)
    if tb is not None:
        right = np.matmul(a, tb)  # (K, n, m) or (n, m); a LowRank's own product
        if ta is None:
            t[...] = right
        else:
            t += right
    return y, t
