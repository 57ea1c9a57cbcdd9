"""matmul's value and tangents for large 2-D products: one GEMM, split by columns over
the kernel threads.

``y = a @ b`` and ``ẏ_k = ȧ_k @ b + a @ ḃ_k`` share the right operand b (a layer's
weight): the value and every ``ȧ_k @ b`` are one GEMM ``[a; ȧ_1; ...; ȧ_K] @ b``, whose
taller left operand runs faster per row than K + 1 separate products (20 % for a
64-row batch and one direction). :func:`dualnum._jit.parallel_pieces` runs it as column
blocks on the kernel threads, each on one BLAS thread and each reading its share of b
once, where BLAS's own threads would wait for each other inside every product (a wait
that costs a scheduler slice when another process holds a core). ``a @ ḃ`` goes through
NumPy's dispatch, so a structured ``ḃ`` (a LowRank's ``(a u) vᵀ``) keeps its cheap form.

``matmul(primals, tangents, kwargs, k)`` is attached to the matmul rule by
:func:`dualnum.kernels.install`; it returns None (the rule's NumPy path runs) for
anything but two 2-D float arrays of one dtype with plain-array or structured tangents,
for products below :data:`MIN_MACS`, and when the kernels have one thread (the pieces
would then be NumPy's own calls).
"""
from __future__ import annotations

import numpy as np

from .._jit import parallel_pieces, threads
from ._support import low_rank_factors

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: Smallest value product (multiply-adds) worth splitting into pieces. Below it NumPy's
#: own threaded GEMM is faster: the pieces' thread hand-offs, and switching OpenBLAS to
#: one thread and back, cost more than they save on an MLP's 1024-wide layers
#: (bench/RESULTS.md), while a CNN's first dense layer (3136 inputs) still gains.
MIN_MACS = 1 << 27


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
    # one GEMM [a; ȧ_1; ...; ȧ_K] @ b (taller products run faster per row), split by
    # the columns of b so that each piece reads its share of b once
    rows = 1 + (0 if ta is None else ta.size // a.size)
    out = np.empty((rows * n, m), a.dtype)
    if ta is None:
        left = a
    else:
        left = np.empty((rows * n, a.shape[1]), a.dtype)
        left[:n] = a
        left[n:] = ta.reshape(-1, a.shape[1])
    nt = threads()
    cols = [slice(i * m // nt, (i + 1) * m // nt) for i in range(nt)]

    def piece(c):
        np.matmul(left, b[:, c], out=out[:, c])

    parallel_pieces(piece, cols)
    y = out[:n]
    t = None if ta is None else out[n:].reshape(ta.shape[:-1] + (m,))
    if tb is not None:
        right = np.matmul(a, tb)  # (K, n, m) or (n, m); a LowRank's own product
        t = np.asarray(right, a.dtype) if t is None else np.add(t, right, out=t)
    return y, t



def linear(primals, tangents, kwargs, k):
    """(x @ w.T + b, its tangent) for a batch of rows x (N, I): large layers through
    :func:`matmul`'s pieces; others by a few NumPy calls, where a rank-R weight tangent
    a bᵀ is ``(x bᵀ) a`` (a matrix-vector product per direction). None
    (the rule's NumPy path) for other shapes, mixed dtypes and nested duals."""
    if kwargs or len(primals) != 3:
        return None
    x, w, b = primals
    if type(x) is not np.ndarray or type(w) is not np.ndarray or x.ndim != 2 \
            or w.ndim != 2 or x.dtype is not w.dtype or w.dtype not in _FLOATS \
            or x.shape[1] != w.shape[1]:
        return None
    n, o = x.shape[0], w.shape[0]
    if b is not None and (type(b) is not np.ndarray or b.shape != (o,)
                          or b.dtype is not w.dtype):
        return None
    tx, tw, tb = (list(tangents) + [None] * 3)[:3]
    lead = () if k is None else (k,)
    if tb is not None and (type(tb) is not np.ndarray or tb.shape != lead + (o,)
                           or tb.dtype is not w.dtype):
        return None
    if tx is not None and (type(tx) is not np.ndarray or tx.shape != lead + x.shape
                           or tx.dtype is not w.dtype):
        return None
    if n * x.shape[1] * o >= MIN_MACS and threads() >= 2:
        res = matmul((x, w.T), (tx, None if tw is None else np.swapaxes(tw, -1, -2)), {}, k)
        if res is None:
            return None
        y, t = res
    else:
        fa = fb = None
        if tw is not None and type(tw) is not np.ndarray:
            factors = low_rank_factors(tw, k, w.shape, w.dtype)
            if factors is None:
                return None
            fa, fb = factors
        elif tw is not None and (tw.shape != lead + w.shape or tw.dtype is not w.dtype):
            return None
        # (stacking fb beside w to read x once loses: OpenBLAS is several times slower
        # on an 11-column product than on a 10-column one)
        tt = None
        if tx is None:
            y = x @ w.T
        else:  # [x; ẋ_1; ...; ẋ_K] @ w.T: one taller product runs faster per row
            both = np.concatenate([x, tx.reshape(-1, x.shape[1])]) @ w.T
            y, tt = both[:n], both[n:].reshape(lead + (n, o))
        xb = None if fb is None else x @ fb.T  # (N, R)
        t = None
        if xb is not None:
            t = xb @ fa if k is None else xb.T[:, :, None] * fa[:, None, :]
        elif tw is not None:
            t = np.matmul(x, np.swapaxes(tw, -1, -2))
        if tt is not None:
            t = tt if t is None else np.add(t, tt, out=t)
    if b is not None:
        y += b
    if tb is not None:
        tbb = tb.reshape(tb.shape[:-1] + (1, o))
        if t is None:
            t = np.broadcast_to(tbb, lead + y.shape).copy()
        else:
            t += tbb
    return y, t
