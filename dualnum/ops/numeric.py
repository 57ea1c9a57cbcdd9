"""Numeric routines: products (kron, cross), covariance, polynomials, signals,
interpolation and integration.

All but ``interp`` and ``corrcoef`` are linear or bilinear in their differentiable
arguments, so their tangents are the op applied to the tangents; batch axes in front of
a tangent are lined up with the op's own axes explicitly where NumPy's function would
read them as data (kron, cross, cov) or cannot take them at all (convolve, polyval).
"""
from __future__ import annotations

import numpy as np

from ..core.rules import align, defjvp, lead, trailing_axes
from .matrix import _value

_NUMERIC = "numeric"


# ------------------------------------------------------------------ kron
def _kron_shapes(a, b):
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + tuple(np.shape(a))
    sb = (1,) * (nd - np.ndim(b)) + tuple(np.shape(b))
    return sa, sb


def _interleave(first, second):
    return tuple(n for pair in zip(first, second) for n in pair)


def _kron_jvp_a(g, y, a, b):
    """ẏ = kron(ȧ, b)"""
    sa, sb = _kron_shapes(a, b)
    gl = lead(g, a)
    ones = (1,) * len(sa)
    t = np.reshape(g, gl + _interleave(sa, ones)) * np.reshape(b, _interleave(ones, sb))
    return np.reshape(t, gl + np.shape(y))


def _kron_jvp_b(g, y, a, b):
    """ẏ = kron(a, ḃ)"""
    sa, sb = _kron_shapes(a, b)
    gl = lead(g, b)
    ones = (1,) * len(sa)
    t = np.reshape(a, _interleave(sa, ones)) * np.reshape(g, gl + _interleave(ones, sb))
    return np.reshape(t, gl + np.shape(y))


defjvp(np.kron, _kron_jvp_a, _kron_jvp_b, kind=_NUMERIC, argnames=("a", "b"),
       domain=lambda s: s.kron_call())


# ------------------------------------------------------------------ cross
def _cross_axes(a, b, y, axisa, axisb, axisc, axis):
    if axis is not None:
        axisa = axisb = axisc = axis
    ta, tb = trailing_axes(axisa, np.ndim(a)), trailing_axes(axisb, np.ndim(b))
    vector_out = np.ndim(y) > 0 and max(np.shape(a)[ta], np.shape(b)[tb]) == 3
    tc = trailing_axes(axisc, np.ndim(y)) if vector_out else -1
    return ta, tb, tc


def _cross_term(g, a, b, axes, first):
    """cross(ȧ, b) (first=True) or cross(a, ḃ), ``g`` the tangent with its batch axes
    kept in front and lined up with the other operand's axes."""
    ta, tb, tc = axes
    own, other = (a, b) if first else (b, a)
    ax_own, ax_other = (ta, tb) if first else (tb, ta)
    gm = np.moveaxis(g, ax_own, -1)
    om = np.moveaxis(other, ax_other, -1)
    gm = align(gm, np.ndim(own), max(np.ndim(own), np.ndim(other)))
    args = (gm, om) if first else (om, gm)
    return np.cross(*args, axisa=-1, axisb=-1, axisc=tc)


