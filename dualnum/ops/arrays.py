"""Building and rearranging arrays: triangles and diagonals, repeating and tiling,
appending and inserting, stacking and splitting, rotations, differences and gradients,
evenly spaced ranges, selection, grids, and gathers along an axis.

All of these are linear in their array arguments (linspace's endpoints included), so each
tangent is the same op applied to the tangents. Axes are counted from the end so that
tangents keep their batch axes in front. Where NumPy's own op cannot take batch axes (the
position of an inserted block depends on the shapes), the tangent is a gather: the op is
applied once to an array of element indices, and the tangents are taken at those indices.

``np.put_along_axis`` and NumPy's other in-place writers refuse Duals with a pointer to a
functional form: a Dual is a value, and writing a tangent into a plain array would drop it.
``dn.put_along_axis`` returns the updated array instead (as ``jax.numpy.put_along_axis``
with ``inplace=False``).
"""
from __future__ import annotations

import operator

import numpy as np

from ..core.dual import apply
from ..core.rules import align, defjvp, lead, to_shape, trailing_axes
from .shape import _as_sequence, _fill, _transpose_jvp

_SHAPE = "shape"


def _flat(g, x):
    """Tangent ``g`` of ``x`` with the primal axes merged into one (batch axes kept)."""
    return np.reshape(g, lead(g, x) + (-1,))


def _dense(g, x, gl, dtype):
    """The tangent of argument ``x`` as an array with batch axes ``gl``: zeros for a
    constant, and a stacked array for a Python list opened by the rule machinery."""
    if isinstance(g, list):
        parts = [np.zeros(gl + np.shape(e), dtype) if t is None else t for t, e in zip(g, x)]
        return np.stack(parts, axis=len(gl))
    if g is None:
        return np.zeros(gl + np.shape(x), dtype)
    return g


def _batch(tangents, primals):
    """Batch axes and dtype of the first tangent that is not a symbolic zero."""
    for g, x in zip(tangents, primals):
        if isinstance(g, list):
            for t, e in zip(g, x):
                if t is not None:
                    return lead(t, e), t.dtype
        elif g is not None:
            return lead(g, x), g.dtype
    raise AssertionError("no tangent")  # tangent rules only run with one


def _gather(sources, index):
    """Tangent by gather: ``sources`` are (dense tangent, primal shape) pairs sharing batch
    axes; ``index`` (an int array of the output's shape) holds positions in the
    concatenation of their flattened primals."""
    flat = [np.reshape(g, g.shape[: g.ndim - len(shp)] + (-1,)) for g, shp in sources]
    src = flat[0] if len(flat) == 1 else np.concatenate(flat, axis=-1)
    return np.take(src, index, axis=-1)


# ------------------------------------------------------------------ triangles, diagonals
def _tri_jvp(fn):
    def jvp(g, y, m, k=0):
        """ẏ = tril(ṁ, k) (or triu)"""
        if np.ndim(m) < 2:  # a vector is broadcast to the rows first, as NumPy does
            g = np.broadcast_to(np.expand_dims(g, -2), lead(g, m) + np.shape(y))
        return fn(g, k)

    return jvp


for _f in (np.tril, np.triu):
    defjvp(_f, _tri_jvp(_f), kind=_SHAPE, domain=lambda s: s.tri_call())


def _diag_matrix(g, n, k):
    """The tangent of diag(v, k) for a vector v of length n: (..., n + |k|, n + |k|)."""
    gl = g.shape[:-1]
    m = np.expand_dims(g, -1) * np.eye(n, dtype=g.dtype)
    pad = [(0, k), (k, 0)] if k >= 0 else [(-k, 0), (0, -k)]
    return np.pad(m, [(0, 0)] * len(gl) + pad)


def _diag_jvp(g, y, v, k=0):
    """ẏ = diag(v̇, k)"""
    k = operator.index(k)
    if np.ndim(v) == 2:
        return np.diagonal(g, k, -2, -1)
    return _diag_matrix(g, np.shape(v)[0], k)


defjvp(np.diag, _diag_jvp, kind=_SHAPE, domain=lambda s: s.diag_v_call())


def _diagflat_jvp(g, y, v, k=0):
    """ẏ = diagflat(v̇, k)"""
    return _diag_matrix(_flat(g, v), np.size(v), operator.index(k))


defjvp(np.diagflat, _diagflat_jvp, kind=_SHAPE, domain=lambda s: s.diagflat_call())


