"""Function transforms: jvp, jacfwd, grad, derivative and forward_gradient.

All of them are forward mode: they push tangents through ``f`` alongside the values, in
one pass per chunk of directions. There is no reverse pass anywhere in dualnum.
"""
from __future__ import annotations

import numpy as np

from .core.dual import Dual, as_float_array
from .core.errors import BatchMismatchError, ShapeError, TreeMismatchError
from .core.pytree import check_same_structure, flatten, leaves_with_paths, unflatten

__all__ = ["jvp", "jacfwd", "grad", "derivative", "forward_gradient"]


def _as_args(x, what):
    if not isinstance(x, (tuple, list)):
        raise TypeError(
            f"{what} must be a tuple with one entry per argument of f, got "
            f"{type(x).__name__}; write ({what[:-1]},) for a single argument"
        )
    return tuple(x)


def _leaf_primal(p, path):
    if isinstance(p, Dual):
        raise TypeError(f"primals{path} is a Dual; pass its .primal (nested transforms "
                        "compose by calling jvp inside f)")
    try:
        return as_float_array(p, f"primals{path}")
    except TypeError as e:
        raise type(e)(str(e)) from None


def _make_duals(primals, tangents, batched):
    """Duals for every leaf, with shapes checked and paths named in errors."""
    check_same_structure(primals, tangents, leaf_ok=lambda a, b: b is None)
    p_leaves = leaves_with_paths(primals)
    t_leaves = dict(leaves_with_paths(tangents))
    _, treedef = flatten(primals)
    k = None
    duals = []
    for path, p in p_leaves:
        pa = _leaf_primal(p, path)
        t = t_leaves.get(path)
        if t is None:
            duals.append((path, pa, None))
            continue
        # Structured tangents (dualnum.lowrank) stay factored; they carry shape and dtype.
        ta = t if getattr(t, "is_structured_tangent", False) else np.asarray(t)
        if ta.dtype.kind not in "fiub":
            raise TypeError(f"tangents{path} has dtype {ta.dtype}; tangents must be real numbers")
        if batched:
            if ta.ndim != pa.ndim + 1 or ta.shape[1:] != pa.shape:
                raise ShapeError(
                    f"tangents{path} has shape {ta.shape}; with batched=True it must be "
                    f"(K,) + primals{path}.shape = (K,) + {pa.shape}"
                )
            if k is not None and ta.shape[0] != k:
                raise BatchMismatchError(
                    f"batched tangents disagree on K: {k} elsewhere, {ta.shape[0]} at "
                    f"tangents{path}"
                )
            k = ta.shape[0]
        elif ta.shape != pa.shape:
            raise ShapeError(
                f"tangents{path} has shape {ta.shape} but primals{path} has shape {pa.shape}"
            )
        duals.append((path, pa, ta if ta.dtype == pa.dtype else ta.astype(pa.dtype)))
    if batched and k is None:
        raise ShapeError("batched=True needs at least one tangent to take K from")
    leaves = [Dual._new(pa, ta, k) for _, pa, ta in duals]
    return unflatten(treedef, leaves), k


def _split_out(out, k):
    """(primal tree, tangent tree) from f's output tree; constants get zero tangents."""
    leaves, td = flatten(out)
    ps, ts = [], []
    for leaf in leaves:
        if isinstance(leaf, Dual):
            ps.append(leaf.primal)
            ts.append(leaf.tangent)
        else:
            a = np.asarray(leaf)
            ps.append(a)
            dt = a.dtype if a.dtype.kind == "f" else np.float64
            ts.append(np.zeros(((k,) if k is not None else ()) + a.shape, dt))
    return unflatten(td, ps), unflatten(td, ts)


