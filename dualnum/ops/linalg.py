"""Products and contractions. Everything goes to BLAS through NumPy.

These ops are bilinear: the tangent is ``op(ȧ, b) + op(a, ḃ)``. With a batch of K tangents,
``op(ȧ, b)`` is arranged as one large GEMM (the K tangents stacked into the rows) instead
of K small ones.
"""
from __future__ import annotations

import string

import numpy as np

from ..core.rules import align, defjvp, lead, lookup, operator_index, register, trailing_axes


#: Largest per-direction right operand (elements) that matmul_stacked_right copies.
_STACK_MAX = 1 << 16


def stacked_matmul(x, w):
    """``x @ w`` for x with any leading axes and a 2-D w, as one GEMM when x is
    contiguous (NumPy would loop over the leading axes, one small GEMM each)."""
    if w.ndim == 2 and x.ndim > 2 and type(x) is np.ndarray and x.flags.c_contiguous:
        return (x.reshape(-1, x.shape[-1]) @ w).reshape(x.shape[:-1] + (w.shape[-1],))
    return np.matmul(x, w)


def matmul_stacked_right(a, g):
    """``a @ g`` for a 2-D a and g with leading axes: one GEMM over all of them when the
    per-direction products are small (there BLAS call overhead dominates, and the copy
    that lines the directions up side by side is cheap); NumPy's loop of K GEMMs when
    they are large (there that copy of g would cost more than it saves)."""
    if np.ndim(a) == 2 and g.ndim > 2 and isinstance(g, np.ndarray) \
            and g.shape[-2] * g.shape[-1] <= _STACK_MAX:
        n, m = g.shape[-2:]
        lead_shape = g.shape[:-2]
        gt = np.moveaxis(g, -2, 0).reshape(n, -1)  # (n, L*m)
        r = (a @ gt).reshape((a.shape[0],) + lead_shape + (m,))
        return np.moveaxis(r, 0, -2)
    return np.matmul(a, g)


def _promote(a_nd, b_nd):
    return a_nd == 1, b_nd == 1


def _matmul_jvp_a(g, y, a, b):
    a_vec, b_vec = np.ndim(a) == 1, np.ndim(b) == 1
    nb = g.ndim - np.ndim(a)
    if a_vec:
        g = np.expand_dims(g, -2)  # (..., 1, n)
    bb = np.expand_dims(b, -1) if b_vec else b
    out_nd = max(g.ndim - nb, np.ndim(bb))
    g = align(g, g.ndim - nb, out_nd)
    t = stacked_matmul(g, bb) if np.ndim(bb) == 2 else np.matmul(g, bb)
    if b_vec:
        t = t[..., 0]
    if a_vec:
        t = t[..., 0, :] if not b_vec else t[..., 0]
    return t


def _matmul_jvp_b(g, y, a, b):
    a_vec, b_vec = np.ndim(a) == 1, np.ndim(b) == 1
    nb = g.ndim - np.ndim(b)
    if b_vec:
        g = np.expand_dims(g, -1)  # (..., n, 1)
    aa = np.expand_dims(a, -2) if a_vec else a
    out_nd = max(g.ndim - nb, np.ndim(aa))
    g = align(g, g.ndim - nb, out_nd)
    t = matmul_stacked_right(aa, g) if np.ndim(aa) == 2 else np.matmul(aa, g)
    if b_vec:
        t = t[..., 0]
    if a_vec:
        t = t[..., 0, :] if not b_vec else t[..., 0]
    return t


defjvp(np.matmul, _matmul_jvp_a, _matmul_jvp_b, kind="linalg", argnames=("a", "b"),
       domain=lambda s: s.matmul_call(), text="ẏ = ȧ @ b + a @ ḃ")


# dot, inner and tensordot are all tensordot with explicit axes, which keeps batch axes
# in front and gives one GEMM.
def _tensordot_axes(a_nd, b_nd, axes):
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        return list(range(a_nd - n, a_nd)), list(range(n))
    ax_a, ax_b = axes
    ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
    ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
    return [a % a_nd for a in ax_a], [b % b_nd for b in ax_b]