# ------------------------------------------------------------------ repeating, tiling
def _on_axis(fn, g, x, arg, axis):
    """``fn(g, arg, axis)`` for an op along one axis of ``x``, or along its raveled
    elements for ``axis=None``, with ``g``'s batch axes kept in front."""
    if axis is None:
        return fn(_flat(g, x), arg, axis=-1)
    return fn(g, arg, axis=trailing_axes(axis, np.ndim(x)))


def _repeat_jvp(g, y, a, repeats, axis=None):
    """ẏ = repeat(ȧ, repeats, axis)"""
    return _on_axis(np.repeat, g, a, repeats, axis)


defjvp(np.repeat, _repeat_jvp, kind=_SHAPE, domain=lambda s: s.repeat_call())


def _tile_jvp(g, y, A, reps):
    """ẏ = tile(Ȧ, reps)"""
    reps = tuple(int(r) for r in np.atleast_1d(reps))
    nd = max(np.ndim(A), len(reps))
    gl = lead(g, A)
    g = np.reshape(g, gl + (1,) * (nd - np.ndim(A)) + np.shape(A))
    return np.tile(g, (1,) * (len(gl) + nd - len(reps)) + reps)


defjvp(np.tile, _tile_jvp, kind=_SHAPE, domain=lambda s: s.tile_call())


def _resize_jvp(g, y, a, new_shape):
    """ẏ = resize(ȧ): the elements of ȧ repeated in order"""
    if np.size(a) == 0:
        return None  # NumPy fills with zeros, constants
    index = np.resize(np.arange(np.size(a)), new_shape)
    return np.take(_flat(g, a), index, axis=-1)


defjvp(np.resize, _resize_jvp, kind=_SHAPE, domain=lambda s: s.resize_call())


def _copy_primal(a, order="K", subok=False):
    return np.copy(a, order=order)


def _copy_jvp(g, y, a, order="K", subok=False):
    """ẏ = ȧ"""
    return g


defjvp(np.copy, _copy_jvp, kind=_SHAPE, primal=_copy_primal,
       domain=lambda s: s.one_array_call())


# ------------------------------------------------------------------ append, insert, delete
def _append_tangent(out, primals, tangents, kwargs):
    """ẏ = append(ȧrr, v̇alues, axis), zeros for a constant"""
    arr, values = primals[0], primals[1]
    axis = primals[2] if len(primals) > 2 else kwargs.get("axis")
    gl, dt = _batch(tangents[:2], primals[:2])
    ga = _dense(tangents[0], arr, gl, dt)
    gv = _dense(tangents[1], values, gl, dt)
    if axis is None:
        return np.concatenate([np.reshape(ga, gl + (-1,)), np.reshape(gv, gl + (-1,))], axis=-1)
    return np.concatenate([ga, gv], axis=trailing_axes(axis, np.ndim(out)))


defjvp(np.append, kind=_SHAPE, tangent=_append_tangent, argnames=("arr", "values"),
       domain=lambda s: s.append_call())


def _insert_tangent(out, primals, tangents, kwargs):
    """ẏ = insert(ȧrr, obj, v̇alues, axis), by gather"""
    arr, obj, values = primals[0], primals[1], primals[2]
    axis = primals[3] if len(primals) > 3 else kwargs.get("axis")
    if tangents[1] is not None:
        raise TypeError("insert: the positions obj are indices, not differentiable")
    gl, dt = _batch((tangents[0], tangents[2]), (arr, values))
    n = np.size(arr)
    from_arr = np.insert(np.arange(n).reshape(np.shape(arr)), obj,
                         np.full(np.shape(values), -1), axis=axis)
    from_values = np.insert(np.full(np.shape(arr), -1), obj,
                            np.arange(np.size(values)).reshape(np.shape(values)), axis=axis)
    index = np.where(from_arr >= 0, from_arr, n + from_values)
    return _gather([(_dense(tangents[0], arr, gl, dt), np.shape(arr)),
                    (_dense(tangents[2], values, gl, dt), np.shape(values))], index)


defjvp(np.insert, kind=_SHAPE, tangent=_insert_tangent, argnames=("arr", "obj", "values"),
       domain=lambda s: s.insert_call())


def _delete_jvp(g, y, arr, obj, axis=None):
    """ẏ = delete(ȧrr, obj, axis)"""
    return _on_axis(np.delete, g, arr, obj, axis)


