"""Domains of the shape, sorting, statistics and two-output elementwise rules
(dualnum/ops/arrays.py, order.py and the end of elementwise.py).

Each builder draws a valid call away from the op's non-differentiable points: distinct
values where an op sorts or picks extremes, data inside histogram bins, operands of
remainder away from its jumps. Arrays that are not differentiated (coordinates, indices)
are passed as Python lists or integer arrays, so the table-driven tests leave them alone.
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, strategies as st
from hypothesis.extra import numpy as hnp

from ..core.rules import Interval
from ._basics import MAX_SIDE, Call, _array, _axis_arg, broadcastable_shapes, shapes

__all__ = [
    "tri_call", "diag_v_call", "diagflat_call", "repeat_call", "tile_call", "resize_call",
    "append_call", "insert_call", "delete_call", "atleast_call", "column_stack_call",
    "dstack_call", "block_call", "nsplit_call", "rollaxis_call", "rot90_call", "diff_call",
    "gradient_call", "linspace_call", "geomspace_call", "logspace_call", "select_call",
    "meshgrid_call", "broadcast_arrays_call", "take_along_axis_call", "put_along_axis_call",
    "divmod_call", "modf_call", "frexp_call", "ldexp_call", "sort_call", "partition_call",
    "median_call", "quantile_call", "nan_reduction_call", "nan_scan_call", "average_call",
    "unique_call", "bincount_call", "histogram_call",
]


def _distinct(draw, shape, step=0.37):
    """Values at least ``step`` apart, in random order (no ties to sort or pick)."""
    n = int(np.prod(shape))
    perm = np.asarray(draw(st.permutations(list(range(n)))), float)
    return ((perm - n / 2) * step + draw(st.floats(-0.1, 0.1))).reshape(shape)


def _side(draw, lo=1, hi=MAX_SIDE):
    return draw(st.integers(lo, hi))


def _axis_or_none(draw, shp):
    """An axis of ``shp`` or None, and the length of the data along it (None: all)."""
    axis = draw(st.one_of(st.none(), st.integers(-len(shp), len(shp) - 1))) if shp else None
    return axis, int(np.prod(shp)) if axis is None else shp[axis]


# ------------------------------------------------------------------ shapes
@st.composite
def tri_call(draw):
    shp = draw(shapes(min_dims=1))
    return Call((draw(_array(shp)),), {"k": draw(st.integers(-2, 2))})


@st.composite
def diag_v_call(draw):
    shp = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=MAX_SIDE))
    return Call((draw(_array(shp)),), {"k": draw(st.integers(-2, 2))})


@st.composite
def diagflat_call(draw):
    return Call((draw(_array(draw(shapes()))),), {"k": draw(st.integers(-2, 2))})


@st.composite
def repeat_call(draw):
    shp = draw(shapes())
    axis, n = _axis_or_none(draw, shp)
    repeats = draw(st.one_of(st.integers(0, 3),
                             hnp.arrays(np.intp, (n,), elements=st.integers(0, 3))))
    return Call((draw(_array(shp)), repeats), {"axis": axis})


@st.composite
def tile_call(draw):
    reps = draw(st.one_of(st.integers(0, 3),
                          st.lists(st.integers(0, 3), min_size=1, max_size=4).map(tuple)))
    return Call((draw(_array(draw(shapes()))), reps))


@st.composite
def resize_call(draw):
    shp = draw(shapes())
    new = draw(st.one_of(st.integers(0, 7), st.lists(st.integers(0, 4), max_size=3).map(tuple)))
    return Call((draw(_array(shp)), new))


@st.composite
def append_call(draw):
    if draw(st.booleans()):
        return Call((draw(_array(draw(shapes()))), draw(_array(draw(shapes())))), {"axis": None})
    shp = draw(shapes(min_dims=1))
    axis = draw(st.integers(-len(shp), len(shp) - 1))
    other = list(shp)
    other[axis] = _side(draw)
    return Call((draw(_array(shp)), draw(_array(tuple(other)))), {"axis": axis})


@st.composite
def insert_call(draw):
    shp = draw(shapes(min_dims=1))
    x = draw(_array(shp))
    if draw(st.booleans()):  # axis=None: positions in the raveled array
        n = x.size
        if draw(st.booleans()):
            obj = draw(st.integers(-n, n))
            values = draw(_array(draw(st.sampled_from([(), (1,), (2,)]))))
        else:
            obj = draw(st.lists(st.integers(0, n), min_size=1, max_size=3))
            values = draw(_array(draw(st.sampled_from([(), (len(obj),)]))))
        return Call((x, obj, values), {"axis": None})
    axis = draw(st.integers(-len(shp), len(shp) - 1))
    n = shp[axis]
    if draw(st.booleans()):
        obj = draw(st.integers(-n, n))
        rest = shp[:axis % len(shp)] + shp[axis % len(shp) + 1:]
        values = draw(_array(draw(st.sampled_from([(), rest]))))
    else:
        obj = draw(st.lists(st.integers(0, n), min_size=1, max_size=3))
        values = draw(_array(()))
    return Call((x, obj, values), {"axis": axis})


@st.composite
def delete_call(draw):
    shp = draw(shapes(min_dims=1))
    axis, n = _axis_or_none(draw, shp)
    obj = draw(st.one_of(st.integers(-n, n - 1),
                         st.lists(st.integers(0, n - 1), max_size=3, unique=True),
                         st.builds(slice, st.integers(0, n), st.integers(0, n))))
    return Call((draw(_array(shp)), obj), {"axis": axis})


@st.composite
def atleast_call(draw):
    k = draw(st.integers(1, 3))
    small = hnp.array_shapes(min_dims=0, max_dims=4, max_side=2)
    return Call(tuple(draw(_array(draw(small))) for _ in range(k)))


@st.composite
def column_stack_call(draw):
    n = _side(draw)
    if draw(st.integers(0, 4)) == 0:  # one array: the sequence of its rows
        return Call((draw(_array(draw(st.sampled_from([(n,), (n, 2), (n, 1, 2)])))),))
    arrs = [draw(_array((n,) if draw(st.booleans()) else (n, _side(draw, hi=3))))
            for _ in range(draw(st.integers(1, 3)))]
    return Call((arrs,))


@st.composite
def dstack_call(draw):
    kind = draw(st.sampled_from(["1d", "2d3d", "one"]))
    k = draw(st.integers(1, 3))
    if kind == "one":  # one array: the sequence of its rows
        return Call((draw(_array(draw(shapes(min_dims=1)))),))
    if kind == "1d":
        n = _side(draw)
        return Call(([draw(_array((n,))) for _ in range(k)],))
    m, n = _side(draw, hi=3), _side(draw, hi=3)
    return Call(([draw(_array((m, n) if draw(st.booleans()) else (m, n, _side(draw, hi=2))))
                  for _ in range(k)],))


@st.composite
def block_call(draw):
    """A flat list (one level of nesting): 1-D blocks with scalars, or 2-D blocks that
    share their rows. Deeper nesting is tested in tests/test_shape_order.py."""
    k = draw(st.integers(1, 3))
    if draw(st.booleans()):
        return Call(([draw(_array(draw(st.sampled_from([(), (1,), (2,), (3,)]))))
                      for _ in range(k)],))
    r = _side(draw, hi=3)
    return Call(([draw(_array((r, _side(draw, hi=3)))) for _ in range(k)],))


@st.composite
def nsplit_call(draw, name):
    axis, min_dims = {"vsplit": (0, 2), "hsplit": (1, 1), "dsplit": (2, 3)}[name]
    shp = draw(shapes(min_dims=min_dims))
    n = shp[axis if len(shp) > 1 or name != "hsplit" else 0]
    ios = draw(st.one_of(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]),
                         st.lists(st.integers(0, n), max_size=2).map(sorted)))
    return Call((draw(_array(shp)), ios))


@st.composite
def rollaxis_call(draw):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    return Call((draw(_array(shp)), draw(st.integers(-nd, nd - 1))),
                {"start": draw(st.integers(-nd, nd))})


@st.composite
def rot90_call(draw):
    shp = draw(shapes(min_dims=2))
    nd = len(shp)
    a0, a1 = draw(st.lists(st.integers(0, nd - 1), min_size=2, max_size=2, unique=True))
    if draw(st.booleans()):
        a0, a1 = a0 - nd, a1 - nd
    return Call((draw(_array(shp)),), {"k": draw(st.integers(-3, 4)), "axes": (a0, a1)})


@st.composite
def diff_call(draw):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    axis = draw(st.integers(-nd, nd - 1))
    ends = []
    for _ in range(2):
        kind = draw(st.sampled_from(["none", "none", "scalar", "array"]))
        if kind == "none":
            ends.append(np._NoValue)
        elif kind == "scalar":
            ends.append(draw(_array(())))
        else:
            s = list(shp)
            s[axis] = _side(draw, hi=2)
            ends.append(draw(_array(tuple(s))))
    return Call((draw(_array(shp)), draw(st.integers(0, 3)), axis, *ends))


@st.composite
def gradient_call(draw):
    edge_order = draw(st.sampled_from([1, 2]))
    shp = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=edge_order + 1,
                                max_side=MAX_SIDE + 1))
    nd = len(shp)
    axis = _axis_arg(draw, nd)
    axes = list(range(nd)) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    spacing = draw(st.sampled_from(["none", "scalar", "coordinates"]))
    if spacing == "none":
        varargs = ()
    elif spacing == "scalar":
        varargs = (draw(st.floats(0.2, 2.0)),)
    else:  # coordinates: increasing, unevenly spaced, as Python lists (not differentiated)
        varargs = tuple(list(np.cumsum(draw(hnp.arrays(np.float64, (shp[a],),
                                                       elements=st.floats(0.2, 1.5)))))
                        for a in axes)
    kw = {"edge_order": edge_order}
    if axis is not None:
        kw["axis"] = axis
    return Call((draw(_array(shp)),) + varargs, kw)


@st.composite
def _endpoints(draw, domain):
    shp_a, shp_b = draw(broadcastable_shapes(2, max_dims=2))
    return draw(_array(shp_a, domain)), draw(_array(shp_b, domain))


def _space_kwargs(draw, start, stop, num):
    out_nd = 1 + len(np.broadcast_shapes(np.shape(start), np.shape(stop)))
    return {"num": num, "endpoint": draw(st.booleans()),
            "axis": draw(st.integers(-out_nd, out_nd - 1))}


@st.composite
def linspace_call(draw):
    start, stop = draw(_endpoints(Interval(-4.0, 4.0)))
    kw = _space_kwargs(draw, start, stop, draw(st.sampled_from([0, 1, 2, 5])))
    if kw["num"] - kw["endpoint"] > 0 and draw(st.booleans()):
        kw["retstep"] = True
    return Call((start, stop), kw)


@st.composite
def geomspace_call(draw):
    start, stop = draw(_endpoints(Interval(0.3, 4.0)))
    if draw(st.booleans()):
        start, stop = -start, -stop
    return Call((start, stop), _space_kwargs(draw, start, stop, draw(st.integers(1, 5))))


@st.composite
def logspace_call(draw):
    start, stop = draw(_endpoints(Interval(-1.5, 1.5)))
    kw = _space_kwargs(draw, start, stop, draw(st.integers(1, 5)))
    kw["base"] = draw(st.sampled_from([2.0, 10.0, float(np.e)]))
    return Call((start, stop), kw)


@st.composite
def select_call(draw):
    k = draw(st.integers(1, 3))
    shps = draw(broadcastable_shapes(2 * k + 1))
    conds = [draw(hnp.arrays(np.bool_, s)) for s in shps[:k]]
    choices = [draw(_array(s)) for s in shps[k:2 * k]]
    return Call((conds, choices, draw(_array(shps[-1]))))


@st.composite
def meshgrid_call(draw):
    k = draw(st.integers(1, 3))
    xs = [draw(_array(draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))))
          for _ in range(k)]
    return Call(tuple(xs), {"indexing": draw(st.sampled_from(["xy", "ij"])),
                            "sparse": draw(st.booleans())})


@st.composite
def broadcast_arrays_call(draw):
    shps = draw(broadcastable_shapes(draw(st.integers(1, 3))))
    return Call(tuple(draw(_array(s)) for s in shps))


def _along_indices(draw, shp, axis):
    """Indices for take/put_along_axis: same rank, size 1 to broadcast elsewhere."""
    n = shp[axis]
    ishape = tuple(_side(draw, hi=3) if i == axis % len(shp) else
                   draw(st.sampled_from([1, s])) for i, s in enumerate(shp))
    return draw(hnp.arrays(np.intp, ishape, elements=st.integers(-n, n - 1)))


@st.composite
def take_along_axis_call(draw):
    shp = draw(shapes(min_dims=1))
    x = draw(_array(shp))
    if draw(st.integers(0, 3)) == 0:
        n = x.size
        return Call((x, draw(hnp.arrays(np.intp, (_side(draw),), elements=st.integers(-n, n - 1)))),
                    {"axis": None})
    axis = draw(st.integers(-len(shp), len(shp) - 1))
    return Call((x, _along_indices(draw, shp, axis)), {"axis": axis})


@st.composite
def put_along_axis_call(draw):
    shp = draw(shapes(min_dims=1))
    x = draw(_array(shp))
    axis = draw(st.integers(-len(shp), len(shp) - 1))
    idx = _along_indices(draw, shp, axis)
    vshape = draw(st.sampled_from([(), idx.shape, idx.shape[-1:]]))
    return Call((x, idx, draw(_array(vshape)), axis))


# ------------------------------------------------------------------ elementwise, two outputs
_DIVIDEND = Interval(4.3, 7.8, avoid=(6.15,), margin=0.3)
_DIVISOR = Interval(1.95, 2.1, margin=0.01)


@st.composite
def divmod_call(draw):
    sa, sb = draw(broadcastable_shapes(2))
    return Call((draw(_array(sa, _DIVIDEND)), draw(_array(sb, _DIVISOR))))


@st.composite
def modf_call(draw):
    ints = Interval(-4.0, 4.0, avoid=tuple(range(-4, 5)), margin=0.05)
    return Call((draw(_array(draw(shapes()), ints)),))


@st.composite
def frexp_call(draw):
    # |x| away from powers of 2, where the mantissa jumps
    mag = draw(_array(draw(shapes()), Interval(0.3, 3.9, avoid=(0.5, 1.0, 2.0), margin=0.03)))
    sign = np.where(draw(hnp.arrays(np.bool_, mag.shape)), -1.0, 1.0)
    return Call((np.asarray(mag * sign),))


@st.composite
def ldexp_call(draw):
    sa, sb = draw(broadcastable_shapes(2))
    return Call((draw(_array(sa)), draw(hnp.arrays(np.int32, sb, elements=st.integers(-3, 3)))))


# ------------------------------------------------------------------ sorting, statistics
@st.composite
def sort_call(draw):
    shp = draw(shapes(min_dims=1))
    axis, _ = _axis_or_none(draw, shp)
    kind = draw(st.sampled_from([None, "stable"]))
    return Call((_distinct(draw, shp),), {"axis": axis, "kind": kind})


@st.composite
def partition_call(draw):
    shp = draw(shapes(min_dims=1))
    axis, n = _axis_or_none(draw, shp)
    kth = draw(st.one_of(st.integers(-n, n - 1),
                         st.lists(st.integers(0, n - 1), min_size=1, max_size=2)))
    return Call((_distinct(draw, shp), kth), {"axis": axis})


def _with_nans(draw, x, axis, keep=1):
    """``x`` with NaNs in random places, at least ``keep`` non-NaN values per slice."""
    nd = x.ndim
    red = tuple(range(nd)) if axis is None else \
        tuple(a % nd for a in ((axis,) if isinstance(axis, int) else axis))
    kept = [i for i in range(nd) if i not in red]
    perm = kept + list(red)
    moved = np.transpose(draw(hnp.arrays(np.bool_, x.shape)), perm)
    flat = moved.reshape(moved.shape[:len(kept)] + (-1,)).copy()
    assume(flat.shape[-1] >= keep)
    flat[..., :max(keep, 0)] = False  # these stay numbers; NaNs elsewhere at random
    mask = np.transpose(flat.reshape(moved.shape), np.argsort(perm))
    return np.where(mask, np.nan, x)


_METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
            "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
            "normal_unbiased", "lower", "higher", "midpoint", "nearest"]


@st.composite
def median_call(draw, nan=False):
    shp = draw(shapes())
    x = _distinct(draw, shp)
    axis = _axis_arg(draw, len(shp))
    if nan:
        x = _with_nans(draw, x, axis)
    return Call((x,), {"axis": axis, "keepdims": draw(st.booleans())})


@st.composite
def quantile_call(draw, scale=1.0, nan=False):
    shp = draw(shapes())
    x = _distinct(draw, shp)
    axis = _axis_arg(draw, len(shp))
    if nan:
        x = _with_nans(draw, x, axis)
    q = draw(st.one_of(st.floats(0.0, 1.0).map(np.float64),
                       hnp.arrays(np.float64, draw(shapes(max_dims=2, max_side=3)),
                                  elements=st.floats(0.0, 1.0))))
    if nan and isinstance(axis, tuple) and len(axis) > 1:
        q = np.ravel(q)  # a 2-d q with several axes is refused (NumPy's layout)
    # q is a plain list, not an array: the level is not differentiated
    q = (np.asarray(q) * scale).tolist()
    return Call((x, q), {"axis": axis, "keepdims": draw(st.booleans()),
                         "method": draw(st.sampled_from(_METHODS))})


@st.composite
def nan_reduction_call(draw, distinct=False, small=False, ddof=False):
    shp = draw(shapes(max_side=3 if small else MAX_SIDE))
    x = _distinct(draw, shp) if distinct else \
        draw(_array(shp, Interval(-1.5, 1.5) if small else Interval()))
    axis = _axis_arg(draw, len(shp))
    kwargs = {"axis": axis, "keepdims": draw(st.booleans())}
    if ddof:
        kwargs["ddof"] = draw(st.sampled_from([0, 1]))
        x = x + np.arange(x.size).reshape(shp) * 0.37  # no zero spread
    x = _with_nans(draw, x, axis, keep=kwargs.get("ddof", -1) + 2)
    return Call((x,), kwargs)


@st.composite
def nan_scan_call(draw, small=False):
    shp = draw(shapes(max_side=3 if small else MAX_SIDE))
    x = draw(_array(shp, Interval(-1.5, 1.5) if small else Interval()))
    mask = draw(hnp.arrays(np.bool_, shp))
    return Call((np.where(mask, np.nan, x),),
                {"axis": _axis_arg(draw, len(shp), allow_tuple=False)})


@st.composite
def average_call(draw):
    shp = draw(shapes())
    x = draw(_array(shp))
    positive = Interval(0.2, 2.0)
    kind = draw(st.sampled_from(["none", "full", "vector"] if shp else ["none", "full"]))
    if kind == "vector":
        axis = draw(st.integers(-len(shp), len(shp) - 1))
        w = draw(_array((shp[axis],), positive))
    else:
        axis = _axis_arg(draw, len(shp))
        w = None if kind == "none" else draw(_array(shp, positive))
    return Call((x, axis, w, draw(st.booleans())), {"keepdims": draw(st.booleans())})


@st.composite
def unique_call(draw):
    shp = draw(shapes())
    axis, _ = _axis_or_none(draw, shp)
    flags = {k: draw(st.booleans()) for k in ("return_index", "return_inverse", "return_counts")}
    return Call((_distinct(draw, shp),), dict(flags, axis=axis))


@st.composite
def bincount_call(draw):
    n = _side(draw, 1, 6)
    x = draw(hnp.arrays(np.intp, (n,), elements=st.integers(0, 4)))
    return Call((x, draw(_array((n,))), draw(st.integers(0, 6))))


@st.composite
def histogram_call(draw, edges_only=False):
    """Data inside the bins, away from every edge but the outer ones (which the data's
    min and max define when ``bins`` is an int and no range is given)."""
    k = _side(draw, 1, 4)
    mode = draw(st.sampled_from(["auto", "range", "edges"]))
    lo = draw(st.floats(-3.0, 1.0))
    if mode == "edges":
        edges = lo + np.cumsum(np.concatenate([[0.0], draw(hnp.arrays(
            np.float64, (k,), elements=st.floats(0.4, 1.5)))]))
    else:
        edges = lo + draw(st.floats(0.5, 3.0)) * np.arange(k + 1) / k
    m = _side(draw, 1, 6)
    b = draw(hnp.arrays(np.intp, (m,), elements=st.integers(0, k - 1)))
    u = draw(hnp.arrays(np.float64, (m,), elements=st.floats(0.2, 0.8)))
    data = edges[b] + (edges[b + 1] - edges[b]) * u
    if mode == "auto":
        data = np.concatenate([[edges[0], edges[-1]], data])
    data = data[np.asarray(draw(st.permutations(list(range(data.size)))))]
    bins = edges if mode == "edges" else k
    rng = (float(edges[0]), float(edges[-1])) if mode == "range" else None
    if edges_only:
        return Call((data, bins, rng))
    w = draw(st.one_of(st.none(), _array(data.shape, Interval(0.2, 2.0))))
    return Call((data, bins, rng, draw(st.booleans()), w))