def _td_a(g, a, b, ax_a, ax_b):
    nb = g.ndim - np.ndim(a)
    return np.tensordot(g, b, axes=([x + nb for x in ax_a], ax_b))


def _td_b(g, a, b, ax_a, ax_b):
    nb = g.ndim - np.ndim(b)
    t = np.tensordot(a, g, axes=(ax_a, [x + nb for x in ax_b]))
    free_a = np.ndim(a) - len(ax_a)
    return np.moveaxis(t, list(range(free_a, free_a + nb)), list(range(nb)))


def _tensordot_jvp_a(g, y, a, b, axes=2):
    ax_a, ax_b = _tensordot_axes(np.ndim(a), np.ndim(b), axes)
    return _td_a(g, a, b, ax_a, ax_b)


def _tensordot_jvp_b(g, y, a, b, axes=2):
    ax_a, ax_b = _tensordot_axes(np.ndim(a), np.ndim(b), axes)
    return _td_b(g, a, b, ax_a, ax_b)


defjvp(np.tensordot, _tensordot_jvp_a, _tensordot_jvp_b, kind="linalg",
       argnames=("a", "b"), domain=lambda s: s.tensordot_call(), text="ẏ = ȧ·b + a·ḃ")


def _dot_axes(a, b):
    if np.ndim(b) >= 2:
        return [np.ndim(a) - 1], [np.ndim(b) - 2]
    return [np.ndim(a) - 1], [np.ndim(b) - 1]