defjvp(np.delete, _delete_jvp, kind=_SHAPE, domain=lambda s: s.delete_call())


# ------------------------------------------------------------------ at least n dims
def _atleast_tangent(outs, primals, tangents, kwargs):
    """ẏ_i = ẋ_i with the same unit axes added"""
    single = not isinstance(outs, (list, tuple))
    res = [None if g is None else np.reshape(g, lead(g, x) + np.shape(o))
           for o, x, g in zip([outs] if single else outs, primals, tangents)]
    return res[0] if single else res


for _f in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    defjvp(_f, kind=_SHAPE, multi_output=True, tangent=_atleast_tangent,
           domain=lambda s: s.atleast_call())


# ------------------------------------------------------------------ stacking
def _column_stack_jvp(gs, y, tup):
    """ẏ = column_stack(ẋ_1, ẋ_2, ...)"""
    gs, tup = _as_sequence(gs, tup)
    gs, gl = _fill(gs, tup)
    cols = [np.reshape(g, gl + (np.size(x), 1)) if np.ndim(x) < 2 else g
            for g, x in zip(gs, tup)]
    return np.concatenate(cols, axis=1 - (cols[0].ndim - len(gl)))


def _shape_3d(shape):
    """np.atleast_3d's shape for an array of ``shape``."""
    return {0: (1, 1, 1), 1: (1,) + tuple(shape) + (1,), 2: tuple(shape) + (1,)}.get(
        len(shape), tuple(shape))


def _dstack_jvp(gs, y, tup):
    """ẏ = dstack(ẋ_1, ẋ_2, ...)"""
    gs, tup = _as_sequence(gs, tup)
    gs, gl = _fill(gs, tup)
    deep = [np.reshape(g, gl + _shape_3d(np.shape(x))) for g, x in zip(gs, tup)]
    return np.concatenate(deep, axis=2 - (deep[0].ndim - len(gl)))


defjvp(np.column_stack, _column_stack_jvp, kind=_SHAPE, seq_arg=True,
       domain=lambda s: s.column_stack_call())
defjvp(np.dstack, _dstack_jvp, kind=_SHAPE, seq_arg=True, domain=lambda s: s.dstack_call())
# np.row_stack (deprecated) calls np.vstack, whose rule it reaches through dispatch.


def _block_spec(x, leaves):
    if isinstance(x, list):
        return [_block_spec(e, leaves) for e in x]
    if isinstance(x, tuple):
        raise TypeError("np.block takes nested lists; a tuple is not allowed (as in NumPy)")
    leaves.append(x)
    return len(leaves) - 1


class _BlockSpec:
    """The nesting of np.block's lists, with leaf positions in place of the arrays."""

    def __init__(self, nest):
        self.nest = nest

    def __repr__(self):
        return f"_BlockSpec({self.nest!r})"


def _block_normalize(args, kwargs):
    # np.block's arrays may be nested lists; the rule machinery opens one level of a
    # list, so the leaves go into one flat list with their nesting kept beside them.
    if len(args) == 2 and isinstance(args[1], _BlockSpec):
        return args, kwargs
    if kwargs or len(args) != 1:
        raise TypeError("np.block(arrays) takes one argument, a nested list of arrays")
    leaves = []
    nest = _block_spec(args[0], leaves)
    return (leaves, _BlockSpec(nest)), {}


def _unspec(nest, leaves):
    if isinstance(nest, list):
        return [_unspec(e, leaves) for e in nest]
    return leaves[nest]


def _block_primal(leaves, spec):
    return np.block(_unspec(spec.nest, leaves))


def _depth(nest):
    return 1 + _depth(nest[0]) if isinstance(nest, list) and nest else 0


def _block_tangent(out, primals, tangents, kwargs):
    """ẏ = block(ẋ_1, ẋ_2, ...), each promoted to the result's rank first"""
    leaves, spec = primals
    gs = tangents[0]
    gl, dt = _batch([gs], [leaves])
    rank = max([_depth(spec.nest)] + [np.ndim(x) for x in leaves])
    parts = [np.reshape(_dense(g, x, gl, dt), gl + (1,) * (rank - np.ndim(x)) + np.shape(x))
             for g, x in zip(gs, leaves)]
    return np.block(_unspec(spec.nest, parts))


defjvp(np.block, kind=_SHAPE, tangent=_block_tangent, primal=_block_primal,
       normalize=_block_normalize, domain=lambda s: s.block_call())


