"""Hypothesis strategies for dualnum.

* :func:`duals` - a Dual with chosen shape, dtype and elements;
* :func:`broadcastable_shapes` - shapes that broadcast together, 0-d included;
* :func:`arrays` - float64 arrays drawn from a rule's :class:`~dualnum.core.rules.Interval`;
* :func:`rule_calls` - a valid call ``(args, kwargs)`` for any rule in the table, drawn
  from the domain the rule declares. The project's own tests are built on this, so a
  new rule is tested as soon as it is registered.

>>> from hypothesis import given, settings
>>> from dualnum.testing.strategies import duals
>>> @settings(max_examples=10)
... @given(duals(shape=(2, 3)))
... def test_shape(d):
...     assert d.shape == (2, 3) and d.tangent.shape == (2, 3)
>>> test_shape()
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, strategies as st
from hypothesis.extra import numpy as hnp

from ..core.dual import Dual
from ..core.rules import REAL, Interval
from ._basics import (MAX_DIMS, MAX_SIDE, Call, _array, _axis_arg, _push_away,  # noqa: F401
                      arrays, broadcastable_shapes, shapes)


# ------------------------------------------------------------------ duals
def duals(shape=None, dtype=np.float64, elements=None, batched=None):
    """Duals with random primal and tangent. ``elements`` is an Interval (default
    ``REAL``) or a hypothesis strategy of floats; ``batched=K`` draws K tangents."""
    shape_st = shapes() if shape is None else st.just(tuple(shape))

    @st.composite
    def build(draw):
        shp = draw(shape_st)
        if elements is None or isinstance(elements, Interval):
            p = draw(arrays(shp, elements or REAL, dtype))
        else:
            p = draw(hnp.arrays(dtype, shp, elements=elements))
        tshape = ((batched,) if batched else ()) + shp
        t = draw(arrays(tshape, REAL, dtype))
        return Dual(p, t, batched=bool(batched))

    return build()


# ------------------------------------------------------------------ elementwise
@st.composite
def elementwise_call(draw, rule):
    n = len(rule.argnames)
    shp = draw(broadcastable_shapes(n))
    args = []
    for shape, dom in zip(shp, rule.domain):
        if dom == "bool":
            args.append(draw(hnp.arrays(np.bool_, shape)))
        else:
            args.append(draw(arrays(shape, dom)))
    sep = rule.extra.get("separate")
    if sep:
        full = np.broadcast_shapes(*[a.shape for a in args])
        a0 = np.array(np.broadcast_to(args[0], full))
        for j in range(1, n):
            near = np.abs(a0 - args[j]) < sep
            a0 = np.where(near, args[j] + 2 * sep, a0)
        args[0] = a0
    return Call(tuple(args))


@st.composite
def intervals_call(draw, intervals, same_shape=False):
    """A call of an elementwise function of ``len(intervals)`` arrays, each drawn from
    its Interval: of shapes that broadcast together, or of one shape."""
    if same_shape:
        shp = (draw(shapes()),) * len(intervals)
    else:
        shp = draw(broadcastable_shapes(len(intervals)))
    return Call(tuple(draw(arrays(s, dom)) for s, dom in zip(shp, intervals)))


def rule_calls(rule):
    """A strategy of valid calls of ``rule`` (a Rule from ``dn.rules_table()``)."""
    if rule.kind == "elementwise":
        return elementwise_call(rule)
    import sys

    return rule.domain(sys.modules[__name__])


# ------------------------------------------------------------------ helpers for domains
@st.composite
def one_array_call(draw, min_dims=0, domain=REAL):
    return Call((draw(_array(draw(shapes(min_dims=min_dims)), domain)),))


@st.composite
def reduction_call(draw, distinct=False, small=False, ddof=False):
    shp = draw(shapes(max_side=3 if small else MAX_SIDE))
    if distinct:
        n = int(np.prod(shp))
        base = np.arange(n, dtype=np.float64) * 0.5 - n / 4
        perm = draw(st.permutations(list(range(n)))) if n > 1 else [0]
        x = base[perm].reshape(shp)
    else:
        x = draw(_array(shp, Interval(-1.5, 1.5) if small else REAL))
    axis = _axis_arg(draw, len(shp))
    kw = {"axis": axis, "keepdims": draw(st.booleans())}
    if ddof:
        kw["ddof"] = draw(st.sampled_from([0, 1]))
        n_red = int(np.prod(shp)) if axis is None else int(np.prod(
            [shp[a] for a in ((axis,) if isinstance(axis, int) else axis)]))
        assume(n_red > kw["ddof"] + 1)
        # std is not differentiable where the spread is 0
        x = x + np.arange(x.size).reshape(shp) * 0.37
    return Call((x,), kw)


@st.composite
def scan_call(draw, small=False):
    shp = draw(shapes(min_dims=0, max_side=3 if small else MAX_SIDE))
    x = draw(_array(shp, Interval(-1.5, 1.5) if small else REAL))
    axis = _axis_arg(draw, len(shp), allow_tuple=False)
    return Call((x,), {"axis": axis})


@st.composite
def matmul_call(draw):
    n, m, p = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    batch = draw(broadcastable_shapes(2, max_dims=2))
    a_vec, b_vec = draw(st.booleans()), draw(st.booleans())
    sa = (m,) if a_vec else batch[0] + (n, m)
    sb = (m,) if b_vec else batch[1] + (m, p)
    return Call((draw(_array(sa)), draw(_array(sb))))


@st.composite
def linear_call(draw):
    """dn.linear(x, weight, bias): x with 0 to 2 leading axes, bias or None."""
    i, o = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    lead_shape = draw(shapes(max_dims=2))
    x = draw(_array(lead_shape + (i,)))
    w = draw(_array((o, i)))
    b = draw(st.one_of(st.none(), _array((o,))))
    return Call((x, w, b))


@st.composite
def tensordot_call(draw):
    k = draw(st.integers(0, 2))
    shared = draw(shapes(min_dims=k, max_dims=k))
    fa = draw(shapes(max_dims=2))
    fb = draw(shapes(max_dims=2))
    a = draw(_array(fa + shared))
    b = draw(_array(shared + fb))
    form = draw(st.sampled_from(["int", "lists"]))
    if form == "int":
        axes = k
    else:
        axes = (list(range(len(fa), len(fa) + k)), list(range(k)))
    return Call((a, b), {"axes": axes})


@st.composite
def dot_call(draw):
    m = draw(st.integers(1, MAX_SIDE))
    fa = draw(shapes(max_dims=2))
    fb = draw(shapes(max_dims=2))
    kind = draw(st.sampled_from(["nd", "scalar_a", "scalar_b", "vec"]))
    if kind == "scalar_a":
        return Call((draw(_array(())), draw(_array(fb))))
    if kind == "scalar_b":
        return Call((draw(_array(fa)), draw(_array(()))))
    if kind == "vec":
        return Call((draw(_array((m,))), draw(_array((m,)))))
    sb = fb[:-1] + (m,) + fb[-1:] if len(fb) else (m,)
    return Call((draw(_array(fa + (m,))), draw(_array(sb))))


@st.composite
def inner_call(draw):
    m = draw(st.integers(1, MAX_SIDE))
    fa = draw(shapes(max_dims=2))
    fb = draw(shapes(max_dims=2))
    if draw(st.booleans()):
        return Call((draw(_array(())), draw(_array(fb))))
    return Call((draw(_array(fa + (m,))), draw(_array(fb + (m,)))))


@st.composite
def outer_call(draw):
    return Call((draw(_array(draw(shapes()))), draw(_array(draw(shapes())))))


@st.composite
def diag_call(draw):
    shp = draw(shapes(min_dims=2))
    nd = len(shp)
    a1, a2 = draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2).filter(
        lambda ax: ax[0] % nd != ax[1] % nd))
    off = draw(st.integers(-1, 1))
    return Call((draw(_array(shp)), off, a1, a2))


@st.composite
def reshape_call(draw):
    shp = draw(shapes())
    n = int(np.prod(shp))
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = draw(st.sampled_from(divisors))
    new = draw(st.sampled_from([(n,), (d, n // d), (n // d, 1, d), (-1,), (d, -1)]))
    order = draw(st.sampled_from(["C", "F"]))
    return Call((draw(_array(shp)), new), {"order": order})


@st.composite
def transpose_call(draw):
    shp = draw(shapes())
    axes = draw(st.one_of(st.none(), st.permutations(list(range(len(shp)))).map(tuple)))
    return Call((draw(_array(shp)), axes))


@st.composite
def swapaxes_call(draw):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    return Call((draw(_array(shp)), draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))))


@st.composite
def moveaxis_call(draw):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    return Call((draw(_array(shp)), draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))))


@st.composite
def squeeze_call(draw):
    shp = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    ones = [i for i, n in enumerate(shp) if n == 1]
    axis = None
    if ones and draw(st.booleans()):
        axis = draw(st.sampled_from(ones))
    return Call((draw(_array(shp)),), {"axis": axis})


@st.composite
def expand_dims_call(draw):
    shp = draw(shapes())
    nd = len(shp) + 1
    return Call((draw(_array(shp)), draw(st.integers(-nd, nd - 1))))


@st.composite
def broadcast_to_call(draw):
    src, = draw(broadcastable_shapes(1))
    extra = draw(shapes(max_dims=2))
    target = extra + tuple(draw(st.sampled_from([n, n if n != 1 else 3])) for n in src)
    return Call((draw(_array(src)), target))


@st.composite
def _arrays_same_but(draw, axis_free=True, count=None):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    axis = draw(st.integers(-nd, nd - 1))
    k = count or draw(st.integers(1, 3))
    arrs = []
    for _ in range(k):
        s = list(shp)
        if axis_free:
            s[axis] = draw(st.integers(1, 3))
        arrs.append(draw(_array(tuple(s))))
    return arrs, axis


@st.composite
def concat_call(draw):
    arrs, axis = draw(_arrays_same_but())
    if draw(st.integers(0, 4)) == 0:
        return Call((arrs,), {"axis": None})
    return Call((arrs,), {"axis": axis})


@st.composite
def stack_call(draw):
    shp = draw(shapes())
    k = draw(st.integers(1, 3))
    arrs = [draw(_array(shp)) for _ in range(k)]
    return Call((arrs,), {"axis": draw(st.integers(-len(shp) - 1, len(shp)))})


@st.composite
def hstack_call(draw):
    if draw(st.booleans()):
        arrs = [draw(_array((draw(st.integers(1, 3)),))) for _ in range(draw(st.integers(1, 3)))]
    else:
        r = draw(st.integers(1, 3))
        arrs = [draw(_array((r, draw(st.integers(1, 3))))) for _ in range(draw(st.integers(1, 3)))]
    return Call((arrs,))


@st.composite
def vstack_call(draw):
    if draw(st.booleans()):
        n = draw(st.integers(1, 3))
        arrs = [draw(_array((n,))) for _ in range(draw(st.integers(1, 3)))]
    else:
        c = draw(st.integers(1, 3))
        arrs = [draw(_array((draw(st.integers(1, 3)), c))) for _ in range(draw(st.integers(1, 3)))]
    return Call((arrs,))


@st.composite
def split_call(draw):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    axis = draw(st.integers(-nd, nd - 1))
    n = shp[axis]
    divs = [d for d in range(1, n + 1) if n % d == 0]
    ios = draw(st.one_of(st.sampled_from(divs),
                         st.lists(st.integers(0, n), max_size=2).map(sorted)))
    return Call((draw(_array(shp)), ios, axis))


@st.composite
def take_call(draw):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1)))
    n = int(np.prod(shp)) if axis is None else shp[axis]
    idx = draw(hnp.arrays(np.intp, draw(shapes(max_dims=2)), elements=st.integers(-n, n - 1)))
    return Call((draw(_array(shp)), idx), {"axis": axis})


@st.composite
def axis_call(draw, none=True):
    shp = draw(shapes())
    return Call((draw(_array(shp)),), {"axis": _axis_arg(draw, len(shp), allow_none=none)})


@st.composite
def roll_call(draw):
    shp = draw(shapes())
    nd = len(shp)
    if nd and draw(st.booleans()):
        return Call((draw(_array(shp)), draw(st.integers(-5, 5))),
                    {"axis": draw(st.integers(-nd, nd - 1))})
    return Call((draw(_array(shp)), draw(st.integers(-5, 5))), {"axis": None})


@st.composite
def pad_call(draw):
    shp = draw(shapes(min_dims=1))
    nd = len(shp)
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap", "mean",
                                 "linear_ramp"]))
    pw = [(draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd)]
    kw = {"mode": mode}
    if mode == "constant":
        kw["constant_values"] = draw(st.floats(-2, 2))
    return Call((draw(_array(shp)), pw), kw)


@st.composite
def getitem_call(draw):
    shp = draw(shapes(min_dims=1))
    x = draw(_array(shp))
    kind = draw(st.sampled_from(["basic", "int_array", "bool", "mixed", "ellipsis"]))
    nd = len(shp)
    if kind == "basic":
        idx = draw(hnp.basic_indices(shp, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "int_array":
        idx = draw(hnp.arrays(np.intp, draw(shapes(max_dims=2)),
                              elements=st.integers(-shp[0], shp[0] - 1)))
    elif kind == "bool":
        idx = draw(hnp.arrays(np.bool_, shp))
    elif kind == "ellipsis":
        idx = (Ellipsis, draw(st.integers(-shp[-1], shp[-1] - 1)))
    else:
        if nd < 3:
            idx = (draw(st.integers(-shp[0], shp[0] - 1)),)
        else:  # advanced indices separated by a slice: their axes go first
            i0 = np.array([0, shp[0] - 1])
            i2 = np.array([shp[2] - 1, 0])
            idx = (i0, slice(None), i2)
    return Call((x, idx))


# ---- network functions (dualnum/ops/network.py)
# Shapes stay tiny (N, C <= 2, H, W <= 5) so the table-driven tests stay fast.
def _offset(draw):
    """0, or a large shift: softmax-like functions must not overflow (float32 exp does
    above 88)."""
    return draw(st.sampled_from([0.0, 0.0, 200.0, -200.0]))


@st.composite
def logsumexp_call(draw):
    shp = draw(shapes())
    x = np.asarray(draw(_array(shp)) + _offset(draw))
    return Call((x,), {"axis": _axis_arg(draw, len(shp)), "keepdims": draw(st.booleans())})


@st.composite
def softmax_call(draw):
    shp = draw(shapes(min_dims=1))
    x = np.asarray(draw(_array(shp)) + _offset(draw))
    return Call((x,), {"axis": _axis_arg(draw, len(shp))})


@st.composite
def cross_entropy_call(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    logits = np.asarray(draw(_array((n, c))) + _offset(draw))
    labels = draw(hnp.arrays(np.intp, (n,), elements=st.integers(0, c - 1)))
    return Call((logits, labels))


@st.composite
def mse_call(draw):
    shp = draw(shapes())
    return Call((draw(_array(shp)), draw(_array(shp))))


def _int_or_pair(draw, lo, hi):
    if draw(st.booleans()):
        return draw(st.integers(lo, hi))
    return (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))


def _as_pair(v):
    return (v, v) if isinstance(v, int) else v


@st.composite
def conv2d_call(draw):
    n, c, o = (draw(st.integers(1, 2)) for _ in range(3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = _int_or_pair(draw, 1, 2)
    padding = _int_or_pair(draw, 0, 1)
    ph, pw = _as_pair(padding)
    h = draw(st.integers(max(1, kernel[0] - 2 * ph), 5))
    w = draw(st.integers(max(1, kernel[1] - 2 * pw), 5))
    x = draw(_array((n, c, h, w)))
    wt = draw(_array((o, c) + kernel))
    b = draw(st.one_of(st.none(), _array((o,))))
    return Call((x, wt, b), {"stride": stride, "padding": padding})


@st.composite
def pool_call(draw, distinct=False):
    """A pooling call on a (N, C, H, W) or (C, H, W) input. ``distinct=True`` draws
    values 0.5 apart, so no window has a tie (max_pool2d is not differentiable there)."""
    lead_shape = draw(st.sampled_from([(1,), (2,), (1, 1), (2, 1), (1, 2), (2, 2)]))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    shp = lead_shape + (h, w)
    kernel = draw(st.one_of(st.integers(1, min(h, w)),
                            st.tuples(st.integers(1, h), st.integers(1, w))))
    stride = draw(st.one_of(st.none(), st.integers(1, 3),
                            st.tuples(st.integers(1, 3), st.integers(1, 3))))
    if distinct:
        size = int(np.prod(shp))
        perm = draw(st.permutations(list(range(size))))
        x = (np.asarray(perm, dtype=np.float64) * 0.5 - size / 4).reshape(shp)
    else:
        x = draw(_array(shp))
    return Call((x, kernel), {"stride": stride})


from ._shape_domains import *  # noqa: E402,F401,F403
from ._linalg_domains import *  # noqa: E402,F401,F403  (np.linalg and numeric rules)
from ._array_api_domains import *  # noqa: E402,F401,F403
from ._special_domains import *  # noqa: E402,F401,F403
from ._conv_domains import *  # noqa: E402,F401,F403
