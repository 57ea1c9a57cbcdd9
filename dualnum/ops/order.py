"""Sorting, order statistics, NaN-ignoring reductions, weighted averages, unique values
and histograms.

Sorting ops carry tangents through the permutation that sorts the primal (as JAX and
PyTorch do): ``sort(x)``'s tangent is ``ẋ[argsort(x)]``. At ties the permutation is
NumPy's stable argsort, so tied elements pass on their tangents in their original order.
Order statistics (median, quantile, percentile and their nan* forms) are a fixed blend of
one or two sorted elements for every NumPy ``method``; the blend is read off by running
the quantile on ``0, 1, ..., n-1``, whose value is the virtual index itself.

The NaN-ignoring reductions give NaN elements a zero tangent; an all-NaN slice has a NaN
value and a NaN tangent.
"""
from __future__ import annotations

import numpy as np

from ..core.rules import defjvp, lead, trailing_axes
from .reductions import (_chooser_jvp, _cumprod_jvp, _cumsum_jvp, _moved, _prod_jvp,
                         std_from_var)

_ORDER = "order"
_TIES = ("ties: the tangent goes through NumPy's stable argsort (tied elements keep "
         "their order), as JAX's and PyTorch's sort")


def _axis_or_flat(g, a, axis):
    """(tangent, primal, axis) with axis=None turned into the last axis of raveled arrays."""
    if axis is None:
        return np.reshape(g, lead(g, a) + (-1,)), np.reshape(a, (-1,)), -1
    return g, a, axis


def _permuted(g, a, index, axis):
    """``take_along_axis`` of the tangent with a permutation of the primal's axis."""
    nb = g.ndim - np.ndim(a)
    return np.take_along_axis(g, np.reshape(index, (1,) * nb + np.shape(index)),
                              axis=trailing_axes(axis, np.ndim(a)))


