"""Pooling kernels: the value and every tangent in one pass over the input.

Max pooling's tangent is the input tangent at each window's first maximum, so the kernel
that finds the maximum copies the K tangents from there on the way (an earlier layout
computed the maximum once for the value and again, with its index, for the tangent).
Average pooling is linear: the tangents go through the same kernel as K more planes.

``max_pool2d``/``avg_pool2d(primals, tangents, kwargs, k)`` are attached to their rules
by :func:`dualnum.kernels.install`; they return None for what they do not take (Duals of
nested derivatives, integer arrays), and the rule's NumPy path runs then.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@kernel
def _max_pool(x, t, kh, kw, sh, sw, out, tout):
    planes, h, w = x.shape
    ho, wo = out.shape[1], out.shape[2]
    nk = t.shape[0]
    for p in prange(planes):
        for i in range(ho):
            r0 = i * sh
            for j in range(wo):
                c0 = j * sw
                best = x[p, r0, c0]
                ar = r0
                ac = c0
                for a in range(kh):
                    for c in range(kw):
                        v = x[p, r0 + a, c0 + c]
                        # the first maximum wins ties (PyTorch's rule); a NaN wins once
                        # met and keeps its place, as np.max and np.argmax do. Written
                        # as selects, not branches: on random data a branch here is
                        # mispredicted half the time.
                        take = (v > best) | ((v != v) & (best == best))
                        best = v if take else best
                        ar = r0 + a if take else ar
                        ac = c0 + c if take else ac
                out[p, i, j] = best
                for q in range(nk):
                    tout[q, p, i, j] = t[q, p, ar, ac]


@kernel
def _max_pool_2x2(x, t, out, tout):
    # _max_pool for 2×2 windows at stride 2 (the common case), unrolled: the same
    # first-maximum and NaN rules, written as selects
    planes = x.shape[0]
    ho, wo = out.shape[1], out.shape[2]
    nk = t.shape[0]
    for p in prange(planes):
        for i in range(ho):
            r = 2 * i
            for j in range(wo):
                c = 2 * j
                best = x[p, r, c]
                k = 0
                v = x[p, r, c + 1]
                take = (v > best) | ((v != v) & (best == best))
                best = v if take else best
                k = 1 if take else k
                v = x[p, r + 1, c]
                take = (v > best) | ((v != v) & (best == best))
                best = v if take else best
                k = 2 if take else k
                v = x[p, r + 1, c + 1]
                take = (v > best) | ((v != v) & (best == best))
                best = v if take else best
                k = 3 if take else k
                out[p, i, j] = best
                ar = r + k // 2
                ac = c + k % 2
                for q in range(nk):
                    tout[q, p, i, j] = t[q, p, ar, ac]


@kernel
def _avg_pool(x, kh, kw, sh, sw, out):
    planes = x.shape[0]
    ho, wo = out.shape[1], out.shape[2]
    scale = 1.0 / (kh * kw)
    for p in prange(planes):
        for i in range(ho):
            r0 = i * sh
            for j in range(wo):
                c0 = j * sw
                acc = 0.0  # float64, whatever x's dtype
                for a in range(kh):
                    for c in range(kw):
                        acc += x[p, r0 + a, c0 + c]
                out[p, i, j] = acc * scale


def _geometry(x, kernel_size, stride):
    h, w = x.shape[-2:]
    ho = (h - kernel_size[0]) // stride[0] + 1
    wo = (w - kernel_size[1]) // stride[1] + 1
    return (ho, wo), x.shape[:-2] + (ho, wo)


def _operands(primals, tangents, k):
    """(x, tangent or None) as float arrays of one dtype, or None."""
    x = primals[0]
    if type(x) is not np.ndarray or x.dtype not in _FLOATS:
        return None
    t = tangents[0] if tangents else None
    if t is not None:
        lead = 0 if k is None else 1
        if type(t) is not np.ndarray or t.ndim != x.ndim + lead or t.dtype.kind != "f":
            return None
        t = t.astype(x.dtype, copy=False)
    return x, t


def max_pool2d(primals, tangents, kwargs, k):
    """(max over each window, the tangents at each window's first maximum), or None."""
    ops = _operands(primals, tangents, k)
    if ops is None:
        return None
    x, t = ops
    ks, st = primals[1], kwargs["stride"]
    (ho, wo), final = _geometry(x, ks, st)
    h, w = x.shape[-2:]
    xf = np.ascontiguousarray(x).reshape(-1, h, w)
    planes = xf.shape[0]
    out = np.empty((planes, ho, wo), x.dtype)
    if t is None:
        tf = np.empty((0, planes, h, w), x.dtype)
    else:
        tf = np.ascontiguousarray(t).reshape(-1, planes, h, w)
    tout = np.empty((tf.shape[0], planes, ho, wo), x.dtype)
    if tuple(ks) == (2, 2) and tuple(st) == (2, 2):
        _max_pool_2x2(xf.size, xf, tf, out, tout)
    else:
        _max_pool(xf.size, xf, tf, ks[0], ks[1], st[0], st[1], out, tout)
    y = out.reshape(final)
    if t is None:
        return y, None
    return y, tout.reshape(((k,) if k is not None else ()) + final)


def _avg(a, ks, st):
    (ho, wo), final = _geometry(a, ks, st)
    h, w = a.shape[-2:]
    af = np.ascontiguousarray(a).reshape(-1, h, w)
    out = np.empty((af.shape[0], ho, wo), a.dtype)
    _avg_pool(af.size, af, ks[0], ks[1], st[0], st[1], out)
    return out.reshape(final)


def avg_pool2d(primals, tangents, kwargs, k):
    """(mean over each window, the tangents pooled the same way), or None."""
    ops = _operands(primals, tangents, k)
    if ops is None:
        return None
    x, t = ops
    ks, st = primals[1], kwargs["stride"]
    return _avg(x, ks, st), None if t is None else _avg(t, ks, st)