def jvp(f, primals, tangents, *, batched=False):
    """Jacobian-vector product: ``(f(*primals), J_f(primals) @ tangents)`` in one pass.

    ``primals`` and ``tangents`` are tuples with one entry per argument of ``f``; each
    entry may be a pytree of arrays. A tangent leaf of ``None`` is a symbolic zero. With
    ``batched=True`` every tangent leaf has a leading axis of one shared length K and the
    result's tangent has that axis too.

    >>> import numpy as np, dualnum as dn
    >>> y, t = dn.jvp(lambda x: np.sin(x) ** 2, (np.array([0.5]),), (np.array([1.0]),))
    >>> t  # 2 sin(x) cos(x)
    array([0.84147098])
    >>> _, ts = dn.jvp(np.square, (np.array([1.0, 2.0]),), (np.eye(2),), batched=True)
    >>> ts  # one row per tangent direction
    array([[2., 0.],
           [0., 4.]])
    """
    primals = _as_args(primals, "primals")
    tangents = _as_args(tangents, "tangents")
    if len(primals) != len(tangents):
        raise TreeMismatchError(
            f"jvp got {len(primals)} primals but {len(tangents)} tangents"
        )
    args, k = _make_duals(primals, tangents, batched)
    out = f(*args)
    return _split_out(out, k)


def _argnums(argnums, n):
    single = isinstance(argnums, (int, np.integer))
    nums = (int(argnums),) if single else tuple(int(a) for a in argnums)
    for a in nums:
        if not -n <= a < n:
            raise ValueError(f"argnums {a} is out of range for {n} positional arguments")
    return single, tuple(a % n for a in nums)


def _chunks(n, chunk_size):
    if chunk_size is None:
        chunk_size = min(n, 64) if n else 1
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    for start in range(0, n, chunk_size):
        yield start, min(start + chunk_size, n)


def _jac_columns(f, args, nums, chunk_size):
    """Run f on chunks of basis tangents over all leaves of args[nums]; returns the flat
    input leaves, the output tree and, per output leaf, a (out.size, n) matrix."""
    args = list(args)
    in_leaves, in_defs = [], []
    for a in nums:
        leaves, td = flatten(args[a])
        leaves = [_leaf_primal(x, f"[{a}]") for x in leaves]
        in_leaves.append(leaves)
        in_defs.append(td)
    flat = [x for ls in in_leaves for x in ls]
    sizes = [x.size for x in flat]
    offsets = np.cumsum([0] + sizes)
    n = int(offsets[-1])
    cols = None
    out_td = None
    out_primals = None
    for start, stop in _chunks(n, chunk_size):
        k = stop - start
        duals = []
        for i, x in enumerate(flat):
            lo, hi = max(start, offsets[i]), min(stop, offsets[i + 1])
            if lo >= hi:
                duals.append(Dual._new(x, None, k))  # symbolic zero: no work for this leaf
                continue
            t = np.zeros((k, x.size), x.dtype)
            t[np.arange(lo - start, hi - start), np.arange(lo - offsets[i], hi - offsets[i])] = 1
            duals.append(Dual._new(x, t.reshape((k,) + x.shape), k))
        pos = 0
        call = list(args)
        for a, ls, td in zip(nums, in_leaves, in_defs):
            call[a] = unflatten(td, duals[pos: pos + len(ls)])
            pos += len(ls)
        out = f(*call)
        o_leaves, out_td = flatten(out)
        if cols is None:
            out_primals = []
            cols = []
            for leaf in o_leaves:
                p = leaf.primal if isinstance(leaf, Dual) else np.asarray(leaf, float)
                out_primals.append(p)
                cols.append(np.zeros((p.size, n), p.dtype if p.dtype.kind == "f" else float))
        for j, leaf in enumerate(o_leaves):
            if isinstance(leaf, Dual) and not leaf.is_symbolic_zero:
                cols[j][:, start:stop] = leaf.tangent.reshape(k, -1).T
    if cols is None:  # no inputs at all: f is constant in them
        out = f(*args)
        o_leaves, out_td = flatten(out)
        out_primals = [np.asarray(x.primal if isinstance(x, Dual) else x, float) for x in o_leaves]
        cols = [np.zeros((p.size, 0)) for p in out_primals]
    return in_leaves, in_defs, offsets, out_td, out_primals, cols


def _jac_trees(in_leaves, in_defs, offsets, out_primals, cols, reshape_out=True):
    """Per argnum: the input tree with, at each leaf, J of shape out.shape + leaf.shape."""
    res = []
    i = 0
    for ls, td in zip(in_leaves, in_defs):
        per_leaf = []
        for x in ls:
            lo, hi = offsets[i], offsets[i + 1]
            per_leaf.append([c[:, lo:hi].reshape(p.shape + x.shape) for c, p in zip(cols, out_primals)])
            i += 1
        res.append((td, per_leaf))
    return res


