"""erf and erfc inside numba kernels, and as fast value functions on arrays.

NumPy has no erf, and SciPy is not a dependency, so dualnum keeps its own:

* float64: W. J. Cody, "Rational Chebyshev approximations for the error function",
  Math. Comp. 23 (1969), as in SPECFUN's CALERF: three rational approximations, accurate
  to a few ulp (branches per element, so the loop runs scalar).
* float32: ``erf`` is one rational function ``x P(x²) / Q(x²)`` on ``[-4, 4]`` (the
  approximation Eigen and XLA use for float32), evaluated in float64 without branches, so
  the loop vectorizes; its error is at most 1.6 float32 ulp. ``erfc`` is Cody's, in
  float64 with one ``exp`` instead of two, rounded once (``1 - erf`` would lose every
  digit of erfc's small values).

``erf_k``/``erfc_k`` are the scalar spellings the generated kernels call (numba picks
the variant by the argument's type); :func:`erf` and :func:`erfc` run them over arrays.
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange, types
from numba.extending import overload

from .._jit import jit, kernel

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_INV_SQRT_PI = 5.6418958354775628695e-1
_SMALL = 0.46875
# float32 erf: x P(x²) / Q(x²), x clamped to [-4, 4] (Eigen's generic_fast_erf_float)
_ALPHA = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
          -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
          -1.60960333262415e-02)
_BETA = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
         -7.37332916720468e-03, -1.42647390514189e-02)


@jit
def _erf_small(x):
    """erf(x) for |x| <= 0.46875 (Cody)."""
    z = x * x
    num = _A[4] * z
    den = z
    num = (num + _A[0]) * z
    den = (den + _B[0]) * z
    num = (num + _A[1]) * z
    den = (den + _B[1]) * z
    num = (num + _A[2]) * z
    den = (den + _B[2]) * z
    return x * (num + _A[3]) / (den + _B[3])


@jit
def _erfc_large(y):
    """erfc(y) for y > 0.46875 (Cody); y may be inf."""
    y = min(y, 40.0)  # erfc underflows to 0 from y ~ 27.3; keeps inf out of the sums
    # exp(-y*y) as exp(-s*s) * exp(-(y-s)(y+s)) with s = y rounded down to 1/16, so the
    # rounding error of y*y is not magnified (Cody).
    s = math.trunc(y * 16.0) / 16.0
    return math.exp(-s * s) * math.exp(-(y - s) * (y + s)) * _erfc_ratio(y)


@jit
def _erfc_ratio(y):
    """erfc(y) exp(y²) for 0.46875 < y <= 40 (Cody's rational approximations)."""
    if y <= 4.0:
        num = _C[8] * y
        den = y
        for i in range(7):
            num = (num + _C[i]) * y
            den = (den + _D[i]) * y
        r = (num + _C[7]) / (den + _D[7])
    else:
        z = 1.0 / (y * y)
        num = _P[5] * z
        den = z
        for i in range(4):
            num = (num + _P[i]) * z
            den = (den + _Q[i]) * z
        r = (_INV_SQRT_PI - z * (num + _P[4]) / (den + _Q[4])) / y
    return r


@jit
def erf64(x):
    y = abs(x)
    if y <= _SMALL:
        return _erf_small(x)
    if y > _SMALL:
        v = (0.5 - _erfc_large(y)) + 0.5
        return -v if x < 0 else v
    return x  # NaN


@jit
def erfc64(x):
    y = abs(x)
    if y <= _SMALL:
        return 1.0 - _erf_small(x)
    if y > _SMALL:
        r = _erfc_large(y)
        return 2.0 - r if x < 0 else r
    return x  # NaN


@jit
def erf32(x):
    x = min(max(np.float64(x), -4.0), 4.0)  # NaN passes through min/max as NaN
    z = x * x
    p = _ALPHA[0]
    for i in range(1, 7):
        p = p * z + _ALPHA[i]
    q = _BETA[0]
    for i in range(1, 5):
        q = q * z + _BETA[i]
    return np.float32(x * p / q)


def erf_k(x):
    """erf of one float32 or float64 inside a kernel (a stub: numba compiles the
    overload below)."""
    return math.erf(x)


def erfc_k(x):
    """erfc of one float32 or float64 inside a kernel (a stub, see erf_k)."""
    return math.erfc(x)


@jit
def erfc32(x):
    """erfc of a float32, computed in float64 with one exp: float32 needs no more."""
    x = np.float64(x)
    y = abs(x)
    if y <= _SMALL:
        return np.float32(1.0 - _erf_small(x))
    if y > _SMALL:
        yc = min(y, 40.0)
        r = math.exp(-yc * yc) * _erfc_ratio(yc)
        return np.float32(2.0 - r if x < 0 else r)
    return np.float32(x)  # NaN


def _by_dtype(stub, f32, f64):
    """Compile calls of ``stub`` inside kernels as ``f32`` for float32, else ``f64``."""
    @overload(stub)
    def impl(x):
        return (lambda x: f32(x)) if x == types.float32 else (lambda x: f64(x))


_by_dtype(erf_k, erf32, erf64)
_by_dtype(erfc_k, erfc32, erfc64)


@kernel
def _erf_values(x, y):
    for i in prange(y.size):
        y[i] = erf_k(x[i])


@kernel
def _erfc_values(x, y):
    for i in prange(y.size):
        y[i] = erfc_k(x[i])


def _values(kern, x):
    """``kern`` over a float32/float64 array of any shape (a copy if not contiguous);
    other dtypes go to float64 (ints) or float32 (float16)."""
    a = np.asarray(x)
    if a.dtype.kind != "f" or a.dtype.itemsize < 4:
        a = a.astype(np.result_type(a.dtype, np.float32) if a.dtype.kind == "f"
                     else np.float64)
    elif a.dtype.itemsize > 8:
        a = a.astype(np.float64)
    flat = np.ascontiguousarray(a).reshape(-1)
    out = np.empty_like(flat)
    kern(flat.size, flat, out)
    return out.reshape(a.shape)


def erf(x):
    """erf over an array, float32 stays float32, ints become float64.

    >>> import numpy as np
    >>> from dualnum.kernels.special import erf
    >>> erf(np.array([0.0, 0.5, -3.0]))
    array([ 0.        ,  0.52049988, -0.99997791])
    """
    return _values(_erf_values, x)


def erfc(x):
    """erfc over an array, without the cancellation of ``1 - erf(x)`` for large x.

    >>> import numpy as np
    >>> from dualnum.kernels.special import erfc
    >>> erfc(np.array([0.0, 10.0]))
    array([1.00000000e+00, 2.08848758e-45])
    """
    return _values(_erfc_values, x)