# ------------------------------------------------------------------ splitting
def _split_along(fn, axis_of):
    def tangent(outs, primals, tangents, kwargs):
        """ẏ_i = split(ẋ)_i"""
        a, ios = primals[0], primals[1]
        return np.split(tangents[0], ios, axis=trailing_axes(axis_of(np.ndim(a)), np.ndim(a)))

    return tangent


for _f, _axis in ((np.vsplit, lambda nd: 0), (np.hsplit, lambda nd: 1 if nd > 1 else 0),
                  (np.dsplit, lambda nd: 2)):
    defjvp(_f, kind=_SHAPE, multi_output=True, tangent=_split_along(_f, _axis),
           argnames=("ary", "indices_or_sections"),
           domain=(lambda name: lambda s: s.nsplit_call(name))(_f.__name__))


# ------------------------------------------------------------------ axes, rotations, flips
def _rollaxis_perm(nd, axis, start):
    axis = operator.index(axis) % nd
    start = operator.index(start)
    start = start + nd if start < 0 else start
    axes = list(range(nd))
    axes.remove(axis)
    axes.insert(start - 1 if axis < start else start, axis)
    return axes


def _rollaxis_jvp(g, y, a, axis, start=0):
    """ẏ = rollaxis(ȧ, axis, start)"""
    return _transpose_jvp(g, y, a, _rollaxis_perm(np.ndim(a), axis, start))


defjvp(np.rollaxis, _rollaxis_jvp, kind=_SHAPE, domain=lambda s: s.rollaxis_call())


def _rot90_jvp(g, y, m, k=1, axes=(0, 1)):
    """ẏ = rot90(ṁ, k, axes)"""
    return np.rot90(g, k, axes=trailing_axes(tuple(axes), np.ndim(m)))


defjvp(np.rot90, _rot90_jvp, kind=_SHAPE, domain=lambda s: s.rot90_call())


def _fliplr_jvp(g, y, m):
    """ẏ = fliplr(ṁ)"""
    return np.flip(g, axis=trailing_axes(1, np.ndim(m)))


def _flipud_jvp(g, y, m):
    """ẏ = flipud(ṁ)"""
    return np.flip(g, axis=trailing_axes(0, np.ndim(m)))


defjvp(np.fliplr, _fliplr_jvp, kind=_SHAPE, domain=lambda s: s.one_array_call(min_dims=2))
defjvp(np.flipud, _flipud_jvp, kind=_SHAPE, domain=lambda s: s.one_array_call(min_dims=1))


# ------------------------------------------------------------------ differences, gradients
def _absent(x):
    return x is None or x is np._NoValue


def _diff_primal(a, n=None, axis=None, prepend=None, append=None):
    kw = {}
    if not _absent(prepend):
        kw["prepend"] = prepend
    if not _absent(append):
        kw["append"] = append
    return np.diff(a, 1 if n is None else n, -1 if axis is None else axis, **kw)


def _diff_tangent(out, primals, tangents, kwargs):
    """ẏ = diff(concatenate(ṗrepend, ȧ, ȧppend), n, axis)"""
    a = primals[0]
    n, axis, prepend, append = (list(primals[1:]) + [None] * 4)[:4]
    n = 1 if n is None else n
    axis = -1 if axis is None else axis
    if any(t is not None for t in tangents[1:3]):
        raise TypeError("diff: n and axis are integers, not differentiable")
    nd = np.ndim(a)
    ax = trailing_axes(axis, nd)
    gl, dt = _batch([tangents[0]] + list(tangents[3:]), [a] + list(primals[3:]))
    parts = [_dense(tangents[0], a, gl, dt)]
    if n == 0:
        return parts[0]  # NumPy returns the array itself, without prepend or append
    for i, x in ((3, prepend), (4, append)):
        if _absent(x):
            continue
        g = tangents[i] if i < len(tangents) else None
        # A scalar (or 0-d) prepend/append is broadcast to one slice along the axis.
        shape = list(np.shape(a))
        shape[ax] = 1
        shape = tuple(shape) if np.ndim(x) == 0 else np.shape(x)
        gx = np.zeros(gl + shape, dt) if g is None else \
            np.broadcast_to(align(g, np.ndim(x), len(shape)), gl + shape)
        parts.insert(0 if i == 3 else len(parts), gx)
    whole = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=ax)
    return np.diff(whole, n, axis=ax)


