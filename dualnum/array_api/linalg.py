"""The array API standard's ``linalg`` extension on Duals: each function calls
``numpy.linalg`` (or composes NumPy functions) through the rule table. A function whose
NumPy counterpart has no rule raises the table's TypeError naming it."""
from __future__ import annotations

import numpy as np

from ..core.dual import Dual
from . import _in, _mix, _out, _p, matmul, matrix_transpose, tensordot, vecdot  # noqa: F401
from . import astype, concat, stack

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer",
           "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace",
           "vecdot", "vector_norm"]


def cholesky(x, /, *, upper=False):
    lo = _out(np.linalg.cholesky(_in(x)))
    return matrix_transpose(lo) if upper else lo


def cross(x1, x2, /, *, axis=-1):
    x1, x2 = _mix(_in(x1), _in(x2))
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(f"cross: the axis {axis} must have size 3 in both, got shapes "
                         f"{x1.shape} and {x2.shape}")
    a = [np.take(x1, i, axis=axis) for i in range(3)]
    b = [np.take(x2, i, axis=axis) for i in range(3)]
    c = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return _out(np.stack(c, axis=axis))


def det(x, /):
    return _out(np.linalg.det(_in(x)))


def diagonal(x, /, *, offset=0):
    return _out(np.diagonal(_in(x), offset, -2, -1))


def eigh(x, /):
    return _out(np.linalg.eigh(_in(x)))


def eigvalsh(x, /):
    return eigh(x)[0]


def inv(x, /):
    return _out(np.linalg.inv(_in(x)))


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    return _out(np.linalg.norm(_in(x), ord=ord, axis=(-2, -1), keepdims=keepdims))


def matrix_power(x, n, /):
    x = _in(x)
    if n < 0:
        x, n = inv(x), -n
    if n == 0:
        eye = np.broadcast_to(np.eye(x.shape[-1], dtype=_p(x).dtype), x.shape)
        return _out(np.array(eye))
    result = None
    base = x
    while n:  # square-and-multiply: log2(n) products
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def matrix_rank(x, /, *, rtol=None):
    return np.asarray(np.linalg.matrix_rank(_p(_in(x)), rtol=_p(rtol)))


def outer(x1, x2, /):
    return _out(np.outer(*_mix(_in(x1), _in(x2))))


def pinv(x, /, *, rtol=None):
    x = _in(x)
    # rtol only decides which singular values count (piecewise constant): its value
    return _out(np.linalg.pinv(x) if rtol is None else np.linalg.pinv(x, rtol=_p(rtol)))


def qr(x, /, *, mode="reduced"):
    return _out(np.linalg.qr(_in(x), mode=mode))


def slogdet(x, /):
    return _out(np.linalg.slogdet(_in(x)))


def solve(x1, x2, /):
    x1, x2 = _mix(_in(x1), _in(x2))
    if np.ndim(x2) == 1:  # the standard: a vector right-hand side is a column
        return _out(np.linalg.solve(x1, x2[..., None])[..., 0])
    return _out(np.linalg.solve(x1, x2))


def svd(x, /, *, full_matrices=True):
    return _out(np.linalg.svd(_in(x), full_matrices=full_matrices))


def svdvals(x, /):
    return _out(np.linalg.svd(_in(x), compute_uv=False))


def trace(x, /, *, offset=0, dtype=None):
    x = _in(x)
    if dtype is not None:
        x = astype(x, dtype)
    return _out(np.trace(x, offset, -2, -1))


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    """The norm over ``axis`` (an int, a tuple, or None for all), by ``np.linalg.norm``
    over one axis after moving the reduced axes last and merging them."""
    x = _in(x)
    nd = x.ndim
    axes = tuple(range(nd)) if axis is None else (axis,) if isinstance(axis, int) \
        else tuple(axis)
    axes = tuple(a % nd for a in axes) if nd else ()
    rest = [a for a in range(nd) if a not in axes]
    moved = np.transpose(x, rest + list(axes)) if nd else x
    flat = np.reshape(moved, tuple(x.shape[a] for a in rest) + (-1,))
    r = np.linalg.norm(flat, ord=ord, axis=-1)
    if keepdims:
        r = np.reshape(r, tuple(1 if a in axes else x.shape[a] for a in range(nd)))
    return _out(r)


del concat, stack, Dual