def _cross_jvp_a(g, y, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """ẏ = ȧ × b"""
    return _cross_term(g, a, b, _cross_axes(a, b, y, axisa, axisb, axisc, axis), True)


def _cross_jvp_b(g, y, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """ẏ = a × ḃ"""
    return _cross_term(g, a, b, _cross_axes(a, b, y, axisa, axisb, axisc, axis), False)


defjvp(np.cross, _cross_jvp_a, _cross_jvp_b, kind=_NUMERIC, argnames=("a", "b"),
       domain=lambda s: s.cross_call())


def _linalg_cross_jvp_a(g, y, x1, x2, *, axis=-1):
    """ẏ = ẋ₁ × x₂"""
    return _cross_jvp_a(g, y, x1, x2, axis=axis)


def _linalg_cross_jvp_b(g, y, x1, x2, *, axis=-1):
    """ẏ = x₁ × ẋ₂"""
    return _cross_jvp_b(g, y, x1, x2, axis=axis)


if hasattr(np.linalg, "cross"):  # NumPy >= 2
    defjvp(np.linalg.cross, _linalg_cross_jvp_a, _linalg_cross_jvp_b, kind=_NUMERIC,
           domain=lambda s: s.cross_call(linalg=True))


# ------------------------------------------------------------------ cov, corrcoef
def _cov_weights(n, ddof, bias, fweights, aweights):
    """NumPy's weights and normaliser for cov (constants)."""
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = np.asarray(fweights, dtype=float)
    if aweights is not None:
        aw = np.asarray(aweights, dtype=float)
        w = aw if w is None else w * aw
    if w is None:
        fact = n - ddof
    else:
        w_sum = np.sum(w)
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * np.sum(w * np.asarray(aweights, dtype=float)) / w_sum
    return w, max(fact, 0.0)


def _cov_rows(t, src, rowvar, nb):
    """An argument of cov (or its tangent, with ``nb`` batch axes) as rows of
    variables, as np.cov arranges it."""
    if np.ndim(src) == 1:
        return np.expand_dims(t, -2)
    if np.ndim(src) == 0:
        return np.reshape(t, tuple(np.shape(t))[:nb] + (1, 1))
    return t if rowvar else np.swapaxes(t, -1, -2)


def _cov_rows_y(t, src, rowvar, nb):
    if np.ndim(src) <= 1:
        return np.reshape(t, tuple(np.shape(t))[:nb] + (1, -1))
    return t if rowvar or np.shape(src)[0] == 1 else np.swapaxes(t, -1, -2)


def _cov_parts(primals, tangents, kwargs):
    """X (variables in rows), Ẋ, weights and normaliser of a cov call."""
    m = primals[0]
    yv = primals[1] if len(primals) > 1 else None
    gm = tangents[0]
    gy = tangents[1] if len(tangents) > 1 else None
    rowvar = kwargs.get("rowvar", True)
    xs = [_cov_rows(m, m, rowvar, 0)]
    if yv is not None:
        xs.append(_cov_rows_y(yv, yv, rowvar, 0))
    x = xs[0] if len(xs) == 1 else np.concatenate(xs, axis=-2)
    gs = []
    nb = None
    for g, src, fn in ((gm, m, _cov_rows), (gy, yv, _cov_rows_y)):
        if src is None:
            continue
        if g is not None:
            nb = g.ndim - np.ndim(src)
            gs.append(fn(g, src, rowvar, nb))
        else:
            gs.append(None)
    gl = next(tuple(g.shape[:nb]) for g in gs if g is not None)
    dt = next(g.dtype for g in gs if g is not None)
    gs = [np.zeros(gl + np.shape(xr), dt) if g is None else g for g, xr in zip(gs, xs)]
    gx = gs[0] if len(gs) == 1 else np.concatenate(gs, axis=-2)
    w, fact = _cov_weights(np.shape(x)[-1], kwargs.get("ddof"), kwargs.get("bias", False),
                           kwargs.get("fweights"), kwargs.get("aweights"))
    return x, gx, w, fact, gl


def _centre(t, w):
    if w is None:
        return t - np.mean(t, axis=-1, keepdims=True)
    return t - np.sum(t * w, axis=-1, keepdims=True) / np.sum(w)


def _cov_dot(primals, tangents, kwargs):
    x, gx, w, fact, gl = _cov_parts(primals, tangents, kwargs)
    xc, gc = _centre(x, w), _centre(gx, w)
    xw, gw = (xc, gc) if w is None else (xc * w, gc * w)
    t = gc @ np.swapaxes(xw, -1, -2) + xc @ np.swapaxes(gw, -1, -2)
    return t / fact, gl


def _cov_tangent(out, primals, tangents, kwargs):
    """(Ẋc Xcᵀ + Xc Ẋcᵀ) / (N - ddof), Xc the centred rows (weights as np.cov)"""
    t, gl = _cov_dot(primals, tangents, kwargs)
    return np.reshape(t, gl + np.shape(out))


def _no_float_dtype(name, dtype):
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"{name}(dtype={dtype}) would drop the tangent of a Dual")


def _cov_primal(m, y=None, **kw):
    _no_float_dtype("cov", kw.get("dtype"))
    return np.cov(m, y, **kw)


_COV_OPTS = ("rowvar", "bias", "ddof", "fweights", "aweights")


def _cov_normalize(args, kwargs):
    kwargs = dict(kwargs)
    for name, val in zip(_COV_OPTS, args[2:]):
        kwargs[name] = val
    for name in ("fweights", "aweights"):
        if hasattr(kwargs.get(name), "primal"):
            raise TypeError(f"cov: {name} are treated as constants; pass {name}.primal")
    return tuple(args[:2]), kwargs


defjvp(np.cov, kind="statistics", primal=_cov_primal, tangent=_cov_tangent,
       normalize=_cov_normalize, domain=lambda s: s.cov_call(),
       note="weights are constants; fewer samples than ddof + 1: inf/nan, as NumPy's "
            "value")


def _corrcoef_tangent(out, primals, tangents, kwargs):
    """Ċ / (σᵢσⱼ) - R (ḋᵢ/dᵢ + ḋⱼ/dⱼ) / 2, d = diag(C) = σ²"""
    if np.ndim(out) == 0:
        return None  # one variable: R = 1
    x_args = {k: v for k, v in kwargs.items() if k == "rowvar"}
    c = np.cov(*primals, **x_args)
    dc, gl = _cov_dot(primals, tangents, x_args)
    d = np.diagonal(c)
    dd = np.diagonal(dc, axis1=-2, axis2=-1)
    sd = np.sqrt(d)
    rel = dd / d
    t = dc / (np.expand_dims(sd, -1) * np.expand_dims(sd, -2)) \
        - out * (np.expand_dims(rel, -1) + np.expand_dims(rel, -2)) / 2
    return np.reshape(t, gl + np.shape(out))


def _corrcoef_primal(x, y=None, rowvar=True, *, dtype=None):
    _no_float_dtype("corrcoef", dtype)
    return np.corrcoef(x, y, rowvar)


defjvp(np.corrcoef, kind="statistics", primal=_corrcoef_primal, tangent=_corrcoef_tangent,
       normalize=lambda args, kw: _cov_normalize(args, kw),
       domain=lambda s: s.corrcoef_call(),
       note="a variable with zero variance: nan, as NumPy's value")


# ------------------------------------------------------------------ polynomials
def _horner(coef, x, gl):
    """Σᵢ coefᵢ x^(n-1-i) for coefficients on the last axis of ``coef`` (which has
    batch axes ``gl`` in front), evaluated at every element of x."""
    c = np.reshape(coef, tuple(gl) + (1,) * np.ndim(x) + (np.shape(coef)[-1],))
    acc = c[..., 0]
    for i in range(1, np.shape(coef)[-1]):
        acc = acc * x + c[..., i]
    return acc


def _polyval_jvp_p(g, y, p, x):
    """ẏ = Σᵢ ṗᵢ x^(n-1-i)"""
    return _horner(g, x, lead(g, p)) * np.ones(np.shape(y), dtype=y.dtype)


def _polyval_jvp_x(g, y, p, x):
    """ẏ = p'(x) ẋ"""
    n = np.shape(p)[-1]
    if n < 2:
        return None
    dp = p[:-1] * np.arange(n - 1, 0, -1, dtype=y.dtype)
    return _horner(dp, x, ()) * g


def _polyval_primal(p, x):
    if np.ndim(p) != 1:
        raise TypeError(f"polyval: p must be 1-D coefficients, got shape {np.shape(p)}")
    return np.polyval(p, x)


defjvp(np.polyval, _polyval_jvp_p, _polyval_jvp_x, kind=_NUMERIC, argnames=("p", "x"),
       primal=_polyval_primal, domain=lambda s: s.polyval_call())


def _vander_jvp(g, y, x, N=None, increasing=False):
    """pⱼ x^(pⱼ-1) ẋ in column j, from the neighbouring column (exact at x = 0)"""
    n = np.shape(y)[-1]
    if n == 0:
        return None
    zero = np.zeros(np.shape(y)[:-1] + (1,), dtype=y.dtype)
    if increasing:
        powers = np.arange(n, dtype=y.dtype)
        prev = np.concatenate([zero, y[..., :-1]], axis=-1)
    else:
        powers = np.arange(n - 1, -1, -1, dtype=y.dtype)
        prev = np.concatenate([y[..., 1:], zero], axis=-1)
    return prev * powers * np.expand_dims(g, -1)


defjvp(np.vander, _vander_jvp, kind=_NUMERIC, argnames=("x", "N", "increasing"),
       domain=lambda s: s.vander_call())


# ------------------------------------------------------------------ signals
def _per_direction(fn, g, nd):
    """``fn`` on each of the batch directions of ``g`` (1-D signals with any batch
    axes in front), stacked back: np.convolve takes 1-D inputs only."""
    gl = tuple(g.shape[: g.ndim - nd])
    if not gl:
        return fn(g)
    flat = np.reshape(g, (-1,) + tuple(g.shape[len(gl):]))
    rows = [fn(flat[i]) for i in range(flat.shape[0])]
    out = np.stack(rows)
    return np.reshape(out, gl + tuple(out.shape[1:]))


def _signal_rule(fn, default_mode):
    def jvp_a(g, y, a, v, mode=default_mode):
        return _per_direction(lambda t: fn(t, v, mode=mode), g, 1)

    def jvp_v(g, y, a, v, mode=default_mode):
        return _per_direction(lambda t: fn(a, t, mode=mode), g, 1)

    name = fn.__name__
    jvp_a.__doc__ = f"ẏ = {name}(ȧ, v)"
    jvp_v.__doc__ = f"ẏ = {name}(a, v̇)"
    defjvp(fn, jvp_a, jvp_v, kind=_NUMERIC, argnames=("a", "v", "mode"),
           domain=lambda s: s.signal_call())


_signal_rule(np.convolve, "full")
_signal_rule(np.correlate, "valid")


# ------------------------------------------------------------------ interp
def _interp_setup(x, xp, fp_len, period):
    """The nodes and, per x, the upper node index i of its segment [xp[i-1], xp[i]]
    (JAX's choice: a node belongs to the segment on its right, the last node to the
    last segment), the shift that brings x into the nodes' period, the permutation of
    fp that numpy's periodic mode applies, and the below/above masks."""
    xv = _value(x)
    xpv = np.asarray(_value(xp), dtype=np.float64)
    order = None
    shift = 0.0
    if period is not None:
        period = abs(float(period))
        shift = np.floor(xv / period) * period
        xpm = xpv % period
        asort = np.argsort(xpm)
        xpv = np.concatenate([xpm[asort][-1:] - period, xpm[asort], xpm[asort][:1] + period])
        order = np.concatenate([asort[-1:], asort, asort[:1]])
    xq = xv - shift
    n = xpv.size
    i = np.clip(np.searchsorted(xpv, xq, side="right"), 1, max(n - 1, 1))
    below = xq < xpv[0]
    above = xq > xpv[-1]
    if period is not None:
        below = above = np.zeros(np.shape(xq), bool)
    return xpv, order, shift, i, below, above


def _interp_jvp_x(g, y, x, xp, fp, left=None, right=None, period=None):
    """(fp[i] - fp[i-1]) / (xp[i] - xp[i-1]) ẋ inside the nodes, 0 outside"""
    xpv, order, _, i, below, above = _interp_setup(x, xp, np.shape(fp)[-1], period)
    if xpv.size < 2:
        return None
    f = fp if order is None else fp[order]
    slope = (f[i] - f[i - 1]) / (xpv[i] - xpv[i - 1])
    return np.where(below | above, 0.0, slope) * g


def _interp_jvp_fp(g, y, x, xp, fp, left=None, right=None, period=None):
    """(1 - t) ḟp[i-1] + t ḟp[i], t = (x - xp[i-1]) / (xp[i] - xp[i-1])

    Outside the nodes: ḟp[0] or ḟp[-1], or 0 where left/right are given."""
    xpv, order, shift, i, below, above = _interp_setup(x, xp, np.shape(fp)[-1], period)
    gl = lead(g, fp)
    ge = g if order is None else g[..., order]
    first = ge[..., np.zeros(np.shape(i), np.intp)]
    if xpv.size < 2:
        t = first
    else:
        t_ = ((x - shift) - xpv[i - 1]) / (xpv[i] - xpv[i - 1])
        lo, hi = ge[..., i - 1], ge[..., i]
        t = lo + t_ * (hi - lo)
    t = np.where(below, 0.0 if left is not None else first, t)
    last = ge[..., np.full(np.shape(i), -1, np.intp)]
    t = np.where(above, 0.0 if right is not None else last, t)
    return np.broadcast_to(t, gl + np.shape(y)) if type(t) is np.ndarray else t


def _interp_jvp_left(g, y, x, xp, fp, left=None, right=None, period=None):
    """l̇ where x < xp[0]"""
    _, _, _, _, below, _ = _interp_setup(x, xp, np.shape(fp)[-1], period)
    return np.where(below, align(g, 0, np.ndim(y)), 0.0)


def _interp_jvp_right(g, y, x, xp, fp, left=None, right=None, period=None):
    """ṙ where x > xp[-1]"""
    _, _, _, _, _, above = _interp_setup(x, xp, np.shape(fp)[-1], period)
    return np.where(above, align(g, 0, np.ndim(y)), 0.0)


def _interp_primal(x, xp, fp, left=None, right=None, period=None):
    if np.ndim(fp) != 1 or np.ndim(xp) != 1:
        raise ValueError(f"interp: xp and fp must be 1-D, got shapes {np.shape(xp)} "
                         f"and {np.shape(fp)}")
    return np.interp(x, xp, fp, left, right, period)


defjvp(np.interp, _interp_jvp_x, None, _interp_jvp_fp, _interp_jvp_left, _interp_jvp_right,
       kind=_NUMERIC, argnames=("x", "xp", "fp", "left", "right", "period"),
       primal=_interp_primal, domain=lambda s: s.interp_call(),
       note="xp is a constant; at a node x takes the slope of the segment on its right "
            "(the last node: the last segment's), 0 outside [xp[0], xp[-1]] (JAX)")


# ------------------------------------------------------------------ trapezoid
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # NumPy 2 renamed trapz


def _trapezoid_jvp_y(g, out, y, x=None, dx=None, axis=-1):
    """trapezoid(dy, x, dx)"""
    return _trapezoid(g, x=x, dx=1.0 if dx is None else dx,
                        axis=trailing_axes(axis, np.ndim(y)))


def _along(t, ax, sl):
    idx = [slice(None)] * (-ax - 1)
    return t[(Ellipsis, sl, *idx)]


def _trapezoid_jvp_x(g, out, y, x=None, dx=None, axis=-1):
    """Σᵢ (dxᵢ₊₁ - dxᵢ)(yᵢ + yᵢ₊₁)/2"""
    ax = trailing_axes(axis, np.ndim(y))
    mid = (_along(y, ax, slice(1, None)) + _along(y, ax, slice(None, -1))) / 2
    if np.ndim(x) == 1:
        d = g[..., 1:] - g[..., :-1]
        shape = [1] * np.ndim(y)
        shape[ax] = -1
        d = np.reshape(d, lead(g, x) + tuple(shape))
    else:
        d = _along(g, ax, slice(1, None)) - _along(g, ax, slice(None, -1))
        d = align(d, np.ndim(x), np.ndim(y))
    return np.sum(d * mid, axis=ax)


def _trapezoid_jvp_dx(g, out, y, x=None, dx=None, axis=-1):
    """d(dx) Σᵢ (yᵢ + yᵢ₊₁)/2"""
    return _trapezoid(y, dx=1.0, axis=axis) * align(g, np.ndim(dx), np.ndim(out))


def _trapezoid_primal(y, x=None, dx=None, axis=-1):
    # dx=None: a keyword moved to its position left a gap here (its default is 1.0)
    return _trapezoid(y, x=x, dx=1.0 if dx is None else dx, axis=axis)


defjvp(_trapezoid, _trapezoid_jvp_y, _trapezoid_jvp_x, _trapezoid_jvp_dx, kind=_NUMERIC,
       argnames=("y", "x", "dx"), primal=_trapezoid_primal,
       domain=lambda s: s.trapezoid_call(), name="trapezoid",
       aliases=(np.trapz,) if hasattr(np, "trapz") and np.trapz is not _trapezoid else ())