def _dot_jvp_a(g, y, a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return align(g, np.ndim(a), np.ndim(y)) * b
    return _td_a(g, a, b, *_dot_axes(a, b))


def _dot_jvp_b(g, y, a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * align(g, np.ndim(b), np.ndim(y))
    return _td_b(g, a, b, *_dot_axes(a, b))


defjvp(np.dot, _dot_jvp_a, _dot_jvp_b, kind="linalg", argnames=("a", "b"),
       domain=lambda s: s.dot_call(), text="ẏ = ȧ·b + a·ḃ")


def _inner_axes(a, b):
    return [np.ndim(a) - 1], [np.ndim(b) - 1]


def _inner_jvp_a(g, y, a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return align(g, np.ndim(a), np.ndim(y)) * b
    return _td_a(g, a, b, *_inner_axes(a, b))


def _inner_jvp_b(g, y, a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * align(g, np.ndim(b), np.ndim(y))
    return _td_b(g, a, b, *_inner_axes(a, b))


defjvp(np.inner, _inner_jvp_a, _inner_jvp_b, kind="linalg", argnames=("a", "b"),
       domain=lambda s: s.inner_call(), text="ẏ = inner(ȧ, b) + inner(a, ḃ)")


def _outer_jvp_a(g, y, a, b):
    """outer(ȧ, b)"""
    gl = lead(g, a)
    return g.reshape(gl + (-1, 1)) * np.reshape(b, (1, -1))


def _outer_jvp_b(g, y, a, b):
    """outer(a, ḃ)"""
    gl = lead(g, b)
    return np.reshape(a, (-1, 1)) * g.reshape(gl + (1, -1))


defjvp(np.outer, _outer_jvp_a, _outer_jvp_b, kind="linalg", argnames=("a", "b"),
       domain=lambda s: s.outer_call(), text="ẏ = outer(ȧ, b) + outer(a, ḃ)")


# ----------------------------------------------------------------------- einsum
def _einsum_parse(subscripts, n_ops):
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string or sublists, got "
                        f"{type(subscripts).__name__}")
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, out = s.split("->")
    else:
        ins = s
        letters = [c for c in ins if c.isalpha()]
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        if "..." in ins:
            out = "..." + out
    ins = ins.split(",")
    if len(ins) != n_ops:
        raise ValueError(f"einsum: {len(ins)} operands in {subscripts!r}, {n_ops} given")
    return ins, out


def _sublist_labels(sub):
    """An einsum sublist as subscript letters: labels 0-25 are A-Z, 26-51 are a-z (as
    NumPy maps them, so implicit outputs sort the same way), Ellipsis is '...'."""
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
            continue
        i = operator_index(s)
        if not 0 <= i < 52:
            raise ValueError(f"einsum: sublist label {i} is outside 0..51")
        out.append(string.ascii_uppercase[i] if i < 26 else string.ascii_lowercase[i - 26])
    return "".join(out)


def _einsum_forms(args):
    """(subscripts, operand positions) for either calling form: the subscripts string
    with operands after it, or operand/sublist pairs ``einsum(a, [0, 1], b, [1, 2],
    [0, 2])``, read as the equivalent string. Operands keep their positions, so the
    tangents line up with them."""
    if isinstance(args[0], str):
        return args[0], list(range(1, len(args)))
    n_ops = len(args) // 2
    spec = ",".join(_sublist_labels(args[2 * i + 1]) for i in range(n_ops))
    if len(args) % 2:  # an odd count: the last item is the output sublist
        spec += "->" + _sublist_labels(args[-1])
    return spec, [2 * i for i in range(n_ops)]


def _einsum_primal(*args, optimize=False, **kw):
    if kw:
        raise TypeError(f"einsum: unsupported arguments {sorted(kw)} with Duals")
    spec, pos = _einsum_forms(args)
    return np.einsum(spec, *[args[i] for i in pos], optimize=optimize)


def _einsum_tangent(out, primals, tangents, kwargs):
    """ẏ = Σ_i einsum(..., ȧ_i, ...)"""
    subscripts, pos = _einsum_forms(primals)
    ops = [primals[i] for i in pos]
    gs = [tangents[i] if i < len(tangents) else None for i in pos]
    ins, res = _einsum_parse(subscripts, len(ops))
    used = set("".join(ins) + res)
    free = [c for c in string.ascii_letters if c not in used]
    total = None
    for i, g in enumerate(gs):
        if g is None:
            continue
        nb = g.ndim - np.ndim(ops[i])
        batch = "".join(free[:nb])
        spec = ",".join(batch + s if j == i else s for j, s in enumerate(ins))
        args = list(ops)
        args[i] = g
        # With more than two operands the order of contraction matters for speed;
        # 'greedy' lets NumPy pick pairwise tensordots (BLAS).
        t = np.einsum(f"{spec}->{batch}{res}", *args,
                      optimize="greedy" if len(ops) > 1 else False)
        total = t if total is None else total + t
    return total


defjvp(np.einsum, kind="linalg", primal=_einsum_primal, tangent=_einsum_tangent,
       domain=lambda s: s.einsum_any_call())


# ----------------------------------------------------------------------- trace, diagonal
def _trace_jvp(g, y, a, offset=0, axis1=0, axis2=1, dtype=None):
    nd = np.ndim(a)
    return np.trace(g, offset, trailing_axes(axis1, nd), trailing_axes(axis2, nd))


def _diagonal_jvp(g, y, a, offset=0, axis1=0, axis2=1):
    nd = np.ndim(a)
    return np.diagonal(g, offset, trailing_axes(axis1, nd), trailing_axes(axis2, nd))


def _trace_primal(a, offset=0, axis1=0, axis2=1, dtype=None):
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"trace(dtype={dtype}) would drop the tangent of a Dual")
    return np.trace(a, offset, axis1, axis2)


defjvp(np.trace, _trace_jvp, kind="linalg", primal=_trace_primal,
       domain=lambda s: s.diag_call(), text="ẏ = trace(ẋ)")
defjvp(np.diagonal, _diagonal_jvp, kind="linalg", domain=lambda s: s.diag_call(),
       text="ẏ = diagonal(ẋ)")


# ----------------------------------------------------------------------- NumPy 2 names
# The array API's linear algebra names. Same semantics as an existing op: the same
# rule; different semantics (last two axes, no flattening): a rule of their own.
if hasattr(np.linalg, "matmul"):
    register(lookup(np.matmul), np.linalg.matmul)
    register(lookup(np.tensordot), np.linalg.tensordot)


def _vecdot_axis(axis, y):
    """vecdot's axis counts in the broadcast shape of its inputs (y's plus one)."""
    return trailing_axes(axis, np.ndim(y) + 1)


def _vecdot_jvp_a(g, y, x1, x2, *, axis=-1):
    """ẏ = Σ ẋ₁ x₂ over axis"""
    return np.sum(align(g, np.ndim(x1), np.ndim(y) + 1) * x2, axis=_vecdot_axis(axis, y))


def _vecdot_jvp_b(g, y, x1, x2, *, axis=-1):
    """ẏ = Σ x₁ ẋ₂ over axis"""
    return np.sum(x1 * align(g, np.ndim(x2), np.ndim(y) + 1), axis=_vecdot_axis(axis, y))


def _matvec_jvp_a(g, y, a, v):
    """ẏ = Ȧ v"""
    return np.sum(align(g, np.ndim(a), np.ndim(y) + 1) * np.expand_dims(v, -2), axis=-1)


def _matvec_jvp_v(g, y, a, v):
    """ẏ = A v̇"""
    return np.sum(a * np.expand_dims(align(g, np.ndim(v), np.ndim(y)), -2), axis=-1)


def _vecmat_jvp_v(g, y, v, a):
    """ẏ = v̇ A"""
    return np.sum(np.expand_dims(align(g, np.ndim(v), np.ndim(y)), -1) * a, axis=-2)


def _vecmat_jvp_a(g, y, v, a):
    """ẏ = v Ȧ"""
    return np.sum(np.expand_dims(v, -1) * align(g, np.ndim(a), np.ndim(y) + 1), axis=-2)


def _linalg_trace_jvp(g, y, x, *, offset=0, dtype=None):
    """ẏ = trace(ẋ) over the last two axes"""
    return np.trace(g, offset, -2, -1)


def _linalg_trace_primal(x, *, offset=0, dtype=None):
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"linalg.trace(dtype={dtype}) would drop the tangent of a Dual")
    return np.linalg.trace(x, offset=offset)


def _linalg_diagonal_jvp(g, y, x, *, offset=0):
    """ẏ = diagonal(ẋ) over the last two axes"""
    return np.diagonal(g, offset, -2, -1)


def _matrix_transpose_jvp(g, y, x):
    """ẏ = ẋᵀ over the last two axes"""
    return np.swapaxes(g, -1, -2)


if hasattr(np.linalg, "vecdot"):
    defjvp(np.linalg.vecdot, _vecdot_jvp_a, _vecdot_jvp_b, kind="linalg",
           domain=lambda s: s.vecdot_call())
    defjvp(np.linalg.outer, _outer_jvp_a, _outer_jvp_b, kind="linalg",
           domain=lambda s: s.vectors_outer_call())
    defjvp(np.linalg.trace, _linalg_trace_jvp, kind="linalg", primal=_linalg_trace_primal,
           domain=lambda s: s.matrix_stack_call(offset=True))
    defjvp(np.linalg.diagonal, _linalg_diagonal_jvp, kind="linalg",
           domain=lambda s: s.matrix_stack_call(offset=True))
    defjvp(np.linalg.matrix_transpose, _matrix_transpose_jvp, kind="shape",
           domain=lambda s: s.matrix_stack_call(), aliases=(np.matrix_transpose,))
if hasattr(np, "matvec"):  # gufuncs (NumPy >= 2.2): reached through __array_ufunc__
    defjvp(np.vecdot, _vecdot_jvp_a, _vecdot_jvp_b, kind="linalg", argnames=("x1", "x2"),
           domain=lambda s: s.vecdot_call(ufunc=True))
    defjvp(np.matvec, _matvec_jvp_a, _matvec_jvp_v, kind="linalg", argnames=("x1", "x2"),
           domain=lambda s: s.matvec_call())
    defjvp(np.vecmat, _vecmat_jvp_v, _vecmat_jvp_a, kind="linalg", argnames=("x1", "x2"),
           domain=lambda s: s.matvec_call(vecmat=True))