defjvp(np.diff, kind=_SHAPE, tangent=_diff_tangent, primal=_diff_primal,
       argnames=("a", "n", "axis", "prepend", "append"), domain=lambda s: s.diff_call())


def _gradient_tangent(out, primals, tangents, kwargs):
    """ẏ = gradient(ḟ, spacing): linear in f, for spacing held constant"""
    f = primals[0]
    if any(t is not None for t in tangents[1:]):
        raise TypeError("gradient: the spacing (scalars or coordinate arrays) is not "
                        "differentiable; pass plain arrays for it")
    g = tangents[0]
    if g is None:
        return None if not isinstance(out, (list, tuple)) else [None] * len(out)
    axes = trailing_axes(kwargs.get("axis"), np.ndim(f))
    res = np.gradient(g, *primals[1:], axis=axes, edge_order=kwargs.get("edge_order", 1))
    return list(res) if isinstance(out, (list, tuple)) else res


defjvp(np.gradient, kind=_SHAPE, multi_output=True, tangent=_gradient_tangent,
       domain=lambda s: s.gradient_call(),
       note="spacing is not differentiated (constant coordinates)")


# ------------------------------------------------------------------ evenly spaced ranges
def _fractions(num, endpoint):
    """t_i with y_i = start + (stop - start) t_i, as linspace computes them."""
    num = operator.index(num)
    div = num - 1 if endpoint else num
    return np.arange(num, dtype=np.float64) / div if div > 0 else np.zeros(num)


def _spaced(g, x, w, y, axis):
    """Tangent of an endpoint ``x`` times weights ``w`` along the new axis of ``y``."""
    gl = lead(g, x)
    rest = y.ndim - 1
    ga = align(g, np.ndim(x), rest)
    term = np.expand_dims(ga, len(gl)) * np.reshape(w, (-1,) + (1,) * rest)
    term = np.moveaxis(term, len(gl), len(gl) + operator.index(axis) % y.ndim)
    return to_shape(term, gl, y.shape)


def _no_int(name, dtype):
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"{name}(dtype={dtype}) would drop the tangent of a Dual")


def _linspace_primal(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
                     **kw):
    _no_int("linspace", dtype)
    return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype,
                       axis=axis, **kw)


def _space_params(primals, kwargs, names):
    """The arguments after start and stop, positional or keyword, with NumPy's defaults."""
    given = dict(zip(names, primals[2:]))
    return [kwargs.get(n, _SPACE_DEFAULTS[n]) if given.get(n) is None else given[n]
            for n in names]


_SPACE_DEFAULTS = {"num": 50, "endpoint": True, "retstep": False, "base": 10.0, "dtype": None,
                   "axis": 0}


def _endpoints_tangent(tangents, start, stop, num, endpoint, y, axis, relative=False):
    """Σ over the endpoints of ẋ (or ẋ / x) times its weight, 1 - t or t, along the axis."""
    t = _fractions(num, endpoint)
    total = None
    for g, x, w in ((tangents[0], start, 1 - t), (tangents[1], stop, t)):
        if g is not None:
            term = _spaced(g / x if relative else g, x, w, y, axis)
            total = term if total is None else total + term
    return total


def _linspace_tangent(out, primals, tangents, kwargs):
    """ẏ = (1 - t) ṡtart + t ṡtop, t = i / (num - 1)"""
    start, stop = primals[0], primals[1]
    num, endpoint, _, _, axis = _space_params(
        primals, kwargs, ("num", "endpoint", "retstep", "dtype", "axis"))
    many = isinstance(out, (list, tuple))
    total = _endpoints_tangent(tangents, start, stop, num, endpoint, out[0] if many else out,
                               axis)
    if not many:
        return total
    div = num - 1 if endpoint else num
    step = None
    for g, x, sign in ((tangents[0], start, -1), (tangents[1], stop, 1)):
        if g is not None:
            s = to_shape(align(g, np.ndim(x), np.ndim(out[1])) * (sign / div), lead(g, x),
                         np.shape(out[1]))
            step = s if step is None else step + s
    return [total, step]


defjvp(np.linspace, kind=_SHAPE, multi_output=True, tangent=_linspace_tangent,
       primal=_linspace_primal, argnames=("start", "stop"),
       domain=lambda s: s.linspace_call(), note="linear in start and stop")


