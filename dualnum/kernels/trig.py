"""sin and cos with their tangents in one pass: one range reduction gives both functions.

NumPy's path for ``sin`` is three passes (the value, ``cos(x)`` for the partial, the
product with the tangent); numba's own ``math.sin`` is a scalar libm call, which LLVM
cannot vectorize. Here sin and cos are arithmetic only, so the loop vectorizes:

* range reduction ``x = n·π/2 + r``, ``|r| <= π/4``, by Cody and Waite: ``π/2`` is split
  into parts of 33 bits, so ``n·part`` is exact while ``|n| <= 2^20``; that gives the
  accurate range ``|x| <= LIMIT``. float64 keeps ``r`` as a double-double (``r0 + r1``,
  four parts and exact two-sums, as fdlibm's ``__ieee754_rem_pio2`` does with branches),
  so an ``x`` next to a multiple of ``π/2`` keeps its digits. float32 is computed in
  float64: two parts and a plain ``r`` are more than float32 needs.
* fdlibm's minimax polynomials on ``[-π/4, π/4]`` (``__kernel_sin``, ``__kernel_cos``,
  which take the tail ``r1``); float32 uses Taylor polynomials of degree 9 and 10,
  whose truncation error on ``[-π/4, π/4]`` is far below a float32 ulp.
* the quadrant ``n mod 4`` picks and signs the two results by selects, not branches.

Elements outside the accurate range (and inf, NaN) are counted by the kernel and then
recomputed with ``np.sin``/``np.cos``, so they are exactly NumPy's.

``sin(primals, tangents, kwargs, k)`` and ``cos(...)`` are attached to their rules by
:func:`dualnum.kernels.install`; they return None (the NumPy path) unless ``x`` is a
C-contiguous float array of at least FUSE_MIN elements carrying the tangent, and the
tangent an array of ``x``'s shape or ``(k,) + x.shape``.
"""
from __future__ import annotations

import functools

import numpy as np
from numba import prange, types
from numba.extending import overload

from .._jit import kernel
from . import FUSE_MIN

#: |x| up to which the reduction is accurate: n = rint(x·2/π) stays within 2^20, so
#: n times a 33-bit part of π/2 is exact. An integer, so float32 and float64 compare
#: with it alike (the kernel and the fix-up pass must pick the same elements).
LIMIT = 1_600_000.0

_INV_PIO2 = 6.36619772367581382433e-01
_ROUND = 6755399441055744.0  # 1.5·2^52: adding and subtracting it rounds to an integer
# π/2 = _P1 + _P2 + _P3 + _P4: three 33-bit parts and a tail (fdlibm's pio2_1, pio2_2,
# pio2_3, pio2_3t); _P2T = π/2 - _P1 - _P2 rounded, enough for float32 data.
_P1 = 1.57079632673412561417e+00
_P2 = 6.07710050630396597660e-11
_P3 = 2.02226624871116645580e-21
_P4 = 8.47842766036889956997e-32
_P1T = 6.07710050650619224932e-11
# fdlibm's __kernel_sin and __kernel_cos (FreeBSD msun k_sin.c, k_cos.c)
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_TINY = 2.0 ** -27  # below it sin(x) rounds to x (and keeps the sign of -0.0)


def _inlined(fn):
    """Compile calls of the Python function ``fn`` inside kernels by inlining its body
    (numba IR), not as a call: LLVM's inliner gives up on a function this size, and a
    call in the loop stops it from vectorizing."""
    @functools.wraps(fn)  # the typer takes fn's signature, as numba requires
    def typer(*args):
        return fn

    overload(fn, inline="always")(typer)
    return fn


@_inlined
def _quadrant(s, c, n):
    """(sin x, cos x) from sin r, cos r and the quadrant n of x = n·π/2 + r."""
    q = np.int64(n) & 3
    swap = (q & 1) == 1
    sv = c if swap else s
    cv = s if swap else c
    sv = -sv if (q & 2) == 2 else sv
    cv = -cv if ((q + 1) & 2) == 2 else cv
    return sv, cv


@_inlined
def _sincos64(x):
    """(sin x, cos x, 1) for |x| <= LIMIT, else (garbage, garbage, 0)."""
    ok = abs(x) <= LIMIT  # False for NaN
    x = x if ok else 0.0
    n = (x * _INV_PIO2 + _ROUND) - _ROUND
    a = x - n * _P1  # exact (Sterbenz), as n·_P1 is
    # r0 + r1 = a - n·_P2 - n·_P3 - n·_P4, by exact two-sums: when x is close to a
    # multiple of π/2 the first differences cancel and the later parts carry the digits.
    b = -(n * _P2)
    s = a + b
    bv = s - a
    e = (a - (s - bv)) + (b - bv)
    c = -(n * _P3)
    s2 = s + c
    cv = s2 - s
    e2 = (s - (s2 - cv)) + (c - cv)
    t = (e + e2) - n * _P4
    r0 = s2 + t
    tv = r0 - s2
    r1 = (s2 - (r0 - tv)) + (t - tv)
    z = r0 * r0
    v = z * r0
    p = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    sr = r0 - ((z * (0.5 * r1 - v * p) - r1) - v * _S1)
    sr = x if abs(x) < _TINY else sr
    w = z * z
    p = z * (_C1 + z * (_C2 + z * _C3)) + w * w * (_C4 + z * (_C5 + z * _C6))
    hz = 0.5 * z
    w = 1.0 - hz
    cr = w + (((1.0 - w) - hz) + (z * p - r0 * r1))
    sv, cv = _quadrant(sr, cr, n)
    return sv, cv, np.int64(ok)


