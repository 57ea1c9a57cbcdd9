"""Reductions and scans. Axes are turned into negative axes (``trailing_axes``) so the
same call reduces a tangent that carries batch axes in front.

Conventions: ``max``/``min`` with ties give each tied element an equal share of the
derivative (JAX's reduce_max rule); ``prod`` and ``cumprod`` are exact at zeros.
"""
from __future__ import annotations

import numpy as np

from ..core.rules import defjvp, lead, trailing_axes

# Each domain is a strategy builder: it receives dualnum.testing.strategies as ``s`` and
# returns a strategy of (args, kwargs); the testing kit turns float arrays into Duals.
_REDUCE = lambda s: s.reduction_call()  # noqa: E731


def _sum_primal(a, axis=None, dtype=None, keepdims=False, initial=np._NoValue):
    _no_dtype("sum", dtype)
    kw = {} if initial is np._NoValue else {"initial": initial}
    return np.sum(a, axis=axis, keepdims=keepdims, **kw)


def _no_dtype(name, dtype):
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"{name}(dtype={dtype}) would drop the tangent of a Dual")


def _sum_jvp(g, y, a, axis=None, dtype=None, keepdims=False, initial=None):
    return np.sum(g, axis=trailing_axes(axis, np.ndim(a)), keepdims=keepdims)


def _mean_primal(a, axis=None, dtype=None, keepdims=False):
    _no_dtype("mean", dtype)
    return np.mean(a, axis=axis, keepdims=keepdims)


def _mean_jvp(g, y, a, axis=None, dtype=None, keepdims=False):
    return np.mean(g, axis=trailing_axes(axis, np.ndim(a)), keepdims=keepdims)


defjvp(np.sum, _sum_jvp, kind="reduction", domain=_REDUCE, primal=_sum_primal,
       text="ẏ = sum(ẋ)")
defjvp(np.mean, _mean_jvp, kind="reduction", domain=_REDUCE, primal=_mean_primal,
       text="ẏ = mean(ẋ)")


def _moved(x, axes, nd):
    """Move the reduced (negative) axes of x to the end and merge them into one."""
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    keep = [i for i in range(-nd, 0) if i not in axes]
    xl = x.ndim - nd
    perm = list(range(xl)) + [xl + nd + i for i in keep] + [xl + nd + i for i in axes]
    xt = np.transpose(x, perm)
    return xt.reshape(xt.shape[: xl + len(keep)] + (-1,))


def _restore(t, y_shape_keep, a_shape, axes, keepdims, nb_shape):
    """Shape a reduced tangent like the output."""
    if keepdims:
        shape = tuple(1 if i - len(a_shape) in axes else n for i, n in enumerate(a_shape))
        return t.reshape(tuple(nb_shape) + shape)
    return t


def _chooser_jvp(g, y, a, axis=None, keepdims=False, **_):
    # Ties share the derivative equally: mean of the tangent over the arg-extrema.
    nd = np.ndim(a)
    ax = trailing_axes(axis, nd)
    yk = y if keepdims else np.expand_dims(y, ax)
    mask = a == yk
    count = np.sum(mask, axis=ax, keepdims=keepdims)
    return np.sum(np.where(mask, g, 0), axis=ax, keepdims=keepdims) / count


def _chooser_primal(fn):
    def primal(a, axis=None, keepdims=False, **kw):
        if kw.get("out") is not None or "where" in kw:
            raise TypeError(f"{fn.__name__}: out= and where= are not supported with Duals")
        if "initial" in kw:
            raise TypeError(f"{fn.__name__}: initial= is not supported with Duals")
        return fn(a, axis=axis, keepdims=keepdims)

    return primal


_TIES = "ties share the derivative equally (JAX's reduce_max rule)"
for _f, _alias in ((np.max, np.amax), (np.min, np.amin)):
    defjvp(_f, _chooser_jvp, kind="reduction", primal=_chooser_primal(_f),
           domain=lambda s: s.reduction_call(distinct=True), note=_TIES, aliases=(_alias,),
           text="ẏ = mean of ẋ over the arg-extrema")


def _prod_others(x, axes, nd):
    """prod over the reduced axes of every element but one, exact when x has zeros:
    exclusive cumulative products from the left and from the right."""
    xm = _moved(x, axes, nd)
    ones = np.ones_like(xm[..., :1])
    left = np.concatenate([ones, np.cumprod(xm[..., :-1], axis=-1)], axis=-1)
    right = np.flip(np.cumprod(np.flip(xm[..., 1:], -1), axis=-1), -1)
    right = np.concatenate([right, ones], axis=-1)
    return left * right


