"""Shape, joining, indexing and padding. All of these are linear: the tangent goes
through the same op, with axes counted from the end so batch axes stay in front."""
from __future__ import annotations

import operator

import numpy as np

from ..core.rules import align, defjvp, lead, trailing_axes

_SHAPE = "shape"


def _reshape_primal(a, shape=None, order="C", *, newshape=None, copy=None):
    if shape is None:
        shape = newshape
    if shape is None:
        raise TypeError("reshape() needs a shape")
    return np.reshape(a, shape, order=order)


def _reshape_jvp(g, y, a, shape=None, order="C", *, newshape=None, copy=None):
    gl = lead(g, a)
    if order in ("F", "A") and not (order == "A" and np.asarray(a).flags.c_contiguous):
        # Fortran order runs the first axis fastest, so batch axes go to the back.
        nb = len(gl)
        gm = np.moveaxis(g, list(range(nb)), list(range(-nb, 0))) if nb else g
        r = np.reshape(gm, y.shape + gl, order="F")
        return np.moveaxis(r, list(range(-nb, 0)), list(range(nb))) if nb else r
    return np.reshape(g, gl + y.shape)


defjvp(np.reshape, _reshape_jvp, kind=_SHAPE, primal=_reshape_primal,
       domain=lambda s: s.reshape_call(), text="ẏ = reshape(ẋ)")


def _transpose_jvp(g, y, a, axes=None):
    nd = np.ndim(a)
    nb = g.ndim - nd
    if axes is None:
        axes = range(nd - 1, -1, -1)
    perm = list(range(nb)) + [nb + (operator.index(x) % nd if nd else 0) for x in axes]
    return np.transpose(g, perm)


defjvp(np.transpose, _transpose_jvp, kind=_SHAPE, domain=lambda s: s.transpose_call(),
       text="ẏ = transpose(ẋ)")


def _swapaxes_jvp(g, y, a, axis1, axis2):
    nd = np.ndim(a)
    return np.swapaxes(g, trailing_axes(axis1, nd), trailing_axes(axis2, nd))


defjvp(np.swapaxes, _swapaxes_jvp, kind=_SHAPE, domain=lambda s: s.swapaxes_call(),
       text="ẏ = swapaxes(ẋ)")


def _moveaxis_jvp(g, y, a, source, destination):
    nd = np.ndim(a)
    return np.moveaxis(g, trailing_axes(source, nd), trailing_axes(destination, nd))


defjvp(np.moveaxis, _moveaxis_jvp, kind=_SHAPE, domain=lambda s: s.moveaxis_call(),
       text="ẏ = moveaxis(ẋ)")


def _squeeze_jvp(g, y, a, axis=None):
    nd = np.ndim(a)
    if axis is None:
        # Not np.squeeze(g): a batch of K = 1 tangents must keep its batch axis.
        axis = tuple(i - nd for i, n in enumerate(np.shape(a)) if n == 1)
    return np.squeeze(g, axis=trailing_axes(axis, nd))


defjvp(np.squeeze, _squeeze_jvp, kind=_SHAPE, domain=lambda s: s.squeeze_call(),
       text="ẏ = squeeze(ẋ)")


def _expand_dims_jvp(g, y, a, axis):
    return np.expand_dims(g, trailing_axes(axis, y.ndim))


defjvp(np.expand_dims, _expand_dims_jvp, kind=_SHAPE,
       domain=lambda s: s.expand_dims_call(), text="ẏ = expand_dims(ẋ)")


def _ravel_primal(a, order="C"):
    if order != "C":
        raise TypeError(f"ravel(order={order!r}) is not supported with Duals; use reshape")
    return np.ravel(a)


defjvp(np.ravel, lambda g, y, a, order="C": np.reshape(g, lead(g, a) + (-1,)),
       kind=_SHAPE, primal=_ravel_primal, domain=lambda s: s.one_array_call(),
       text="ẏ = ravel(ẋ)")


