"""Domains of the np.linalg and numeric rules (dualnum/ops/matrix.py, numeric.py).

Shapes and options come from hypothesis; matrix entries come from a numpy Generator
seeded by hypothesis, built to stay away from the points where the ops are not
differentiable: well-conditioned matrices, eigenvalues and singular values at least 0.4
apart, no ties between the sums an ``ord=inf`` norm chooses from, sample points away
from interpolation nodes. The conventions at those points are tested separately
(tests/test_matrix.py, tests/test_numeric.py).
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, strategies as st

from ..core.rules import Interval
from ._basics import Call, _array, shapes

__all__ = [
    "inv_call", "solve_call", "det_call", "slogdet_call", "eigh_call", "eig_call",
    "svd_call", "svdvals_call", "cholesky_call", "qr_call", "pinv_call", "lstsq_call",
    "matrix_power_call", "multi_dot_call", "linalg_norm_call", "matrix_norm_call",
    "vector_norm_call", "cond_call", "tensorinv_call", "tensorsolve_call",
    "einsum_any_call", "kron_call", "cross_call", "cov_call", "corrcoef_call",
    "polyval_call", "vander_call", "signal_call", "interp_call", "trapezoid_call",
    "vecdot_call", "vectors_outer_call", "matrix_stack_call", "matvec_call",
]


# ------------------------------------------------------------------ matrix builders
def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="matrix seed"))


def _batch(draw, max_dims=1):
    return draw(shapes(min_dims=0, max_dims=max_dims, max_side=2), label="stack")


def _side(draw, lo=1, hi=4):
    return draw(st.integers(lo, hi))


def _well_conditioned(rng, batch, n):
    """Diagonally dominant: |a_ii| > Σ_j≠i |a_ij|, with random signs on the diagonal."""
    r = rng.uniform(-1, 1, batch + (n, n))
    signs = rng.choice([-1.0, 1.0], batch + (n,))
    return r + np.expand_dims(signs * (n + 0.5), -1) * np.eye(n)


def _orthonormal(rng, batch, m, k):
    """m x k with orthonormal columns."""
    q, r = np.linalg.qr(rng.standard_normal(batch + (m, k)))
    return q * np.expand_dims(np.sign(np.diagonal(r, axis1=-2, axis2=-1)) + 0.0, -2)


def _spread(rng, batch, k, lo=0.5, gap=0.4):
    """k values per stack entry, at least ``gap`` apart, the smallest >= lo, descending."""
    steps = gap + rng.uniform(0, 0.6, batch + (k,))
    return np.flip(lo + np.cumsum(steps, axis=-1) - steps[..., :1], axis=-1)


def _with_singular_values(rng, batch, m, n, s=None):
    k = min(m, n)
    s = _spread(rng, batch, k) if s is None else s
    u = _orthonormal(rng, batch, m, k)
    v = _orthonormal(rng, batch, n, k)
    return (u * np.expand_dims(s, -2)) @ np.swapaxes(v, -1, -2)


def _symmetric(rng, batch, n, lo=None):
    """Q diag(w) Qᵀ with eigenvalues 0.4+ apart (all >= lo when lo is given)."""
    w = _spread(rng, batch, n, lo=-1.0 if lo is None else lo)
    if lo is None:
        w = w * rng.choice([-1.0, 1.0])
    q = _orthonormal(rng, batch, n, n)
    return (q * np.expand_dims(w, -2)) @ np.swapaxes(q, -1, -2)


def _gauge_is_stable(vectors, x, rng, radius=1e-4, probes=6):
    """True when LAPACK keeps the signs of the columns of ``vectors(x)`` for inputs up
    to ``radius`` away: it picks them by its own iteration, and they can flip between
    neighbouring inputs, where no derivative matches finite differences."""
    v0 = vectors(x)
    for _ in range(probes):
        v1 = vectors(x + radius * rng.standard_normal(x.shape))
        if np.any(np.sum(v0 * v1, axis=-2) <= 0):
            return False
    return True


def _junk_triangle(rng, a, lower):
    """Noise in the triangle a one-triangle routine ignores: its derivative must be 0."""
    n = a.shape[-1]
    junk = rng.uniform(-1, 1, a.shape)
    ignored = np.triu(np.ones((n, n)), 1) if lower else np.tril(np.ones((n, n)), -1)
    return a + junk * ignored


# ------------------------------------------------------------------ inverses, solves
@st.composite
def inv_call(draw):
    n = _side(draw)
    return Call((_well_conditioned(_rng(draw), _batch(draw, 2), n),))


@st.composite
def solve_call(draw):
    rng = _rng(draw)
    n = _side(draw)
    ba, bb = draw(st.sampled_from([((), ()), ((2,), ()), ((), (2,)), ((2,), (2,)),
                                   ((1, 2), (2,)), ((2,), (3, 1))]))
    a = _well_conditioned(rng, ba, n)
    if draw(st.booleans()):
        b = rng.uniform(-2, 2, (n,))
    else:
        b = rng.uniform(-2, 2, bb + (n, _side(draw, 1, 3)))
    return Call((a, b))


@st.composite
def det_call(draw):
    rng = _rng(draw)
    n = _side(draw, 1, 5)
    batch = _batch(draw)
    kind = draw(st.sampled_from(["random", "random", "singular"]))
    if kind == "singular" and n > 1:
        s = _spread(rng, batch, n)
        s[..., -1] = 0.0  # rank n - 1: det = 0 but its derivative is not
        return Call((_with_singular_values(rng, batch, n, n, s),))
    return Call((rng.uniform(-1.5, 1.5, batch + (n, n)),))


@st.composite
def slogdet_call(draw):
    n = _side(draw)
    return Call((_well_conditioned(_rng(draw), _batch(draw), n),))


@st.composite
def tensorinv_call(draw):
    rng = _rng(draw)
    shape, ind = draw(st.sampled_from([((2, 3, 6), 2), ((2, 3, 3, 2), 2), ((4, 2, 2), 1),
                                       ((3, 3), 1), ((2, 2, 4), 2)]))
    nrow = int(np.prod(shape[:ind]))
    a = _well_conditioned(rng, (), nrow).reshape(shape)
    return Call((a,), {"ind": ind})


@st.composite
def tensorsolve_call(draw):
    rng = _rng(draw)
    bshape, xshape = draw(st.sampled_from([((2, 3), (6,)), ((2, 3), (3, 2)), ((4,), (2, 2)),
                                           ((3,), (3,))]))
    n = int(np.prod(bshape))
    a = _well_conditioned(rng, (), n).reshape(bshape + xshape)
    b = rng.uniform(-2, 2, bshape)
    if draw(st.booleans()) and len(bshape) + len(xshape) > 2:
        # axes=(0,): tensorsolve moves a's axis 0 to the end before solving
        a = np.moveaxis(a, -1, 0)
        return Call((a, b), {"axes": (0,)})
    return Call((a, b))


# ------------------------------------------------------------------ decompositions
@st.composite
def eigh_call(draw, values_only=False):
    rng = _rng(draw)
    uplo = draw(st.sampled_from(["L", "U"]))
    a = _junk_triangle(rng, _symmetric(rng, _batch(draw), _side(draw)), uplo == "L")
    assume(values_only or _gauge_is_stable(lambda x: np.linalg.eigh(x, uplo)[1], a, rng))
    if not values_only and draw(st.booleans()):
        return Call((a, uplo))
    return Call((a,), {"UPLO": uplo})


@st.composite
def eig_call(draw, values_only=False):
    rng = _rng(draw)
    batch, n = _batch(draw), _side(draw)
    w = _spread(rng, batch, n, lo=-1.5)
    w = np.take_along_axis(w, rng.permuted(np.broadcast_to(np.arange(n), batch + (n,)),
                                           axis=-1), axis=-1)
    p = np.eye(n) + 0.3 * rng.uniform(-1, 1, batch + (n, n))
    a = (p * np.expand_dims(w, -2)) @ np.linalg.inv(p)
    assume(values_only or _gauge_is_stable(lambda x: np.linalg.eig(x)[1], a, rng))
    return Call((a,))


@st.composite
def svd_call(draw):
    rng = _rng(draw)
    m, n = _side(draw), _side(draw)
    a = _with_singular_values(rng, _batch(draw), m, n)
    assume(_gauge_is_stable(lambda x: np.linalg.svd(x, full_matrices=False)[0], a, rng))
    kw = {}
    if draw(st.booleans()):
        kw["compute_uv"] = False
    # full_matrices=True on non-square input has a non-unique basis (see the rule's
    # note); its invariants are tested in tests/test_matrix.py
    kw["full_matrices"] = m == n and draw(st.booleans())
    if draw(st.booleans()):
        return Call((a, kw["full_matrices"]) + ((kw["compute_uv"],) if "compute_uv" in kw
                                               else ()))
    return Call((a,), kw)


@st.composite
def svdvals_call(draw):
    return Call((_with_singular_values(_rng(draw), _batch(draw), _side(draw), _side(draw)),))


@st.composite
def cholesky_call(draw):
    rng = _rng(draw)
    upper = draw(st.booleans())
    a = _junk_triangle(rng, _symmetric(rng, _batch(draw), _side(draw), lo=0.5), not upper)
    return Call((a,), {"upper": True} if upper else {})


@st.composite
def qr_call(draw):
    rng = _rng(draw)
    m, n = _side(draw), _side(draw)
    s = 0.5 + 1.5 * rng.uniform(size=min(m, n))
    a = _with_singular_values(rng, _batch(draw), m, n, s)
    assume(_gauge_is_stable(lambda x: np.linalg.qr(x)[0], a, rng))
    modes = ["reduced", "r"] + (["complete"] if m <= n else [])
    mode = draw(st.sampled_from(modes))
    if draw(st.booleans()):
        return Call((a, mode))
    return Call((a,), {"mode": mode})


@st.composite
def pinv_call(draw):
    rng = _rng(draw)
    batch = _batch(draw)
    if draw(st.booleans()):
        n = _side(draw)
        # Eigenvalues away from 0: pinv's derivatives grow as 1/λ³ near a rank change.
        a = _symmetric(rng, batch, n, lo=0.5) * rng.choice([-1.0, 1.0])
        return Call((_junk_triangle(rng, a, True),), {"hermitian": True})
    return Call((_with_singular_values(rng, batch, _side(draw), _side(draw)),))


@st.composite
def lstsq_call(draw):
    rng = _rng(draw)
    m, n = _side(draw), _side(draw)
    a = _with_singular_values(rng, (), m, n)
    b = rng.uniform(-2, 2, (m,) if draw(st.booleans()) else (m, _side(draw, 1, 3)))
    return Call((a, b), {"rcond": None})


@st.composite
def matrix_power_call(draw):
    rng = _rng(draw)
    n = _side(draw)
    batch = _batch(draw)
    signs = rng.choice([-1.0, 1.0], batch + (n,))
    a = 0.7 / n * rng.uniform(-1, 1, batch + (n, n)) + np.expand_dims(signs * 0.8, -1) * np.eye(n)
    return Call((a, draw(st.integers(-3, 5))))


@st.composite
def multi_dot_call(draw):
    rng = _rng(draw)
    k = draw(st.integers(2, 4))
    dims = [_side(draw, 1, 3) for _ in range(k + 1)]
    arrays = [rng.uniform(-1.5, 1.5, (dims[i], dims[i + 1])) for i in range(k)]
    if draw(st.booleans()):
        arrays[0] = arrays[0][0]
    if draw(st.booleans()):
        arrays[-1] = arrays[-1][:, 0]
    return Call((arrays,))


# ------------------------------------------------------------------ norms
_VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 1.5, 0.5, -1, -2]
_MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]


def _vector_values(rng, shape, ord):
    """Away from 0 (|x| >= 0.2); for ord=±inf with every |x| distinct, so the chosen
    element is unique."""
    if ord in (np.inf, -np.inf):
        n = int(np.prod(shape))
        mags = 0.2 + 0.3 * rng.permutation(n).reshape(shape) + 0.1 * rng.uniform(size=shape)
    else:
        mags = rng.uniform(0.2, 2.0, shape)
    return mags * rng.choice([-1.0, 1.0], shape)


def _matrix_values(rng, shape, ax, ord):
    """A stack of matrices on axes ``ax`` = (row, col) whose norm ``ord`` has a unique
    maximiser: distinct singular values for 2, -2, 'nuc'; distinct row or column sums
    for ±1, ±inf."""
    row, col = ax
    moved = tuple(n for i, n in enumerate(shape) if i not in (row % len(shape), col % len(shape)))
    m, n = shape[row], shape[col]
    if ord in ("nuc", 2, -2):
        x = _with_singular_values(rng, moved, m, n)
        return np.moveaxis(x, (-2, -1), ax)
    if ord in (1, -1, np.inf, -np.inf):
        # sums along one axis differ by >= 0.6 per element: index along the other axis
        along = col if ord in (1, -1) else row
        idx = rng.permutation(shape[along]).astype(float)
        offs = np.reshape(idx, [shape[along] if i == along % len(shape) else 1
                                for i in range(len(shape))])
        mags = 0.2 + offs + 0.1 * rng.uniform(size=shape)
        return mags * rng.choice([-1.0, 1.0], shape)
    return rng.uniform(-2, 2, shape)


@st.composite
def linalg_norm_call(draw):
    rng = _rng(draw)
    kd = draw(st.booleans())
    if draw(st.booleans()):  # a vector norm
        shp = draw(shapes(min_dims=1, max_dims=3))
        nd = len(shp)
        ord = draw(st.sampled_from(_VECTOR_ORDS))
        form = draw(st.sampled_from(["none", "int", "tuple"]))
        x = _vector_values(rng, shp, ord)
        if form == "none" and (ord is None or nd == 1):
            return Call((x,), {"ord": ord, "keepdims": kd})
        axis = draw(st.integers(-nd, nd - 1))
        return Call((x,), {"ord": ord, "axis": axis if form == "int" else (axis,),
                           "keepdims": kd})
    shp = draw(shapes(min_dims=2, max_dims=3))
    nd = len(shp)
    ord = draw(st.sampled_from(_MATRIX_ORDS))
    if nd == 2 and draw(st.booleans()):
        return Call((_matrix_values(rng, shp, (0, 1), ord),), {"ord": ord, "keepdims": kd})
    ax = tuple(draw(st.permutations(list(range(nd))))[:2])
    if draw(st.booleans()):
        ax = tuple(a - nd for a in ax)
    return Call((_matrix_values(rng, shp, ax, ord),), {"ord": ord, "axis": ax, "keepdims": kd})


@st.composite
def matrix_norm_call(draw):
    rng = _rng(draw)
    shp = draw(shapes(min_dims=2, max_dims=3))
    ord = draw(st.sampled_from(_MATRIX_ORDS[1:]))
    return Call((_matrix_values(rng, shp, (-2, -1), ord),),
                {"ord": ord, "keepdims": draw(st.booleans())})


@st.composite
def vector_norm_call(draw):
    rng = _rng(draw)
    shp = draw(shapes(min_dims=0, max_dims=3))
    nd = len(shp)
    ord = draw(st.sampled_from(_VECTOR_ORDS[1:]))
    kw = {"ord": ord, "keepdims": draw(st.booleans())}
    if nd and draw(st.booleans()):
        axes = draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                             unique_by=lambda a: a % nd))
        kw["axis"] = axes[0] if len(axes) == 1 and draw(st.booleans()) else tuple(axes)
    return Call((_vector_values(rng, shp, ord),), kw)


@st.composite
def cond_call(draw):
    rng = _rng(draw)
    n = _side(draw, 2, 4)
    p = draw(st.sampled_from([None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"]))
    x = _with_singular_values(rng, _batch(draw), n, n)
    return Call((x, p))


# ------------------------------------------------------------------ einsum
_EINSUM_STRINGS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 2)]), ("i,i->", [(3,), (3,)]),
    ("ij->ji", [(2, 3)]), ("ii->i", [(3, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,j->ij", [(2,), (3,)]), ("...ij,jk->...ik", [(2, 2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("ijk->k", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 3), (2, 3, 4)]), ("ijk,lji->lki", [(3, 4, 4), (4, 4, 3)]),
    ("...jk,...lj->...lk", [(4, 4), (3, 4, 4)]), ("...,...->...", [(3, 4), (4,)]),
    ("jk...,lj...->lk...", [(3, 2), (2, 3, 4)]), ("j...k,lj...->lk...", [(2, 2), (2, 2, 2)]),
    ("ijk,lji,lli->lki", [(3, 4, 4), (4, 4, 3), (4, 4, 3)]), ("ij,k", [(2, 3), (2,)]),
]
_E = Ellipsis
_EINSUM_SUBLISTS = [  # (operand shapes, sublists, output sublist or None)
    ([(3, 4)], [(0, 1)], (1, 0)), ([(2, 3), (3, 4)], [[0, 1], [1, 2]], None),
    ([(2, 3), (3, 4)], [(0, 1), (1, 2)], (0, 2)),
    ([(2, 3), (2, 3, 4)], [(_E, 0, 1), (_E, 1, 2)], (_E, 0, 2)),
    ([(3, 4, 4), (4, 4, 3)], [(0, 1, 2), (3, 1, 0)], (3, 2, 0)),
    ([(3, 4, 4), (4, 4, 3), (4, 4, 3)], [(0, 1, 2), (3, 1, 0), (3, 3, 0)], (3, 2, 0)),
    ([(2, 3), (3,)], [[30, 0], [0]], [30]), ([(3, 3)], [[1, 1]], None),
]


@st.composite
def einsum_any_call(draw):
    if draw(st.booleans()):
        spec, shps = draw(st.sampled_from(_EINSUM_STRINGS))
        return Call((spec,) + tuple(draw(_array(s)) for s in shps))
    shps, subs, out = draw(st.sampled_from(_EINSUM_SUBLISTS))
    args = []
    for shp, sub in zip(shps, subs):
        args += [draw(_array(shp)), sub]
    if out is not None:
        args.append(out)
    return Call(tuple(args))


# ------------------------------------------------------------------ numeric
@st.composite
def kron_call(draw):
    sa = draw(shapes(max_dims=3, max_side=3))
    sb = draw(shapes(max_dims=3, max_side=3))
    return Call((draw(_array(sa)), draw(_array(sb))))


@st.composite
def cross_call(draw, linalg=False):
    rest = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    rest_b = rest[draw(st.integers(0, len(rest))):]  # b may have fewer leading axes
    if linalg:
        a = draw(_array(rest + (3,)))
        b = draw(_array(rest_b + (3,)))
        return Call((a, b))
    pos_a = draw(st.integers(0, len(rest)))
    pos_b = draw(st.integers(0, len(rest_b)))
    a = np.moveaxis(draw(_array(rest + (3,))), -1, pos_a)
    b = np.moveaxis(draw(_array(rest_b + (3,))), -1, pos_b)
    kw = {"axisa": pos_a - a.ndim if draw(st.booleans()) else pos_a, "axisb": pos_b}
    out_nd = len(rest) + 1
    kw["axisc"] = draw(st.integers(-out_nd, out_nd - 1))
    if pos_a - a.ndim == pos_b - b.ndim and draw(st.booleans()):
        kw = {"axis": pos_a - a.ndim}
    return Call((a, b), kw)


def _variables(draw, rng):
    """Samples of 1 to 3 variables (rows, or columns with rowvar=False), an optional
    second variable y, and rowvar: the arguments cov and corrcoef share."""
    p, n = _side(draw, 1, 3), _side(draw, 3, 5)
    rowvar = draw(st.booleans())
    x = rng.uniform(-2, 2, (p, n) if draw(st.booleans()) else (n,))
    if x.ndim == 2 and not rowvar:
        x = x.T
    args = (x, rng.uniform(-2, 2, (n,))) if draw(st.booleans()) else (x,)
    return args, rowvar, n


@st.composite
def cov_call(draw):
    rng = _rng(draw)
    args, rowvar, n = _variables(draw, rng)
    kw = {"rowvar": rowvar}
    choice = draw(st.sampled_from(["plain", "bias", "ddof", "fweights", "aweights", "both"]))
    if choice == "bias":
        kw["bias"] = True
    elif choice == "ddof":
        kw["ddof"] = draw(st.sampled_from([0, 1, 2]))
    if choice in ("fweights", "both"):
        kw["fweights"] = rng.integers(1, 4, n)
    if choice in ("aweights", "both"):
        kw["aweights"] = rng.uniform(0.5, 2.0, n)
    return Call(args, kw)


@st.composite
def corrcoef_call(draw):
    args, rowvar, _ = _variables(draw, _rng(draw))
    return Call(args, {"rowvar": rowvar})


@st.composite
def polyval_call(draw):
    p = draw(_array((_side(draw, 1, 4),), Interval(-2, 2)))
    x = draw(_array(draw(shapes(max_dims=2)), Interval(-1.5, 1.5)))
    return Call((p, x))


@st.composite
def vander_call(draw):
    x = draw(_array((_side(draw, 1, 4),), Interval(-1.5, 1.5)))
    kw = {"increasing": draw(st.booleans())}
    if draw(st.booleans()):
        kw["N"] = _side(draw, 1, 4)
    return Call((x,), kw)


@st.composite
def signal_call(draw):
    a = draw(_array((_side(draw, 1, 5),)))
    v = draw(_array((_side(draw, 1, 4),)))
    return Call((a, v), {"mode": draw(st.sampled_from(["full", "same", "valid"]))})


@st.composite
def interp_call(draw):
    rng = _rng(draw)
    k = _side(draw, 1, 5)
    xp = np.cumsum(0.3 + rng.uniform(0, 1, k)) - 1.0
    fp = rng.uniform(-2, 2, k)
    shp = draw(shapes(max_dims=2))
    periodic = k > 1 and draw(st.integers(0, 3)) == 0
    if periodic:
        period = float(xp[-1] - xp[0] + 0.3 + rng.uniform())
        x = rng.uniform(-2 * period, 2 * period, shp)
        nodes = np.concatenate([xp % period, xp % period + period, xp % period - period])
        xr = x % period
    else:
        x = rng.uniform(xp[0] - 1.0, xp[-1] + 1.0, shp)
        nodes, xr = xp, x
    near = np.min(np.abs(np.subtract.outer(np.atleast_1d(xr), nodes)), axis=-1) < 0.02
    x = np.where(np.reshape(near, np.shape(x)), x + 0.05, x)
    if periodic:
        return Call((x, xp, fp), {"period": period})
    # left as an array is differentiated (a slot); right as a float is a constant
    left = np.array(rng.uniform(-3, 3)) if draw(st.booleans()) else None
    right = float(rng.uniform(-3, 3)) if draw(st.booleans()) else None
    return Call((x, xp, fp, left, right))


@st.composite
def trapezoid_call(draw):
    shp = draw(shapes(min_dims=1, max_dims=3))
    nd = len(shp)
    y = draw(_array(shp))
    axis = draw(st.integers(-nd, nd - 1))
    form = draw(st.sampled_from(["dx", "x1", "xnd", "none"]))
    if form == "dx":
        return Call((y, None, np.array(draw(st.floats(0.1, 2.0))), axis))
    if form == "x1":
        return Call((y, draw(_array((shp[axis],)))), {"axis": axis})
    if form == "xnd":
        return Call((y, draw(_array(shp))), {"axis": axis})
    return Call((y,), {"axis": axis})


# ------------------------------------------------------------------ NumPy 2 names
@st.composite
def vecdot_call(draw, ufunc=False):
    sa, sb = draw(st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((4,), (2, 4)),
                                   ((2, 1, 3), (4, 3)), ((2, 3), (2, 3))]))
    a, b = draw(_array(sa)), draw(_array(sb))
    if ufunc or draw(st.booleans()):
        return Call((a, b))
    # NumPy applies a non-negative axis to each input, so only equal ranks take one
    axes = [-1, len(sa) - 1] if len(sa) == len(sb) else [-1]
    return Call((a, b), {"axis": draw(st.sampled_from(axes))})


@st.composite
def vectors_outer_call(draw):
    return Call((draw(_array((_side(draw),))), draw(_array((_side(draw),)))))


@st.composite
def matrix_stack_call(draw, offset=False):
    x = draw(_array(_batch(draw) + (_side(draw), _side(draw))))
    if offset and draw(st.booleans()):
        return Call((x,), {"offset": draw(st.integers(-1, 1))})
    return Call((x,))


@st.composite
def matvec_call(draw, vecmat=False):
    m, n = _side(draw), _side(draw)
    ba, bv = draw(st.sampled_from([((), ()), ((2,), ()), ((), (2,)), ((2,), (2,)),
                                   ((1, 2), (3, 1))]))
    a = draw(_array(ba + (m, n)))
    if vecmat:
        return Call((draw(_array(bv + (m,))), a))
    return Call((a, draw(_array(bv + (n,)))))
