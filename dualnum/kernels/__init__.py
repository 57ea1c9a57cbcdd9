"""numba kernels behind a thin Python API.

Kernels are private functions on plain, contiguous 1-D arrays (or scalars for broadcast
operands). This module decides, per call, whether a fused kernel applies; when it does
not (broadcast shapes, strided views, batched tangents, nested duals) the rule's NumPy
path runs instead, and gives the same answer.

* ``_elementwise.py`` - generated from the rule table (``python -m dualnum.kernels.generate``)
"""
from __future__ import annotations

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _scalar_or_flat(x, dtype, shape):
    """A kernel operand: a typed scalar for 0-d input, a flat view for a full array, or
    None when the array does not fit the fused path."""
    if type(x) is np.ndarray:
        if x.ndim == 0:
            return x.astype(dtype).item() if x.dtype.kind == "b" else dtype.type(x)
        if x.shape != shape or not x.flags.c_contiguous:
            return None
        if x.dtype.kind == "b":
            return x.reshape(-1)
        return x.astype(dtype, copy=False).reshape(-1)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, float, np.integer, np.floating)):
        return dtype.type(x)
    return None


def _make_fused(rule, fuse_primal, variants):
    names = rule.argnames
    primal = rule.primal

    def fused(primals, tangents):
        shape = None
        for p in primals:
            if type(p) is np.ndarray and p.ndim:
                if shape is None:
                    shape = p.shape
                elif p.shape != shape:
                    return None  # broadcasting: the NumPy path handles it
        if shape is None:
            shape = ()
        mask = "".join(n for n, t in zip(names, tangents) if t is not None)
        kern = variants.get(mask)
        if kern is None:
            return None
        if fuse_primal:
            dtype = np.result_type(*primals)
            if dtype not in _FLOATS:
                return None
            y = np.empty(shape, dtype)
        else:
            y = np.asarray(primal(*primals))
            dtype = y.dtype
            if dtype not in _FLOATS or y.shape != shape:
                return None
        ops = []
        for p in primals:
            o = _scalar_or_flat(p, dtype, shape)
            if o is None:
                return None
            ops.append(o)
        ts = []
        for t, p in zip(tangents, primals):
            if t is None:
                continue
            if type(t) is not np.ndarray or t.shape != np.shape(p):
                return None  # nested duals and anything unusual take the NumPy path
            o = _scalar_or_flat(t, dtype, t.shape) if t.ndim else dtype.type(t)
            if o is None:
                return None
            ts.append(o)
        ty = np.empty(shape, dtype)
        n = ty.size
        kern(n, *ops, *ts, y.reshape(-1), ty.reshape(-1))
        return y, ty

    return fused


def install():
    """Attach the generated kernels to their rules."""
    from ..core.rules import by_name
    from ._elementwise import PLANS

    for name, (fuse_primal, variants) in PLANS.items():
        rule = by_name(name)
        rule.fused = _make_fused(rule, fuse_primal, variants)
        rule.kernel = variants