def _geomspace_primal(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    _no_int("geomspace", dtype)
    return np.geomspace(start, stop, num, endpoint=endpoint, dtype=dtype, axis=axis)


def _geomspace_tangent(out, primals, tangents, kwargs):
    """ẏ = y ((1 - t) ṡtart / start + t ṡtop / stop)"""
    num, endpoint, _, axis = _space_params(primals, kwargs, ("num", "endpoint", "dtype", "axis"))
    return out * _endpoints_tangent(tangents, primals[0], primals[1], num, endpoint, out, axis,
                                    relative=True)


defjvp(np.geomspace, kind=_SHAPE, tangent=_geomspace_tangent, primal=_geomspace_primal,
       argnames=("start", "stop"),
       domain=lambda s: s.geomspace_call(), note="start and stop nonzero, of one sign")


def _logspace_primal(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    _no_int("logspace", dtype)
    return np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype, axis=axis)


def _logspace_tangent(out, primals, tangents, kwargs):
    """ẏ = y ln(base) ((1 - t) ṡtart + t ṡtop)"""
    if len(tangents) > 4 and tangents[4] is not None:
        raise TypeError("logspace: base is not differentiable; use "
                        "base ** np.linspace(start, stop) for a differentiable base")
    num, endpoint, base, _, axis = _space_params(
        primals, kwargs, ("num", "endpoint", "base", "dtype", "axis"))
    lb = np.log(np.asarray(base, np.float64))
    if lb.ndim:
        lb = np.expand_dims(lb, operator.index(axis) % out.ndim - out.ndim)
    total = _endpoints_tangent(tangents, primals[0], primals[1], num, endpoint, out, axis)
    return total * (out * lb)


defjvp(np.logspace, kind=_SHAPE, tangent=_logspace_tangent, primal=_logspace_primal,
       argnames=("start", "stop"),
       domain=lambda s: s.logspace_call(), note="base is a constant")


# ------------------------------------------------------------------ choosing, grids
def _select_tangent(out, primals, tangents, kwargs):
    """ẏ = select(conditions, ċhoices, ḋefault)"""
    conds, choices = primals[0], primals[1]
    default = primals[2] if len(primals) > 2 else 0
    if tangents[0] is not None:
        raise TypeError("select: the conditions are booleans, not differentiable")
    gc = tangents[1] if isinstance(tangents[1], list) else [tangents[1]] * len(choices)
    gd = tangents[2] if len(tangents) > 2 else None
    gl, dt = _batch([gc, gd], [choices, default])
    nd = np.ndim(out)
    parts = [align(np.zeros(gl + np.shape(c), dt) if g is None else g, np.ndim(c), nd)
             for g, c in zip(gc, choices)]
    gd = align(np.zeros(gl + np.shape(default), dt) if gd is None else gd, np.ndim(default), nd)
    return to_shape(np.select(conds, parts, gd), gl, np.shape(out))


defjvp(np.select, kind=_SHAPE, tangent=_select_tangent,
       argnames=("condlist", "choicelist", "default"), domain=lambda s: s.select_call())


def _meshgrid_tangent(outs, primals, tangents, kwargs):
    """ẏ_i = ẋ_i broadcast along the other axes of the grid"""
    n = len(primals)
    sparse = kwargs.get("sparse", False)
    res = []
    for i, (x, g, o) in enumerate(zip(primals, tangents, outs)):
        if g is None:
            res.append(None)
            continue
        pos = 1 - i if kwargs.get("indexing", "xy") == "xy" and n > 1 and i < 2 else i
        shape = [1] * n
        shape[pos] = np.size(x)
        gl = lead(g, x)
        t = np.reshape(g, gl + tuple(shape))
        res.append(t if sparse else to_shape(t, gl, np.shape(o)))
    return res


defjvp(np.meshgrid, kind=_SHAPE, multi_output=True, tangent=_meshgrid_tangent,
       domain=lambda s: s.meshgrid_call())


def _broadcast_arrays_tangent(outs, primals, tangents, kwargs):
    """ẏ_i = broadcast_to(ẋ_i, shape)"""
    return [None if g is None else
            to_shape(align(g, np.ndim(x), np.ndim(o)), lead(g, x), np.shape(o))
            for x, g, o in zip(primals, tangents, outs)]


defjvp(np.broadcast_arrays, kind=_SHAPE, multi_output=True,
       tangent=_broadcast_arrays_tangent, domain=lambda s: s.broadcast_arrays_call())


# ------------------------------------------------------------------ along an axis
def _along(g, x, indices, axis):
    """(tangent, indices, axis) for the *_along_axis ops with batch axes in front."""
    if axis is None:
        g, nd = _flat(g, x), 1
        ax = -1
    else:
        nd = np.ndim(x)
        ax = trailing_axes(axis, nd)
    nb = g.ndim - nd
    return g, np.reshape(indices, (1,) * nb + np.shape(indices)), ax


def _take_along_axis_jvp(g, y, arr, indices, axis=-1):
    """ẏ = take_along_axis(ȧrr, indices, axis)"""
    g, idx, ax = _along(g, arr, indices, axis)
    return np.take_along_axis(g, idx, axis=ax)


defjvp(np.take_along_axis, _take_along_axis_jvp, None, kind=_SHAPE,
       argnames=("arr", "indices"), domain=lambda s: s.take_along_axis_call())


def _put_along_axis_primal(arr, indices, values, axis):
    out = np.array(arr, copy=True)
    np.put_along_axis(out, indices, values, axis)
    return out


def put_along_axis(arr, indices, values, axis):
    """``arr`` with ``values`` written at ``indices`` along ``axis``, as a new array.

    The functional form of ``np.put_along_axis`` (which writes into ``arr`` in place and
    returns None; a Dual is a value, so it cannot be written into). Same as
    ``jax.numpy.put_along_axis(..., inplace=False)``. Differentiable in ``arr`` and
    ``values``; where an index repeats, the last value written wins, for the tangent too.

    >>> import numpy as np, dualnum as dn
    >>> x = dn.Dual(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 1.0, 1.0]]))
    >>> y = dn.put_along_axis(x, np.array([[0]]), 0.0, axis=1)
    >>> y.primal, y.tangent
    (array([[0., 2., 3.]]), array([[0., 1., 1.]]))
    """
    return apply(_PUT_ALONG_AXIS, (arr, indices, values, axis), {})


def _put_along_axis_tangent(out, primals, tangents, kwargs):
    """ẏ = put_along_axis(ȧrr, indices, v̇alues, axis)"""
    arr, indices, values, axis = primals
    if tangents[1] is not None:
        raise TypeError("put_along_axis: indices are not differentiable")
    gl, dt = _batch((tangents[0], tangents[2]), (arr, values))
    ga, idx, ax = _along(_dense(tangents[0], arr, gl, dt), arr, indices, axis)
    gv = tangents[2]
    if gv is None:
        gv = np.zeros((), dt)
    else:
        gv = align(gv, np.ndim(values), np.ndim(indices))
        gv = np.reshape(gv, gl + np.shape(gv)[len(gl):])
    return np.reshape(put_along_axis(ga, idx, gv, ax), gl + np.shape(out))


_PUT_ALONG_AXIS = defjvp(put_along_axis, kind=_SHAPE, tangent=_put_along_axis_tangent,
                         primal=_put_along_axis_primal,
                         argnames=("arr", "indices", "values", "axis"),
                         domain=lambda s: s.put_along_axis_call(),
                         note="repeated indices: the last value written wins")


# ------------------------------------------------------------------ in-place writers
def _refuse(fn, instead):
    def primal(*args, **kwargs):
        raise TypeError(
            f"np.{fn.__name__} writes into its first argument in place. A Dual is a value "
            f"(it cannot be written into), and a plain array cannot hold a tangent. {instead}"
        )

    return primal


_INPLACE = {
    np.put_along_axis: "Use dn.put_along_axis(arr, indices, values, axis), which returns "
                       "the updated array (as jax.numpy.put_along_axis(..., inplace=False)).",
    np.put: "Use dn.put_along_axis on the raveled array, or np.where / np.concatenate.",
    np.place: "Use np.where(mask, values, arr) (values broadcast to arr's shape).",
    np.putmask: "Use np.where(mask, values, arr).",
    np.copyto: "Use the source itself (or np.where(where, src, dst)) as the new value.",
    np.fill_diagonal: "Use np.where(np.eye(n, m, dtype=bool), value, a).",
}
for _f, _instead in _INPLACE.items():
    defjvp(_f, kind="inplace", primal=_refuse(_f, _instead), name=f"np.{_f.__name__}",
           note="refused: writes in place")

__all__ = ["put_along_axis"]
del _f, _instead