def _broadcast_to_jvp(g, y, a, shape, subok=False):
    return np.broadcast_to(align(g, np.ndim(a), y.ndim), lead(g, a) + y.shape)


defjvp(np.broadcast_to, _broadcast_to_jvp, kind=_SHAPE,
       domain=lambda s: s.broadcast_to_call(), text="ẏ = broadcast_to(ẋ)")


# ------------------------------------------------------------------ joining, splitting
def _as_sequence(gs, ps):
    """A sequence argument given as one array (np.vstack(x)) is the sequence of its rows:
    split its tangent the same way, keeping batch axes in front."""
    if isinstance(ps, (list, tuple)):
        return gs, ps
    nb = gs.ndim - np.ndim(ps)
    return [gs[(slice(None),) * nb + (i,)] for i in range(len(ps))], list(ps)


def _fill(gs, ps):
    """Tangents of a sequence, with materialised zeros for the constant members."""
    gl = next(lead(g, p) for g, p in zip(gs, ps) if g is not None)
    dt = next(g.dtype for g in gs if g is not None)
    return [np.zeros(gl + np.shape(p), dt) if g is None else g for g, p in zip(gs, ps)], gl


def _concat_jvp(gs, y, arrays, axis=0, dtype=None, casting="same_kind"):
    gs, arrays = _as_sequence(gs, arrays)
    gs, gl = _fill(gs, arrays)
    if axis is None:
        return np.concatenate([np.reshape(g, gl + (-1,)) for g in gs], axis=-1)
    return np.concatenate(gs, axis=trailing_axes(axis, np.ndim(arrays[0])))


def _stack_jvp(gs, y, arrays, axis=0, dtype=None, casting="same_kind"):
    gs, arrays = _as_sequence(gs, arrays)
    gs, gl = _fill(gs, arrays)
    return np.stack(gs, axis=trailing_axes(axis, y.ndim))


def _hstack_jvp(gs, y, tup, dtype=None, casting="same_kind"):
    gs, tup = _as_sequence(gs, tup)
    gs, gl = _fill(gs, tup)
    nb = len(gl)
    gs = [np.reshape(g, gl + (1,)) if g.ndim == nb else g for g in gs]
    nd = gs[0].ndim - nb
    return np.concatenate(gs, axis=-1 if nd == 1 else 1 - nd)


def _vstack_jvp(gs, y, tup, dtype=None, casting="same_kind"):
    gs, tup = _as_sequence(gs, tup)
    gs, gl = _fill(gs, tup)
    nb = len(gl)
    gs = [np.reshape(g, gl + (1,) * (2 - (g.ndim - nb)) + g.shape[nb:])
          if g.ndim - nb < 2 else g for g in gs]
    return np.concatenate(gs, axis=nb - gs[0].ndim)


for _f, _j, _dom in ((np.concatenate, _concat_jvp, "concat_call"),
                     (np.stack, _stack_jvp, "stack_call"),
                     (np.hstack, _hstack_jvp, "hstack_call"),
                     (np.vstack, _vstack_jvp, "vstack_call")):
    defjvp(_f, _j, kind=_SHAPE, seq_arg=True,
           domain=(lambda name: lambda s: getattr(s, name)())(_dom),
           text=f"ẏ = {_f.__name__}(ẋ_1, ẋ_2, ...)")


def _split_tangent(fn):
    def tangent(outs, primals, tangents, kwargs):
        a, ios = primals[0], primals[1]
        axis = primals[2] if len(primals) > 2 else kwargs.get("axis", 0)
        return fn(tangents[0], ios, axis=trailing_axes(axis, np.ndim(a)))

    return tangent


for _f in (np.split, np.array_split):
    defjvp(_f, kind=_SHAPE, multi_output=True, tangent=_split_tangent(_f),
           domain=lambda s: s.split_call(), text="ẏ_i = split(ẋ)_i")