def jacfwd(f, argnums=0, *, chunk_size=None):
    """Jacobian of ``f`` by forward mode, with shape ``out.shape + in.shape``.

    Basis tangents are pushed through ``f`` in batches of ``chunk_size`` directions (all
    at once when the input has at most 64 elements).

    >>> import numpy as np, dualnum as dn
    >>> dn.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    def jac(*args):
        single, nums = _argnums(argnums, len(args))
        in_leaves, in_defs, offsets, out_td, out_primals, cols = _jac_columns(
            f, args, nums, chunk_size)
        per_arg = []
        for td, per_leaf in _jac_trees(in_leaves, in_defs, offsets, out_primals, cols):
            # J is the output tree of input trees (JAX's convention).
            n_out = len(out_primals)
            outs = [unflatten(td, [pl[j] for pl in per_leaf]) for j in range(n_out)]
            per_arg.append(unflatten(out_td, outs))
        return per_arg[0] if single else tuple(per_arg)

    return jac


def grad(f, argnums=0, *, chunk_size=None):
    """Exact gradient of a scalar function, by forward mode (no reverse pass): one batch
    of ``chunk_size`` basis tangents per pass, ``ceil(n / chunk_size)`` passes.

    The argument at ``argnums`` may be a pytree of arrays; the gradient has its structure.

    >>> import numpy as np, dualnum as dn
    >>> dn.grad(lambda w: np.sum(w ** 3))(np.array([1.0, 2.0]))
    array([ 3., 12.])
    """
    def g(*args):
        single, nums = _argnums(argnums, len(args))
        in_leaves, in_defs, offsets, out_td, out_primals, cols = _jac_columns(
            f, args, nums, chunk_size)
        if len(out_primals) != 1 or out_primals[0].size != 1 or out_primals[0].ndim != 0:
            shapes = [p.shape for p in out_primals]
            raise ShapeError(f"grad needs f to return a scalar (shape ()), got {shapes[0] if len(shapes) == 1 else shapes}")
        res = []
        for td, per_leaf in _jac_trees(in_leaves, in_defs, offsets, out_primals, cols):
            res.append(unflatten(td, [pl[0] for pl in per_leaf]))
        return res[0] if single else tuple(res)

    return g


def derivative(f):
    """``f'(x)`` for a function of one scalar.

    >>> import numpy as np, dualnum as dn
    >>> float(dn.derivative(np.exp)(0.0))
    1.0
    """
    def d(x):
        xa = as_float_array(x, "derivative's x")
        if xa.ndim != 0:
            raise ShapeError(f"derivative(f)(x) needs a scalar x, got shape {xa.shape}; "
                             "use jacfwd for arrays")
        _, t = jvp(f, (xa,), (np.ones((), xa.dtype),))
        return t

    return d


def forward_gradient(f, params, *, rng, n_directions=1, distribution="normal", clip=None,
                     dense=True):
    """Forward gradient (Baydin et al. 2022): ``(f(params), mean_k (∇f·v_k) v_k)``.

    Draws K = ``n_directions`` random tangents ``v_k`` with E[v vᵀ] = I and pushes all of
    them through ``f`` in one batched forward pass. The estimate is unbiased for ∇f.

    * ``distribution``: ``"normal"`` (the paper's), ``"rademacher"`` (±1 signs) or
      ``"outer"`` (a rank-one V = a bᵀ for each matrix, normal elsewhere); see
      :mod:`dualnum.fg` for their costs and variances.
    * ``clip``: clip each directional derivative ∇f·v_k to [-clip, clip] first (biased
      where it acts; reproductions of the paper needed it for stability).
    * ``dense=False``: return the estimate's leaves unformed (dualnum.lowrank), so that
      ``dn.optim.SGD`` applies each one within the update's own pass.

    >>> import numpy as np, dualnum as dn
    >>> rng = np.random.default_rng(0)
    >>> value, g = dn.forward_gradient(lambda p: np.sum(p["w"] ** 2),
    ...                                {"w": np.ones(3)}, rng=rng, n_directions=4)
    >>> float(value), sorted(g)
    (3.0, ['w'])
    """
    from .fg import forward_gradient as _fg

    return _fg(f, params, rng=rng, n_directions=n_directions, distribution=distribution,
               clip=clip, dense=dense)
