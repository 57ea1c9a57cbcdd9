"""Products and contractions. Everything goes to BLAS through NumPy.

These ops are bilinear: the tangent is ``op(ȧ, b) + op(a, ḃ)``. With a batch of K tangents,
``op(ȧ, b)`` is arranged as one large GEMM (the K tangents stacked into the rows) instead
of K small ones.
"""
from __future__ import annotations

import string

import numpy as np

from ..core.rules import align, defjvp, lead, trailing_axes


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
    gl = lead(g, a)
    return g.reshape(gl + (-1, 1)) * np.reshape(b, (1, -1))


def _outer_jvp_b(g, y, a, b):
    gl = lead(g, b)
    return np.reshape(a, (-1, 1)) * g.reshape(gl + (1, -1))


defjvp(np.outer, _outer_jvp_a, _outer_jvp_b, kind="linalg", argnames=("a", "b"),
       domain=lambda s: s.outer_call(), text="ẏ = outer(ȧ, b) + outer(a, ḃ)")


# ----------------------------------------------------------------------- einsum
def _einsum_parse(subscripts, n_ops):
    if not isinstance(subscripts, str):
        raise TypeError("einsum with Duals needs the subscripts string form, "
                        "e.g. np.einsum('ij,jk->ik', a, b)")
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


def _einsum_primal(subscripts, *operands, optimize=False, **kw):
    if kw:
        raise TypeError(f"einsum: unsupported arguments {sorted(kw)} with Duals")
    return np.einsum(subscripts, *operands, optimize=optimize)


def _einsum_tangent(out, primals, tangents, kwargs):
    subscripts, ops = primals[0], primals[1:]
    ins, res = _einsum_parse(subscripts, len(ops))
    used = set("".join(ins) + res)
    free = [c for c in string.ascii_letters if c not in used]
    total = None
    for i, g in enumerate(tangents[1:]):
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
       domain=lambda s: s.einsum_call(), text="ẏ = Σ_i einsum(..., ȧ_i, ...)")


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


# ----------------------------------------------------------------------- norm
def _norm_setup(x, ord, axis):
    nd = np.ndim(x)
    if axis is None:
        if ord is None or ord == "fro" and nd == 2:
            return "two", tuple(range(-nd, 0))
        if nd == 1:
            return "vec", (-1,)
        if nd == 2:
            return "mat", (-2, -1)
        raise ValueError("Improper number of dimensions to norm.")
    ax = trailing_axes(axis, nd)
    ax = (ax,) if isinstance(ax, int) else tuple(ax)
    if len(ax) == 1:
        return ("two" if ord is None else "vec"), ax
    return ("two" if ord in (None, "fro") else "mat"), ax


def _norm_jvp(g, y, x, ord=None, axis=None, keepdims=False):
    kind, ax = _norm_setup(x, ord, axis)
    yk = y if keepdims else np.expand_dims(y, ax)
    if kind == "two" or (kind == "vec" and ord == 2):
        return np.sum(x * g, axis=ax, keepdims=keepdims) / y
    if kind == "mat":
        raise TypeError(f"linalg.norm: matrix norm ord={ord!r} has no dualnum rule "
                        "(supported: 'fro' and vector norms)")
    if ord in (np.inf, -np.inf):
        mask = np.abs(x) == yk
        return (np.sum(np.where(mask, np.sign(x) * g, 0), axis=ax, keepdims=keepdims)
                / np.sum(mask, axis=ax, keepdims=keepdims))
    if ord == 0:
        return None  # counts non-zeros: piecewise constant
    p = float(ord)
    w = np.sign(x) * np.abs(x) ** (p - 1)
    return np.sum(w * g, axis=ax, keepdims=keepdims) / yk.reshape(np.shape(y)) ** (p - 1)


def _norm_primal(x, ord=None, axis=None, keepdims=False):
    kind, _ = _norm_setup(x, ord, axis)
    if kind == "mat":
        raise TypeError(f"linalg.norm: matrix norm ord={ord!r} has no dualnum rule "
                        "(supported: 'fro' and vector norms)")
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


defjvp(np.linalg.norm, _norm_jvp, kind="linalg", primal=_norm_primal,
       domain=lambda s: s.norm_call(), name="linalg.norm",
       note="not differentiable at 0 (gives nan, as JAX); ord=inf ties share equally",
       text="ẏ = Σ x ẋ / y (2-norm); Σ sign(x)|x|^(p-1) ẋ / y^(p-1)")