def _prod_jvp(g, y, a, axis=None, dtype=None, keepdims=False):
    nd = np.ndim(a)
    if nd == 0:
        return g
    ax = trailing_axes(axis, nd)
    ax = (ax,) if isinstance(ax, int) else ax
    others = _prod_others(a, ax, nd)
    t = np.sum(others * _moved(g, ax, nd), axis=-1)
    return _restore(t, None, np.shape(a), ax, keepdims, lead(g, a))


def _prod_primal(a, axis=None, dtype=None, keepdims=False):
    _no_dtype("prod", dtype)
    return np.prod(a, axis=axis, keepdims=keepdims)


defjvp(np.prod, _prod_jvp, kind="reduction", domain=lambda s: s.reduction_call(small=True),
       primal=_prod_primal, note="exact at zeros (products of the other elements)",
       text="ẏ = Σ_i ẋ_i Π_{j≠i} x_j")


def _var_jvp(g, y, a, axis=None, dtype=None, ddof=0, keepdims=False):
    nd = np.ndim(a)
    ax = trailing_axes(axis, nd)
    n = np.size(a) // max(np.size(y), 1) if np.size(a) else 0
    centred = a - np.mean(a, axis=ax, keepdims=True)
    return np.sum(centred * g, axis=ax, keepdims=keepdims) * (2.0 / (n - ddof))


def _std_jvp(g, y, a, axis=None, dtype=None, ddof=0, keepdims=False):
    return std_from_var(_var_jvp(g, y, a, axis, dtype, ddof, keepdims), y)


def std_from_var(var_dot, y):
    """ẏ = vaṙ / (2 y), and 0 where y == 0 (PyTorch): there std is identically 0 along
    a length-1 axis, and not differentiable on a constant vector. y is replaced by 1
    before dividing so that no inf or nan reaches the derivatives of this rule."""
    zero = y == 0
    return np.where(zero, 0.0, var_dot / (2 * np.where(zero, 1.0, y)))


def _var_primal(fn):
    def primal(a, axis=None, dtype=None, ddof=0, keepdims=False):
        _no_dtype(fn.__name__, dtype)
        return fn(a, axis=axis, ddof=ddof, keepdims=keepdims)

    return primal


defjvp(np.var, _var_jvp, kind="reduction", primal=_var_primal(np.var),
       domain=lambda s: s.reduction_call(ddof=True), text="ẏ = 2/(N-ddof) Σ (x - x̄) ẋ")
defjvp(np.std, _std_jvp, kind="reduction", primal=_var_primal(np.std),
       domain=lambda s: s.reduction_call(ddof=True),
       note="0 where std is 0 (PyTorch; JAX gives nan): a length-1 axis or a constant vector",
       text="ẏ = var'(ẋ) / (2 y)")


def _scan_axis(g, a, axis):
    if axis is None:
        return g.reshape(lead(g, a) + (-1,)), -1
    return g, trailing_axes(axis, np.ndim(a))


def _cumsum_jvp(g, y, a, axis=None, dtype=None):
    g, ax = _scan_axis(g, a, axis)
    return np.cumsum(g, axis=ax)


def _cumprod_jvp(g, y, a, axis=None, dtype=None):
    g, ax = _scan_axis(g, a, axis)
    x = np.reshape(a, (-1,)) if axis is None else a
    n = np.shape(x)[ax] if np.ndim(x) else 1
    xa = x.primal if hasattr(x, "primal") else np.asarray(x)
    if n > 64 and np.all(np.abs(xa) >= np.sqrt(np.finfo(xa.dtype).tiny)):
        # y_i Σ_{j<=i} ẋ_j / x_j: one vectorised pass, fine while 1/x cannot overflow
        return y * np.cumsum(g / x, axis=ax)
    # Exact everywhere (zeros included): ẏ_i = x_i ẏ_{i-1} + y_{i-1} ẋ_i, a scan along
    # the axis with no division.
    if n == 0:
        return g  # an empty axis: the tangent is empty too
    xm, ym, gm = np.moveaxis(x, ax, 0), np.moveaxis(y, ax, 0), np.moveaxis(g, ax, 0)
    d = gm[0]
    out = [d]
    for i in range(1, n):
        d = d * xm[i] + ym[i - 1] * gm[i]
        out.append(d)
    return np.moveaxis(np.stack(out), 0, ax)


def _scan_primal(fn):
    def primal(a, axis=None, dtype=None):
        _no_dtype(fn.__name__, dtype)
        return fn(a, axis=axis)

    return primal


defjvp(np.cumsum, _cumsum_jvp, kind="reduction", primal=_scan_primal(np.cumsum),
       domain=lambda s: s.scan_call(), text="ẏ = cumsum(ẋ)")
defjvp(np.cumprod, _cumprod_jvp, kind="reduction", primal=_scan_primal(np.cumprod),
       domain=lambda s: s.scan_call(small=True), note="exact at zeros",
       text="ẏ_i = Σ_{j≤i} ẋ_j Π_{k≤i,k≠j} x_k")