# ------------------------------------------------------------------ sort, partition
def _sort_primal(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise TypeError("sort(order=...) sorts structured arrays; Duals are float arrays")
    _, a, axis = _axis_or_flat(a, a, axis)
    # The values of a stable argsort, so that value and tangent share one permutation.
    return np.take_along_axis(a, np.argsort(a, axis=axis, kind="stable"), axis=axis)


def _sort_jvp(g, y, a, axis=-1, kind=None, order=None, *, stable=None):
    """ẏ = ẋ[argsort(x)]"""
    g, a, axis = _axis_or_flat(g, a, axis)
    return _permuted(g, a, np.argsort(a, axis=axis, kind="stable"), axis)


defjvp(np.sort, _sort_jvp, kind=_ORDER, primal=_sort_primal, domain=lambda s: s.sort_call(),
       note=_TIES)


def _partition_primal(a, kth, axis=-1, kind="introselect", order=None):
    if order is not None:
        raise TypeError("partition(order=...) is for structured arrays; Duals are float arrays")
    _, a, axis = _axis_or_flat(a, a, axis)
    return np.take_along_axis(a, np.argpartition(a, kth, axis=axis, kind=kind), axis=axis)


def _partition_jvp(g, y, a, kth, axis=-1, kind="introselect", order=None):
    """ẏ = ẋ[argpartition(x, kth)]"""
    g, a, axis = _axis_or_flat(g, a, axis)
    return _permuted(g, a, np.argpartition(a, kth, axis=axis, kind=kind), axis)


defjvp(np.partition, _partition_jvp, None, kind=_ORDER, primal=_partition_primal,
       domain=lambda s: s.partition_call(), note=_TIES.replace("stable argsort",
                                                               "argpartition"))


# ------------------------------------------------------------------ order statistics
def _virtual_index(n, q, method):
    """(j, j + 1, γ) with the statistic = (1 - γ) s_j + γ s_(j+1) over sorted s of
    length n, for quantile levels q (1-D). On s = 0, 1, ..., n-1 the statistic is
    j + γ itself, so NumPy's own quantile gives the blend for every method."""
    v = np.quantile(np.arange(n, dtype=np.float64), q, method=method)
    j = np.clip(np.floor(v), 0, n - 1).astype(np.intp)
    return j, np.minimum(j + 1, n - 1), v - j


def _quantile_tangent(g, y, a, q, axis, keepdims, method, skip_nan):
    """Tangent of a quantile over ``axis`` at levels ``q`` (any shape), laid out as
    NumPy lays out the value: q's axes first, then the kept axes."""
    nd = np.ndim(a)
    if np.size(a) == 0:  # NumPy's value is nan (or empty): so is the tangent
        return np.full(lead(g, a) + np.shape(y), np.nan)
    ax = trailing_axes(axis, nd)
    ax = (ax,) if isinstance(ax, int) else tuple(ax)
    am = _moved(a, ax, nd)  # kept axes, then one merged axis of length n
    gm = _moved(g, ax, nd)
    gl = lead(g, a)
    n = np.shape(am)[-1]
    order = np.argsort(am, axis=-1, kind="stable")  # NaNs last
    gs = _permuted(gm, am, order, -1)
    qs = np.reshape(np.asarray(q, np.float64), (-1,))
    kept = np.shape(am)[:-1]
    if not skip_nan:
        j, j1, gamma = _virtual_index(n, qs, method)
        t = gs[..., j] * (1 - gamma) + gs[..., j1] * gamma  # gl + kept + (m,)
    else:
        counts = np.sum(~np.isnan(am), axis=-1)
        J = np.zeros(kept + (qs.size,), np.intp)
        J1, G = np.zeros_like(J), np.zeros(J.shape)
        for c in np.unique(counts):
            if c == 0:
                continue  # all NaN: the value is NaN, so is the tangent (below)
            j, j1, gamma = _virtual_index(int(c), qs, method)
            sel = counts == c
            J[sel], J1[sel], G[sel] = j, j1, gamma
        idx = (1,) * len(gl) + J.shape
        t = (np.take_along_axis(gs, np.reshape(J, idx), -1) * (1 - G)
             + np.take_along_axis(gs, np.reshape(J1, idx), -1) * G)
    # gl + kept + (m,) -> gl + q.shape + kept (+ the reduced axes as 1s with keepdims)
    t = np.moveaxis(t, -1, len(gl))
    if keepdims:
        kept = tuple(1 if i - nd in ax else s for i, s in enumerate(np.shape(a)))
    t = np.reshape(t, gl + np.shape(q) + kept)
    return np.where(np.isnan(y), np.nan, t)


def _no_weights(name, weights):
    if weights is not None:
        raise TypeError(f"{name}(weights=...) is not supported with Duals")


def _median_primal(fn):
    def primal(a, axis=None, out=None, overwrite_input=False, keepdims=False):
        return fn(a, axis=axis, keepdims=keepdims)

    return primal


def _median_jvp(skip_nan):
    def jvp(g, y, a, axis=None, out=None, overwrite_input=False, keepdims=False):
        """ẏ = mean of ẋ at the middle one or two of sorted x"""
        return _quantile_tangent(g, y, a, 0.5, axis, keepdims, "linear", skip_nan)

    return jvp


def _quantile_primal(fn, scale):
    def primal(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None):
        _no_weights(fn.__name__, weights)
        if fn.__name__.startswith("nan") and np.ndim(q) > 1 and \
                isinstance(axis, (tuple, list)) and len(axis) > 1:
            # NumPy lays this result out inconsistently (q's axes are not first)
            raise TypeError(f"{fn.__name__} with a {np.ndim(q)}-d q and several axes is not "
                            "supported with Duals; ravel q, or merge the axes with reshape")
        return fn(a, q, axis=axis, method=method if interpolation is None else interpolation,
                  keepdims=keepdims)

    return primal


def _quantile_jvp(scale, skip_nan):
    def jvp(g, y, a, q, axis=None, out=None, overwrite_input=False, method="linear",
            keepdims=False, *, weights=None, interpolation=None):
        """ẏ = (1 - γ) ẋ_(j) + γ ẋ_(j+1), at the sorted positions j, j+1 of the level"""
        method = method if interpolation is None else interpolation
        return _quantile_tangent(g, y, a, np.asarray(q, np.float64) / scale, axis, keepdims,
                                 method, skip_nan)

    return jvp


_QNOTE = _TIES + "; q is a constant (every NumPy method)"
for _f, _skip in ((np.median, False), (np.nanmedian, True)):
    defjvp(_f, _median_jvp(_skip), kind=_ORDER, primal=_median_primal(_f),
           domain=(lambda skip: lambda s: s.median_call(nan=skip))(_skip), note=_TIES)
for _f, _scale, _skip in ((np.quantile, 1.0, False), (np.percentile, 100.0, False),
                          (np.nanquantile, 1.0, True), (np.nanpercentile, 100.0, True)):
    defjvp(_f, _quantile_jvp(_scale, _skip), None, kind=_ORDER,
           primal=_quantile_primal(_f, _scale),
           domain=(lambda sc, skip: lambda s: s.quantile_call(sc, nan=skip))(_scale, _skip),
           note=_QNOTE)


# ------------------------------------------------------------------ NaN-ignoring reductions
def _kw(keepdims):
    return {} if keepdims is np._NoValue else {"keepdims": keepdims}


def _nan_primal(fn):
    def primal(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise TypeError(f"{fn.__name__}(dtype={dtype}) would drop the tangent of a Dual")
        if kw.get("where", True) is not True and "where" in kw:
            raise TypeError(f"{fn.__name__}(where=...) is not supported with Duals")
        kw.pop("where", None)
        return fn(a, axis=axis, keepdims=keepdims, **kw)

    return primal


def _finite_g(g, a):
    return np.where(np.isnan(a), 0.0, g)


def _nansum_jvp(g, y, a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """ẏ = Σ ẋ over the non-NaN elements"""
    return np.sum(_finite_g(g, a), axis=trailing_axes(axis, np.ndim(a)), keepdims=keepdims)


def _nanmean_jvp(g, y, a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """ẏ = mean of ẋ over the non-NaN elements"""
    ax = trailing_axes(axis, np.ndim(a))
    count = np.sum(~np.isnan(a), axis=ax, keepdims=keepdims)
    return np.sum(_finite_g(g, a), axis=ax, keepdims=keepdims) / count


def _nanchooser_primal(fn):
    def primal(a, axis=None, out=None, keepdims=False, **kw):
        if kw:
            raise TypeError(f"{fn.__name__}: initial= and where= are not supported with Duals")
        return fn(a, axis=axis, keepdims=keepdims)

    return primal


def _nanchooser_jvp(g, y, a, axis=None, out=None, keepdims=False, **kw):
    """ẏ = mean of ẋ over the arg-extrema (NaNs never are)"""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _chooser_jvp(g, y, a, axis=axis, keepdims=keepdims)


def _nanprod_jvp(g, y, a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """ẏ = Σ_i ẋ_i Π_{j≠i} x_j over the non-NaN elements"""
    return _prod_jvp(_finite_g(g, a), y, np.where(np.isnan(a), 1.0, a), axis,
                     keepdims=keepdims)


def _nanvar_primal(fn):
    def primal(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise TypeError(f"{fn.__name__}(dtype={dtype}) would drop the tangent of a Dual")
        if kw:
            raise TypeError(f"{fn.__name__}: {sorted(kw)} are not supported with Duals")
        return fn(a, axis=axis, ddof=ddof, keepdims=keepdims)

    return primal


def _nanvar_jvp(g, y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    """ẏ = 2/(N-ddof) Σ (x - x̄) ẋ over the non-NaN elements"""
    ax = trailing_axes(axis, np.ndim(a))
    nan = np.isnan(a)
    count = np.sum(~nan, axis=ax, keepdims=keepdims)
    centred = np.where(nan, 0.0, a - np.nanmean(a, axis=ax, keepdims=True))
    return np.sum(centred * g, axis=ax, keepdims=keepdims) * (2.0 / (count - ddof))


def _nanstd_jvp(g, y, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
    """ẏ = var'(ẋ) / (2 y) over the non-NaN elements, 0 where y == 0"""
    return std_from_var(_nanvar_jvp(g, y, a, axis, dtype, out, ddof, keepdims), y)


def _nanscan_primal(fn):
    def primal(a, axis=None, dtype=None, out=None):
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise TypeError(f"{fn.__name__}(dtype={dtype}) would drop the tangent of a Dual")
        return fn(a, axis=axis)

    return primal


def _nancumsum_jvp(g, y, a, axis=None, dtype=None, out=None):
    """ẏ = cumsum(ẋ), NaNs counted as 0"""
    return _cumsum_jvp(_finite_g(g, a), y, a, axis)


def _nancumprod_jvp(g, y, a, axis=None, dtype=None, out=None):
    """ẏ_i = Σ_{j≤i} ẋ_j Π_{k≤i,k≠j} x_k, NaNs counted as 1"""
    return _cumprod_jvp(_finite_g(g, a), y, np.where(np.isnan(a), 1.0, a), axis)


_NAN = "NaN elements get no tangent; an all-NaN slice has a NaN tangent"
_NANRED = lambda s: s.nan_reduction_call()  # noqa: E731
defjvp(np.nansum, _nansum_jvp, kind="reduction", primal=_nan_primal(np.nansum),
       domain=_NANRED, note=_NAN.split(";")[0])
defjvp(np.nanmean, _nanmean_jvp, kind="reduction", primal=_nan_primal(np.nanmean),
       domain=_NANRED, note=_NAN)
for _f in (np.nanmax, np.nanmin):
    defjvp(_f, _nanchooser_jvp, kind="reduction", primal=_nanchooser_primal(_f),
           domain=lambda s: s.nan_reduction_call(distinct=True),
           note="ties share the derivative equally (JAX's reduce_max rule); " + _NAN)
defjvp(np.nanprod, _nanprod_jvp, kind="reduction", primal=_nan_primal(np.nanprod),
       domain=lambda s: s.nan_reduction_call(small=True), note=_NAN.split(";")[0])
defjvp(np.nanvar, _nanvar_jvp, kind="reduction", primal=_nanvar_primal(np.nanvar),
       domain=lambda s: s.nan_reduction_call(ddof=True), note=_NAN)
defjvp(np.nanstd, _nanstd_jvp, kind="reduction", primal=_nanvar_primal(np.nanstd),
       domain=lambda s: s.nan_reduction_call(ddof=True),
       note="0 where the std is 0 (PyTorch); " + _NAN)
defjvp(np.nancumsum, _nancumsum_jvp, kind="reduction", primal=_nanscan_primal(np.nancumsum),
       domain=lambda s: s.nan_scan_call(), note=_NAN.split(";")[0])
defjvp(np.nancumprod, _nancumprod_jvp, kind="reduction",
       primal=_nanscan_primal(np.nancumprod), domain=lambda s: s.nan_scan_call(small=True),
       note=_NAN.split(";")[0])


# ------------------------------------------------------------------ average, ptp
def _average_primal(a, axis=None, weights=None, returned=False, *, keepdims=False):
    return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)


def _weights_like(w, a, axis, nb=0):
    """Weights (with ``nb`` batch axes in front) shaped to broadcast against ``a``, as
    np.average does with a 1-D weight vector along ``axis``."""
    if np.ndim(w) - nb == np.ndim(a):
        return w
    shape = [1] * np.ndim(a)
    shape[axis] = np.shape(w)[-1]
    return np.reshape(w, np.shape(w)[:nb] + tuple(shape))


def _average_tangent(out, primals, tangents, kwargs):
    """ẏ = Σ w ȧ / Σ w + Σ ẇ (a - y) / Σ w"""
    a = primals[0]
    axis = primals[1] if len(primals) > 1 else None
    weights = primals[2] if len(primals) > 2 else None
    returned = primals[3] if len(primals) > 3 else kwargs.get("returned", False)
    keepdims = kwargs.get("keepdims", False)
    ga = tangents[0]
    gw = tangents[2] if len(tangents) > 2 else None
    if len(tangents) > 1 and tangents[1] is not None:
        raise TypeError("average: axis is not differentiable")
    y = out[0] if returned else out
    nd = np.ndim(a)
    ax = trailing_axes(axis, nd)
    if weights is None:
        t = None if ga is None else np.mean(ga, axis=ax, keepdims=keepdims)
        return [t, None] if returned else t
    w = _weights_like(weights, a, axis)
    sw = np.sum(np.broadcast_to(w, np.shape(a)) if np.shape(w) != np.shape(a) else w,
                axis=ax, keepdims=keepdims)
    t = None
    if ga is not None:
        t = np.sum(w * ga, axis=ax, keepdims=keepdims) / sw
    tsw = None
    if gw is not None:
        nb = gw.ndim - np.ndim(weights)
        gwa = _weights_like(gw, a, axis, nb)
        yk = y if keepdims else np.expand_dims(y, ax)
        term = np.sum(gwa * (a - yk), axis=ax, keepdims=keepdims) / sw
        t = term if t is None else t + term
        if returned:
            full = np.broadcast_to(gwa, lead(gw, weights) + np.shape(a))
            tsw = np.sum(full, axis=ax, keepdims=keepdims)
            tsw = np.broadcast_to(tsw, lead(gw, weights) + np.shape(out[1]))
    return [t, tsw] if returned else t


defjvp(np.average, kind="reduction", multi_output=True, tangent=_average_tangent,
       primal=_average_primal,
       argnames=("a", "axis", "weights"), domain=lambda s: s.average_call(),
       note="differentiable in a and in the weights")


def _ptp_primal(a, axis=None, out=None, keepdims=False):
    return np.ptp(a, axis=axis, keepdims=keepdims)


def _ptp_jvp(g, y, a, axis=None, out=None, keepdims=False):
    """ẏ = max'(ẋ) - min'(ẋ)"""
    return (_chooser_jvp(g, np.max(a, axis=axis, keepdims=keepdims), a, axis, keepdims)
            - _chooser_jvp(g, np.min(a, axis=axis, keepdims=keepdims), a, axis, keepdims))


defjvp(np.ptp, _ptp_jvp, kind="reduction", primal=_ptp_primal,
       domain=lambda s: s.reduction_call(distinct=True),
       note="ties share the derivative equally (JAX's reduce_max rule)")


# ------------------------------------------------------------------ unique
def _unique_tangent(out, primals, tangents, kwargs):
    """u̇ = ẋ at the first occurrence of each unique value"""
    a, g = primals[0], tangents[0]
    axis = primals[4] if len(primals) > 4 else kwargs.get("axis")
    kw = {k: v for k, v in kwargs.items() if k in ("equal_nan", "sorted")}
    first = np.unique(a, return_index=True, axis=axis, **kw)[1]
    if axis is None:
        t = np.take(np.reshape(g, lead(g, a) + (-1,)), first, axis=-1)
    else:
        t = np.take(g, first, axis=trailing_axes(axis, np.ndim(a)))
    if not isinstance(out, (list, tuple)):
        return t
    return [t] + [None] * (len(out) - 1)


def _unique_primal(ar, return_index=False, return_inverse=False, return_counts=False,
                   axis=None, **kw):
    return np.unique(ar, return_index, return_inverse, return_counts, axis, **kw)


defjvp(np.unique, kind=_ORDER, multi_output=True, tangent=_unique_tangent,
       primal=_unique_primal, domain=lambda s: s.unique_call(),
       note="the tangent of each value is the one at its first occurrence; indices, "
            "inverse and counts are integer arrays without tangents")


# ------------------------------------------------------------------ histograms, bincount
def _segment_sum(g, index, n):
    """Σ of g's last axis into n bins by ``index`` (-1: dropped), with batch axes."""
    m = np.shape(index)[0]
    if m * n <= 1 << 22:
        onehot = (np.reshape(index, (-1, 1)) == np.arange(n)).astype(np.float64)
        return np.matmul(g, onehot)
    order = np.argsort(index, kind="stable")
    cs = np.cumsum(np.take(g, order, axis=-1), axis=-1)
    cs = np.concatenate([np.zeros(cs.shape[:-1] + (1,), cs.dtype), cs], axis=-1)
    bounds = np.searchsorted(index[order], np.arange(n + 1), side="left")
    return cs[..., bounds[1:]] - cs[..., bounds[:-1]]


def _bincount_primal(x, weights=None, minlength=0):
    return np.bincount(x, weights, minlength=minlength)


def _bincount_jvp_weights(g, y, x, weights=None, minlength=0):
    """ẏ_b = Σ_{i: x_i = b} ẇ_i"""
    return _segment_sum(g, np.asarray(x), np.shape(y)[-1])


defjvp(np.bincount, None, _bincount_jvp_weights, kind="reduction", primal=_bincount_primal,
       argnames=("x", "weights"), domain=lambda s: s.bincount_call(),
       note="x holds integer bin numbers: only the weights are differentiable")


def _edges_tangent(edges, a, bins, rng, ga, gb, grng):
    """Tangent of histogram bin edges: equally spaced between the data's min and max
    (or range's ends), or the given edges."""
    if np.ndim(bins) == 1:
        return gb  # explicit edges
    n = np.shape(edges)[-1]
    t = np.linspace(0.0, 1.0, n)
    if rng is None:
        if ga is None or np.size(a) == 0:
            return None  # no data: NumPy's edges span the constant range (0, 1)
        flat_g = np.reshape(ga, lead(ga, a) + (-1,))
        flat_a = np.reshape(a, (-1,))
        lo = _chooser_jvp(flat_g, np.min(flat_a), flat_a)
        hi = _chooser_jvp(flat_g, np.max(flat_a), flat_a)
    else:
        if grng is None:
            return None
        lo, hi = (np.zeros((), np.float64) if g is None else g for g in grng)
    lo, hi = np.expand_dims(lo, -1), np.expand_dims(hi, -1)
    return lo * (1 - t) + hi * t


def _histogram_args(primals, tangents, kwargs):
    a = primals[0]
    bins = primals[1] if len(primals) > 1 else kwargs.get("bins", 10)
    rng = primals[2] if len(primals) > 2 else kwargs.get("range")
    get = (lambda i: tangents[i] if len(tangents) > i else None)
    grng = get(2)
    if isinstance(grng, list):
        grng = [None if g is None else g for g in grng]
    return a, 10 if bins is None else bins, rng, get(0), get(1), grng


def _histogram_bin_edges_primal(a, bins=10, range=None, weights=None):
    return np.histogram_bin_edges(a, 10 if bins is None else bins, range, weights)


def _histogram_bin_edges_tangent(out, primals, tangents, kwargs):
    """ė = (1 - t) ṁin + t ṁax, t = i / bins (the data's min and max, or range's ends)"""
    a, bins, rng, ga, gb, grng = _histogram_args(primals, tangents, kwargs)
    return _edges_tangent(out, a, bins, rng, ga, gb, grng)


_HNOTE = ("the counts are piecewise constant in the data; edges spread between the data's "
          "min and max move with them (ties at the min or max share, as np.min)")
defjvp(np.histogram_bin_edges, kind=_ORDER, tangent=_histogram_bin_edges_tangent,
       primal=_histogram_bin_edges_primal, argnames=("a", "bins", "range", "weights"),
       domain=lambda s: s.histogram_call(edges_only=True), note=_HNOTE)


def _histogram_primal(a, bins=10, range=None, density=None, weights=None):
    return np.histogram(a, 10 if bins is None else bins, range, density, weights)


def _histogram_tangent(outs, primals, tangents, kwargs):
    """ḣ = segment sums of ẇ (and with density, the quotient rule); ė as for the edges"""
    hist, edges = outs
    a, bins, rng, ga, gb, grng = _histogram_args(primals, tangents, kwargs)
    density = primals[3] if len(primals) > 3 else kwargs.get("density")
    weights = primals[4] if len(primals) > 4 else kwargs.get("weights")
    gw = tangents[4] if len(tangents) > 4 else None
    te = _edges_tangent(edges, a, bins, rng, ga, gb, grng)
    if hist.dtype.kind != "f":
        return [None, te]
    flat = np.reshape(a, (-1,))
    nbins = np.shape(hist)[0]
    # NumPy's binning: right-open bins, the last one closed; outside the edges: dropped.
    idx = np.searchsorted(edges, flat, side="right") - 1
    idx = np.where(flat == edges[-1], nbins - 1, idx)
    idx = np.where((flat < edges[0]) | (flat > edges[-1]), -1, idx)
    counts_dot = None if gw is None else \
        _segment_sum(np.reshape(gw, lead(gw, weights) + (-1,)), idx, nbins)
    if not density:
        return [counts_dot, te]
    w = np.ones(np.shape(flat)) if weights is None else np.reshape(weights, (-1,))
    counts = _segment_sum(w, idx, nbins)
    total = np.sum(counts)
    width = np.diff(edges)
    th = None
    if counts_dot is not None:
        th = counts_dot / (width * total) - hist * np.sum(counts_dot, axis=-1,
                                                          keepdims=True) / total
    if te is not None:
        term = -hist * np.diff(te, axis=-1) / width
        th = term if th is None else th + term
    return [th, te]


defjvp(np.histogram, kind=_ORDER, multi_output=True, tangent=_histogram_tangent,
       primal=_histogram_primal, argnames=("a", "bins", "range", "density", "weights"),
       domain=lambda s: s.histogram_call(), note=_HNOTE + "; weights are differentiable")


# ------------------------------------------------------------------ queries
# Facts about the primal (indices and booleans), with no tangent.
for _f in (np.argpartition, np.searchsorted, np.digitize, np.lexsort, np.nanargmax,
           np.nanargmin, np.argwhere, np.flatnonzero, np.iscomplex, np.isreal,
           np.iscomplexobj, np.isrealobj, np.isneginf, np.isposinf):
    defjvp(_f, kind="query")
del _f