# ------------------------------------------------------------------ selecting
def _take_primal(a, indices, axis=None, out=None, mode="raise"):
    if out is not None:
        raise TypeError("take(out=...) is not supported with Duals")
    return np.take(a, indices, axis=axis, mode=mode)


def _take_jvp(g, y, a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        return np.take(np.reshape(g, lead(g, a) + (-1,)), indices, axis=-1, mode=mode)
    return np.take(g, indices, axis=trailing_axes(axis, np.ndim(a)), mode=mode)


defjvp(np.take, _take_jvp, kind=_SHAPE, primal=_take_primal,
       domain=lambda s: s.take_call(), text="ẏ = take(ẋ)")


def _flip_jvp(g, y, m, axis=None):
    return np.flip(g, axis=trailing_axes(axis, np.ndim(m)))


defjvp(np.flip, _flip_jvp, kind=_SHAPE, domain=lambda s: s.axis_call(none=True),
       text="ẏ = flip(ẋ)")


def _roll_jvp(g, y, a, shift, axis=None):
    if axis is None:
        gl = lead(g, a)
        return np.reshape(np.roll(np.reshape(g, gl + (-1,)), shift, axis=-1), g.shape)
    return np.roll(g, shift, axis=trailing_axes(axis, np.ndim(a)))


defjvp(np.roll, _roll_jvp, kind=_SHAPE, domain=lambda s: s.roll_call(),
       text="ẏ = roll(ẋ)")

_LINEAR_PAD = {"constant", "edge", "reflect", "symmetric", "wrap", "mean", "linear_ramp",
               "empty"}


def _pad_primal(array, pad_width, mode="constant", **kw):
    if not isinstance(mode, str) or mode not in _LINEAR_PAD - {"empty"}:
        raise TypeError(f"pad(mode={mode!r}) has no dualnum rule; supported modes: "
                        f"{sorted(_LINEAR_PAD - {'empty'})}")
    return np.pad(array, pad_width, mode=mode, **kw)


def _pad_jvp(g, y, array, pad_width, mode="constant", **kw):
    nd = np.ndim(array)
    nb = g.ndim - nd
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (nd, 2)) if nd else np.zeros((0, 2), np.intp)
    pw = np.concatenate([np.zeros((nb, 2), np.intp), pw]).tolist()
    if mode == "constant":
        return np.pad(g, pw)  # the constant does not move with x
    if mode == "linear_ramp":
        return np.pad(g, pw, mode=mode)  # ramps from the edge's tangent to 0
    kw.pop("constant_values", None)
    kw.pop("end_values", None)
    if mode == "mean" and kw.get("stat_length") is not None:
        sl = np.broadcast_to(np.asarray(kw["stat_length"]), (nd, 2)).tolist()
        kw["stat_length"] = [(g.shape[i], g.shape[i]) for i in range(nb)] + sl
    return np.pad(g, pw, mode=mode, **kw)


defjvp(np.pad, _pad_jvp, kind=_SHAPE, primal=_pad_primal, domain=lambda s: s.pad_call(),
       note="modes that are linear in the array only (not maximum/minimum/median)",
       text="ẏ = pad(ẋ) with zero constants")


# ------------------------------------------------------------------ indexing
def _check_index(index):
    items = index if isinstance(index, tuple) else (index,)
    from ..core.dual import Dual

    for it in items:
        if isinstance(it, Dual):
            raise TypeError("an index cannot be a Dual; use its .primal (cast to int)")
    return index


def _getitem_primal(a, index):
    return a[_check_index(index)]


def _getitem_jvp(g, y, a, index):
    nb = g.ndim - np.ndim(a)
    if nb == 0:
        return g[index]
    # Batch axes go last, so the index applies to the primal's axes exactly as it did
    # to the primal (advanced-index axis placement included), then come back in front.
    gm = np.moveaxis(g, list(range(nb)), list(range(-nb, 0)))
    idx = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in idx):
        idx = idx + (slice(None),) * nb
    else:
        idx = idx + (Ellipsis,) + (slice(None),) * nb
    r = gm[idx]
    return np.moveaxis(r, list(range(-nb, 0)), list(range(nb)))