@_inlined
def _sincos32(x):
    """(sin x, cos x, 1) of a float32, computed in float64, for |x| <= LIMIT."""
    x = np.float64(x)
    ok = abs(x) <= LIMIT
    x = x if ok else 0.0
    n = (x * _INV_PIO2 + _ROUND) - _ROUND
    r = (x - n * _P1) - n * _P1T
    z = r * r
    sr = r + r * z * (-1.0 / 6 + z * (1.0 / 120 + z * (-1.0 / 5040 + z * (1.0 / 362880))))
    sr = x if x == 0 else sr
    cr = 1.0 + z * (-0.5 + z * (1.0 / 24 + z * (-1.0 / 720 + z * (1.0 / 40320
                                                                 + z * (-1.0 / 3628800)))))
    sv, cv = _quadrant(sr, cr, n)
    return np.float32(sv), np.float32(cv), np.int64(ok)


def sincos_k(x):
    """(sin x, cos x, 1) of one float inside a kernel, or (…, …, 0) where x is outside
    the accurate range or not finite (a stub: numba compiles the overload)."""
    return np.sin(x), np.cos(x), int(abs(x) <= LIMIT)


@overload(sincos_k, inline="always")
def _sincos_k(x):
    return _sincos32 if x == types.float32 else _sincos64

#: Elements per block: a block's derivative factors stay in L1 while each of the K
#: tangents is multiplied by them.
_BLOCK = 1024


@kernel
def _sincos_tangents(x, t, k, want_cos, y, ty):
    """y = sin x (cos x if want_cos), ty[j] = y'·t[j] for the k tangents; returns how
    many elements were outside the accurate range (their values are garbage)."""
    n = x.size
    nblocks = (n + _BLOCK - 1) // _BLOCK
    bad = 0
    for b in prange(nblocks):
        lo = b * _BLOCK
        hi = min(lo + _BLOCK, n)
        # views indexed from 0, so no index can be negative and the loops vectorize
        xb = x[lo:hi]
        yb = y[lo:hi]
        d = np.empty(hi - lo, y.dtype)
        nbad = 0
        for i in range(hi - lo):
            s, c, ok = sincos_k(xb[i])
            nbad += 1 - ok
            if want_cos:
                yb[i] = c
                d[i] = -s
            else:
                yb[i] = s
                d[i] = c
        for j in range(k):
            tb = t[j * n + lo:j * n + hi]
            tyb = ty[j * n + lo:j * n + hi]
            for i in range(hi - lo):
                tyb[i] = d[i] * tb[i]
        bad += nbad
    return bad


def _sincos(primals, tangents, k, want_cos):
    if len(primals) != 1:
        return None
    x = primals[0]
    tx = tangents[0]
    if type(x) is not np.ndarray or type(tx) is not np.ndarray:
        return None  # scalars, nested duals
    dtype = x.dtype
    if dtype is not _F64 and dtype is not _F32:
        return None
    if x.size < FUSE_MIN or not x.flags.c_contiguous:
        return None
    shape = x.shape
    if tx.shape == shape:
        kk = 1
    elif k is not None and tx.shape == (k,) + shape:
        kk = k
    else:
        return None
    if not tx.flags.c_contiguous or tx.dtype is not dtype:
        tx = np.ascontiguousarray(tx, dtype)
    y = np.empty(shape, dtype)
    ty = np.empty(tx.shape, dtype)
    xf = x.reshape(-1)
    bad = _sincos_tangents(xf.size, xf, tx.reshape(-1), kk, want_cos, y.reshape(-1),
                           ty.reshape(-1))
    if bad:
        # Out of range, inf or NaN: NumPy's own values, so both paths agree exactly.
        idx = np.flatnonzero(~(np.abs(xf) <= LIMIT))
        xs = xf[idx]
        yv, dv = (np.cos(xs), -np.sin(xs)) if want_cos else (np.sin(xs), np.cos(xs))
        y.reshape(-1)[idx] = yv
        tyf = ty.reshape(kk, -1)
        tyf[:, idx] = dv * tx.reshape(kk, -1)[:, idx]
    return y, ty


def sin(primals, tangents, kwargs=None, k=None):
    """sin's kernel: ``(sin x, cos x · ẋ)`` in one pass, or None for the NumPy path.

    >>> import numpy as np
    >>> y, t = sin((np.full(256, np.pi / 2),), (np.full(256, 2.0),))
    >>> float(y[0]), abs(float(t[0])) < 1e-15
    (1.0, True)
    """
    return _sincos(primals, tangents, k, False)


def cos(primals, tangents, kwargs=None, k=None):
    """cos's kernel: ``(cos x, -sin x · ẋ)`` in one pass, or None for the NumPy path."""
    return _sincos(primals, tangents, k, True)


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
