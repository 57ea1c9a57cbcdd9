"""Parameter-update kernels."""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel


@kernel(memory_bound=True)
def _rank_update(w, a, b, scale):
    # w -= scale * Σ_k a[k] ⊗ b[k], in one pass over w (rows split across threads)
    n, m = w.shape
    for i in prange(n):
        for k in range(a.shape[0]):
            c = scale * a[k, i]
            for j in range(m):
                w[i, j] -= c * b[k, j]


def subtract_low_rank(w, low_rank, scale):
    """In place: ``w -= scale * Σ_k a[k] ⊗ b[k]`` for factors ``low_rank.a`` (K, n) and
    ``low_rank.b`` (K, m) or (K, m1, m2, ...) (a summed LowRank of
    dualnum.fgrad.structured), without forming the dense array. Falls back to NumPy for
    non-contiguous ``w``."""
    a = low_rank.a.astype(w.dtype, copy=False)
    b = low_rank.b.astype(w.dtype, copy=False).reshape(a.shape[0], -1)
    if w.ndim < 2 or not w.flags.c_contiguous or w.dtype.kind != "f":
        w -= scale * (a.T @ b).reshape(w.shape)
        return
    _rank_update(w.size, w.reshape(w.shape[0], -1), np.ascontiguousarray(a),
                 np.ascontiguousarray(b), w.dtype.type(scale))


@kernel(memory_bound=True)
def _scaled_update(p, g, s):
    # p -= s * g, one pass (NumPy's `p -= s * g` writes s * g to a temporary first)
    for i in prange(p.size):
        p[i] -= s * g[i]


def subtract_scaled(p, g, scale):
    """In place ``p -= scale * g`` for a dense gradient ``g`` of p's shape, rounded as
    NumPy rounds it (the product in p's dtype, then the difference)."""
    if p.dtype.kind != "f" or g.dtype != p.dtype or not p.flags.c_contiguous \
            or not g.flags.c_contiguous or p.shape != g.shape:
        p -= scale * g
        return
    _scaled_update(p.size, p.reshape(-1), g.reshape(-1), p.dtype.type(scale))


@kernel(memory_bound=True)
def _weighted_update(p, v, w):
    # p -= Σ_k w[k] v[k], one pass over p and the K directions
    for i in prange(p.size):
        acc = w[0] * v[0, i]
        for k in range(1, v.shape[0]):
            acc += w[k] * v[k, i]
        p[i] -= acc


def subtract_structured(p, g, scale):
    """In place ``p -= scale * g`` for a structured estimate, without forming ``g``: a
    summed rank-K product (factors ``g.a``, ``g.b``: a LowRank) or a
    weighted sum of directions (``g.w``, ``g.v``: WeightedSum). Read by their fields, so
    this leaf module needs neither class."""
    if hasattr(g, "a") and hasattr(g, "b"):
        return subtract_low_rank(p, g, scale)
    v = g.v
    if not p.flags.c_contiguous or p.dtype.kind != "f" or not v.flags.c_contiguous:
        p -= scale * np.asarray(g)
        return
    v = v.astype(p.dtype, copy=False).reshape(v.shape[0], -1)
    w = (g.w * scale).astype(p.dtype)
    _weighted_update(p.size, p.reshape(-1), v, w)


@kernel(memory_bound=True)
def _outer(a, b, s, out):
    # out = s * a ⊗ b, one pass (NumPy's multiply.outer runs a slow broadcast loop)
    for i in prange(a.shape[0]):
        c = s * a[i]
        for j in range(b.shape[0]):
            out[i, j] = c * b[j]


def scaled_outer(a, b, scale):
    """``scale * a ⊗ b`` for vectors ``a`` (n,) and ``b`` (any shape m...), as an array
    of shape (n,) + b.shape in their dtype: one rank-one term of a structured estimate
    formed (the product rounded as ``np.multiply.outer(a * scale, b)`` rounds it)."""
    dtype = np.result_type(a, b)
    if dtype.kind != "f" or a.ndim != 1:
        return np.multiply.outer(a * dtype.type(scale), b)
    out = np.empty((a.shape[0],) + b.shape, dtype)
    _outer(out.size, a.astype(dtype, copy=False), np.ascontiguousarray(b, dtype).reshape(-1),
           dtype.type(scale), out.reshape(a.shape[0], -1))
    return out