defjvp(operator.getitem, _getitem_jvp, kind=_SHAPE, primal=_getitem_primal,
       name="getitem", domain=lambda s: s.getitem_call(),
       text="ẏ = ẋ[index]")


# x[index] = v on a Dual is functional: the Dual takes the primal and tangent of
# setitem(x, index, v), a fresh array; no buffer is written. The rule's key is this
# function (it returns the result); operator.setitem, which Dual.__setitem__ looks up,
# is an alias.
def _setitem_primal(a, index, v):
    out = np.array(a, copy=True)
    out[_check_index(index)] = v
    return out


def setitem(a, index, v):
    """``a`` with ``a[index] = v``, as a new array (a new Dual when ``a`` or ``v`` is
    one); ``a`` itself is not changed.

    >>> import numpy as np
    >>> from dualnum.ops.shape import setitem
    >>> setitem(np.zeros(3), 1, 5.0)
    array([0., 5., 0.])
    """
    return _put(a, index, v)


def _put(x, index, v):
    """``x`` with ``x[index] = v``, as a new array (or Dual, through this rule)."""
    from ..core.dual import Dual, apply

    if isinstance(x, Dual) or isinstance(v, Dual):
        return apply(_SETITEM, (x, index, v), {})
    return _setitem_primal(x, index, v)


def _batch_last(g, nb, index):
    """``g`` with its ``nb`` batch axes moved last, and ``index`` extended to skip them
    (so advanced indices place their axes as they do on the primal)."""
    if nb == 0:
        return g, index
    gm = np.moveaxis(g, list(range(nb)), list(range(-nb, 0)))
    idx = index if isinstance(index, tuple) else (index,)
    tail = (slice(None),) * nb
    return gm, idx + tail if any(i is Ellipsis for i in idx) else idx + (Ellipsis,) + tail


def _batch_first(r, nb):
    return np.moveaxis(r, list(range(-nb, 0)), list(range(nb))) if nb else r


def _setitem_jvp_a(g, y, a, index, v):
    """ẏ = ẋ with ẋ[index] = 0"""
    nb = g.ndim - np.ndim(a)
    gm, idx = _batch_last(g, nb, index)
    return _batch_first(_put(gm, idx, 0), nb)


def _setitem_jvp_v(g, y, a, index, v):
    """ẏ = 0 with ẏ[index] = v̇"""
    nb = g.ndim - np.ndim(v)
    gm, idx = _batch_last(g, nb, index)
    sel = np.empty(np.shape(a), bool)[index].ndim
    extra = sel - np.ndim(v)
    if extra > 0:  # v broadcasts from the right: its missing leading axes are ones
        gm = np.reshape(gm, (1,) * extra + gm.shape)
    zeros = np.zeros(np.shape(a) + g.shape[:nb], g.dtype)
    return _batch_first(_put(zeros, idx, gm), nb)


_SETITEM = defjvp(setitem, _setitem_jvp_a, None, _setitem_jvp_v, kind=_SHAPE,
                  aliases=(operator.setitem,),
                  primal=_setitem_primal, name="setitem", argnames=("a", "index", "v"),
                  domain=lambda s: s.setitem_call(s),
                  note="duplicate indices: the last write wins, and so does its tangent "
                       "(as NumPy)")


# ------------------------------------------------------------------ queries
# These return facts about the primal (shapes, constants). They carry no tangent.
for _f in (np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.empty_like,
           np.full_like, np.argmax, np.argmin,
           np.argsort, np.nonzero, np.count_nonzero, np.allclose, np.isclose,
           np.array_equal, np.all, np.any, np.result_type):
    defjvp(_f, kind="query", text="no tangent: a fact about the primal")
del _f, _j, _dom
