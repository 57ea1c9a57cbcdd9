"""Softmax cross-entropy: the value and every tangent in one pass over the logits.

The NumPy path takes about a dozen array calls (the stable maximum, the label pick, exp,
sums, log, mean) and its tangent computes the softmax again; for a classifier's logits
(a batch of rows of ten or so) the calls cost far more than the arithmetic. Here each row
is read once: its maximum, the sum of exponentials, and the K tangents' softmax-weighted
sums, accumulated in float64 whatever the logits' dtype.

``cross_entropy(primals, tangents, kwargs, k)`` is attached to the rule by
:func:`dualnum.kernels.install`. It returns None (the rule's NumPy path runs, and raises
its clear errors) for anything but 2-D float logits with one integer label per row in
range, plain-array tangents, and nested Duals.
"""
from __future__ import annotations

import math

import numpy as np

from .._jit import jit

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@jit
def _cross_entropy(z, lab, t, e, out, tout):
    # out[0]: the mean loss; tout[q]: direction q's mean tangent. Returns False when a
    # label is out of range (the NumPy path then raises the error that names it).
    n, c = z.shape
    nk = t.shape[0]
    total = 0.0
    for q in range(nk):
        tout[q] = 0.0
    for i in range(n):
        li = lab[i]
        if li < 0 or li >= c:
            return False
        m = z[i, 0]
        for j in range(1, c):
            v = z[i, j]
            # NaN propagates as in np.max
            if v > m or v != v:
                m = v
        if not math.isfinite(m):
            m = 0.0  # as the NumPy path: rows of ±inf give ±inf, never inf - inf
        s = 0.0
        for j in range(c):
            e[j] = math.exp(z[i, j] - m)
            s += e[j]
        total += (m - z[i, li]) + math.log(s)
        for q in range(nk):
            acc = 0.0
            for j in range(c):
                acc += e[j] * t[q, i, j]
            tout[q] += acc / s - t[q, i, li]
    out[0] = total / n
    for q in range(nk):
        tout[q] /= n
    return True


def cross_entropy(primals, tangents, kwargs, k):
    """(mean cross-entropy, its tangent) for 2-D float logits, or None."""
    if kwargs or len(primals) != 2:
        return None
    z, lab = primals
    if type(z) is not np.ndarray or z.ndim != 2 or z.dtype not in _FLOATS \
            or z.shape[1] == 0 or z.shape[0] == 0:
        return None
    if type(lab) is not np.ndarray or lab.dtype.kind not in "iu" or lab.shape != z.shape[:1]:
        return None
    tz = tangents[0] if tangents else None
    if len(tangents) > 1 and tangents[1] is not None:
        return None
    n, c = z.shape
    if tz is None:
        t = np.empty((0, n, c), z.dtype)
    else:
        want = z.shape if k is None else (k,) + z.shape
        if type(tz) is not np.ndarray or tz.shape != want or tz.dtype.kind != "f":
            return None
        t = tz.reshape((-1, n, c))
    out = np.empty(1, np.float64)
    tout = np.empty(t.shape[0], np.float64)
    e = np.empty(c, np.float64)
    if not _cross_entropy(z, lab.astype(np.int64, copy=False), t, e, out, tout):
        return None
    y = np.asarray(out[0], z.dtype)
    if tz is None:
        return y, None
    ty = tout.astype(np.result_type(z.dtype, tz.dtype))
    return y, (ty.reshape(()) if k is None else ty)
