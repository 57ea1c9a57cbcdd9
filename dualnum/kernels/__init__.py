"""numba kernels behind a thin Python API, attached to rules in one way.

A rule's ``fused`` hook is its kernel: ``fused(primals, tangents, kwargs, k)`` returns the
value and the tangent (``None`` for a symbolic zero) computed together, or ``None`` when
the kernel does not take these operands (broadcast shapes, strided views, nested duals,
structured tangents): the rule's NumPy path runs then, and gives the same answer. ``k``
is the number of batched tangent directions (None when unbatched). :func:`install`
attaches every kernel; the ops modules never call a kernel themselves.

This package is a leaf of the import graph: it imports nothing of dualnum above
``dualnum.core`` (and the jit options in ``dualnum._jit``).

* ``_elementwise.py`` - generated from the rule table (``python tools/generate_kernels.py``)
* ``conv.py``, ``pool.py`` - conv2d and conv2d_relu (one unfolding of x for value and
  tangents, the ReLU applied where the output is written), pooling
* ``winograd.py`` - the tile transforms of Winograd's F(2×2, 3×3) and F(4×4, 3×3) for
  conv.py, on planes split into phases so that their loops vectorize
* ``matmul.py`` - large 2-D products: value and tangents as GEMMs side by side
* ``losses.py`` - softmax cross-entropy: value and tangents in one pass over the logits
* ``power.py`` - power with a scalar exponent (the tangent from the value, one pass)
* ``trig.py`` - sin and cos: value and tangents from one range reduction, vectorized
* ``sampling.py``, ``update.py`` - forward-gradient directions and parameter updates
"""
from __future__ import annotations

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))  # singletons: compared with `is`


#: Below this many elements NumPy's own ufunc calls cost less than entering a kernel.
FUSE_MIN = 256


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
    primal = rule.primal
    ndarray = np.ndarray
    f32, f64 = _FLOATS
    # Kernels by which arguments carry a tangent, e.g. (True, False) -> multiply__10.
    by_mask = variants

    def fused(primals, tangents, kwargs=None, k=None):
        # Decided with a handful of type and shape tests, since this runs on every
        # operator call: all array operands share one shape, everything else is a scalar.
        shape = None
        dtype = None
        mixed = False
        for p in primals:
            if type(p) is ndarray and p.ndim:
                if shape is None:
                    if p.size < FUSE_MIN:
                        return None
                    shape = p.shape
                    dtype = p.dtype
                elif p.shape != shape:
                    return None  # broadcasting: the NumPy path handles it
                elif p.dtype is not dtype:
                    mixed = True
            elif type(p) is not float:
                mixed = True
        if shape is None:
            return None  # scalars only: below FUSE_MIN
        kern = by_mask.get(tuple([t is not None for t in tangents]))
        if kern is None:
            return None
        if fuse_primal:
            if mixed:
                dtype = np.result_type(*primals)
            if dtype is not f64 and dtype is not f32:
                return None
            y = np.empty(shape, dtype)
        else:
            y = primal(*primals)
            if type(y) is not ndarray:
                y = np.asarray(y)
            dtype = y.dtype
            if (dtype is not f64 and dtype is not f32) or y.shape != shape:
                return None
        ops = []
        for p in primals:
            if type(p) is ndarray and p.ndim:
                if p.dtype is not dtype and p.dtype.kind != "b":
                    p = p.astype(dtype)
                ops.append(p)
            else:
                o = _scalar_or_flat(p, dtype, shape)
                if o is None:
                    return None
                ops.append(o)
        for t in tangents:
            if t is None:
                continue
            if type(t) is not ndarray:
                return None  # nested duals take the NumPy path
            if t.ndim:
                if t.shape != shape:
                    return None
                if t.dtype is not dtype:
                    t = t.astype(dtype)
                ops.append(t)
            else:
                ops.append(dtype.type(t))
        ty = np.empty(shape, dtype)
        kern(ty.size, *ops, y, ty)
        return y, ty

    return fused


def install():
    """Attach every kernel to its rule (the rules are registered by then)."""
    from ..core.rules import by_name
    from . import conv, losses, matmul, pool, power, trig
    from ._elementwise import PLANS

    for name, (fuse_primal, variants) in PLANS.items():
        rule = by_name(name)
        rule.fused = _make_fused(rule, fuse_primal, variants)
        rule.fuse_min = FUSE_MIN
        rule.kernel = variants
    for name, fn in (("conv2d", conv.conv2d), ("conv2d_relu", conv.conv2d_relu),
                     ("max_pool2d", pool.max_pool2d),
                     ("avg_pool2d", pool.avg_pool2d), ("power", power.power),
                     ("matmul", matmul.matmul), ("linear", matmul.linear),
                     ("cross_entropy", losses.cross_entropy), ("sin", trig.sin),
                     ("cos", trig.cos)):
        rule = by_name(name)
        rule.fused = fn
        rule.fuse_min = FUSE_MIN if rule.kind == "elementwise" else 0
        rule.kernel = {"value + tangent": fn}
