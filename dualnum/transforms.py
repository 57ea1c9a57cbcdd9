"""Exact forward-mode transforms: jvp, jacfwd, grad, value_and_grad, derivative, hessian
and hvp.

All of them push tangents through ``f`` alongside the values, in one pass per chunk of
directions; there is no reverse pass anywhere in dualnum. Each call opens a perturbation
level of its own (:mod:`dualnum.core.levels`), so transforms nest to any order without
confusing their perturbations: ``hessian`` is ``jacfwd`` of ``grad``, one
forward-over-forward pass with a batch of directions at each level.
"""
from __future__ import annotations

import numbers

import numpy as np

from .core import levels as _levels
from .core.dual import Dual, as_float_array
from .core.errors import BatchMismatchError, ShapeError, TreeMismatchError
from .core.pytree import check_same_structure, flatten, leaves_with_paths, unflatten

__all__ = ["jvp", "jacfwd", "grad", "value_and_grad", "derivative", "hessian", "hvp"]


def _as_args(x, what):
    if not isinstance(x, (tuple, list)):
        raise TypeError(
            f"{what} must be a tuple with one entry per argument of f, got "
            f"{type(x).__name__}; write ({what[:-1]},) for a single argument"
        )
    return tuple(x)


def _leaf_primal(p, path):
    """A primal leaf as a floating array, or as itself when it is a Dual (of an
    enclosing transform: nested derivatives)."""
    if isinstance(p, Dual):
        return p
    try:
        return as_float_array(p, f"primals{path}")
    except TypeError as e:
        raise type(e)(str(e)) from None


def _leaf_tangent(t, path):
    if isinstance(t, Dual) or getattr(t, "is_structured_tangent", False):
        return t
    ta = np.asarray(t)
    if ta.dtype.kind not in "fiub":
        raise TypeError(f"tangents{path} has dtype {ta.dtype}; tangents must be real numbers")
    return ta


def _make_duals(primals, tangents, batched, lvl):
    """Duals of level ``lvl`` for every leaf, with shapes checked and paths named in
    errors. Returns the argument tree and K."""
    check_same_structure(primals, tangents, leaf_ok=lambda a, b: b is None)
    t_leaves = dict(leaves_with_paths(tangents))
    _, treedef = flatten(primals)
    k = None
    made = []
    for path, p in leaves_with_paths(primals):
        pa = _leaf_primal(p, path)
        t = t_leaves.get(path)
        if t is None:
            made.append((pa, None))
            continue
        ta = _leaf_tangent(t, path)
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
        made.append((pa, ta if ta.dtype == pa.dtype else ta.astype(pa.dtype)))
    if batched and k is None:
        raise ShapeError("batched=True needs at least one tangent to take K from")
    leaves = [Dual._new(pa, ta, k, lvl) for pa, ta in made]
    return unflatten(treedef, leaves), k


# ------------------------------------------------------------------ reading outputs
def _describe(x):
    return f"{type(x).__module__}.{type(x).__qualname__}".replace("builtins.", "")


def _check_output(out, fname):
    if out is None:
        raise TypeError(f"{fname}: f returned None; it must return an array, a number or a "
                        "pytree (tuple, list, dict) of them")


def _zeros_like_out(a, k):
    dt = a.dtype if a.dtype.kind == "f" else np.float64
    return np.zeros(((k,) if k is not None else ()) + a.shape, dt)


def _split(x, lvl, k, path, fname):
    """``(primal, tangent)`` of one output leaf at level ``lvl``. A constant gets a zero
    tangent; a Dual of a level made inside f (``dn.Dual`` by hand) is split inside out,
    since perturbations commute."""
    if isinstance(x, Dual):
        xl = x._level
        if xl is lvl:
            t = x._tangent
            if t is None:
                t = np.zeros(((k,) if k is not None else ()) + x.shape, x.dtype)
            elif not (type(t) is np.ndarray or isinstance(t, Dual)):
                t = np.asarray(t)  # a structured tangent, materialised
            return x.primal, t
        if xl.order < lvl.order:  # of an enclosing level: a constant here
            return x, np.zeros(((k,) if k is not None else ()) + x.shape, x.dtype)
        if not xl.active:
            raise _levels.leaked(xl)
        p0, p1 = _split(x.primal, lvl, k, path, fname)
        t = x._tangent
        if t is None:
            return (Dual._new(p0, None, x._k, xl), Dual._new(p1, None, x._k, xl))
        t0, t1 = _split(t, lvl, k, path, fname)
        if x._k is not None and k is not None:
            t1 = np.swapaxes(t1, 0, 1)  # (K_lvl, K_x, ...) -> (K_x, K_lvl, ...)
        return Dual._new(p0, t0, x._k, xl), Dual._new(p1, t1, x._k, xl)
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(
            f"{fname}: f returned {_describe(x)} at output{path}, which is not a number or "
            f"an array of numbers (dtype {a.dtype}); return arrays, numbers or pytrees of them")
    return a, _zeros_like_out(a, k)


def _split_out(out, lvl, k, fname):
    """(primal tree, tangent tree) from f's output tree."""
    _check_output(out, fname)
    leaves, td = flatten(out)
    ps, ts = [], []
    for (path, leaf) in leaves_with_paths(out):
        p, t = _split(leaf, lvl, k, path, fname)
        ps.append(p)
        ts.append(t)
    return unflatten(td, ps), unflatten(td, ts)


# ------------------------------------------------------------------ jvp
def jvp(f, primals, tangents, *, batched=False):
    """Jacobian-vector product: ``(f(*primals), J_f(primals) @ tangents)`` in one pass.

    ``primals`` and ``tangents`` are tuples with one entry per argument of ``f``; each
    entry may be a pytree of arrays. A tangent leaf of ``None`` is a symbolic zero. With
    ``batched=True`` every tangent leaf has a leading axis of one shared length K and the
    result's tangent has that axis too. Calls nest: ``f`` may call ``jvp`` itself, and
    each call keeps its own perturbation.

    >>> import numpy as np, dualnum as dn
    >>> y, t = dn.jvp(lambda x: np.sin(x) ** 2, (np.array([0.5]),), (np.array([1.0]),))
    >>> t  # 2 sin(x) cos(x)
    array([0.84147098])
    >>> _, ts = dn.jvp(np.square, (np.array([1.0, 2.0]),), (np.eye(2),), batched=True)
    >>> ts  # one row per tangent direction
    array([[2., 0.],
           [0., 4.]])
    >>> dn.jvp(lambda x: dn.jvp(lambda y: x * y, (2.0,), (1.0,))[1], (3.0,), (1.0,))
    (array(3.), array(1.))
    """
    lvl, token = _levels.open_level("jvp")
    try:
        args = _plain_duals(primals, tangents, lvl) if not batched else None
        if args is None:
            primals = _as_args(primals, "primals")
            tangents = _as_args(tangents, "tangents")
            if len(primals) != len(tangents):
                raise TreeMismatchError(
                    f"jvp got {len(primals)} primals but {len(tangents)} tangents"
                )
            args, k = _make_duals(primals, tangents, batched, lvl)
        else:
            k = None
        out = f(*args)
        if type(out) is Dual and out._level is lvl and type(out.primal) is np.ndarray:
            t = out._tangent
            if type(t) is not np.ndarray:
                t = out.tangent
            return out.primal, t
        return _split_out(out, lvl, k, "jvp")
    finally:
        _levels.close_level(lvl, token)


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def _plain_duals(primals, tangents, lvl):
    """The arguments as Duals when every primal and tangent is a float array of the same
    shape and dtype, or a Python float (the common case, without pytree handling);
    None for anything else, which the general path checks and explains."""
    if type(primals) is not tuple or type(tangents) is not tuple or \
            len(primals) != len(tangents):
        return None
    args = []
    for p, t in zip(primals, tangents):
        if type(p) is float:
            p = np.array(p)
        if type(t) is float:
            t = np.array(t)
        if type(p) is not np.ndarray or type(t) is not np.ndarray or \
                p.dtype is not t.dtype or p.shape != t.shape or p.dtype not in _FLOATS:
            return None
        args.append(Dual._new(p, t, None, lvl))
    return args


# ------------------------------------------------------------------ Jacobians
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
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral) \
            or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    for start in range(0, n, chunk_size):
        yield start, min(start + chunk_size, n)


def _basis(x, lo, hi, start, k, offset):
    """Rows ``lo - start .. hi - start`` of a (k, x.size) block of basis directions."""
    t = np.zeros((k, x.size), x.dtype)
    t[np.arange(lo - start, hi - start), np.arange(lo - offset, hi - offset)] = 1
    return t.reshape((k,) + x.shape)


class _Jacobian:
    """The Jacobian of f with respect to ``args[nums]``, column chunk by column chunk,
    each chunk one batched pass at a fresh level. Assembled with NumPy calls only, so a
    Jacobian of Duals (an enclosing transform's) is itself differentiated."""

    def __init__(self, f, args, nums, chunk_size, name):
        args = list(args)
        self.in_leaves, self.in_defs = [], []
        for a in nums:
            leaves, td = flatten(args[a])
            self.in_leaves.append([_leaf_primal(x, f"[{a}]") for x in leaves])
            self.in_defs.append(td)
        flat = [x for ls in self.in_leaves for x in ls]
        self.flat = flat
        self.offsets = np.cumsum([0] + [x.size for x in flat])
        n = int(self.offsets[-1])
        blocks = None
        for start, stop in _chunks(n, chunk_size):
            k = stop - start
            lvl, token = _levels.open_level(name)
            try:
                duals = []
                for i, x in enumerate(flat):
                    lo = max(start, self.offsets[i])
                    hi = min(stop, self.offsets[i + 1])
                    t = _basis(x, lo, hi, start, k, self.offsets[i]) if lo < hi else None
                    duals.append(Dual._new(x, t, k, lvl))
                call = list(args)
                pos = 0
                for a, ls, td in zip(nums, self.in_leaves, self.in_defs):
                    call[a] = unflatten(td, duals[pos: pos + len(ls)])
                    pos += len(ls)
                out = f(*call)
                _check_output(out, name)
                o_leaves, self.out_td = flatten(out)
                paths = [p for p, _ in leaves_with_paths(out)]
                parts = [_split(leaf, lvl, k, p, name) for leaf, p in zip(o_leaves, paths)]
            finally:
                _levels.close_level(lvl, token)
            if blocks is None:
                self.out_primals = [p for p, _ in parts]
                blocks = [[] for _ in parts]
            for b, (p, t) in zip(blocks, parts):
                b.append(np.reshape(t, (k, -1)))
        if blocks is None:  # no inputs at all: f is constant in them
            out = f(*args)
            _check_output(out, name)
            o_leaves, self.out_td = flatten(out)
            self.out_primals = [x if isinstance(x, Dual) else _split(x, None, None, "", name)[0]
                                for x in o_leaves]
            blocks = [[np.zeros((0, int(np.size(p))), _float(p))] for p in self.out_primals]
        # (n, out.size) per output leaf: one row per input element
        self.rows = [b[0] if len(b) == 1 else np.concatenate(b, axis=0) for b in blocks]

    def per_input(self, j):
        """Per input leaf, the block of output leaf j's Jacobian: out.shape + leaf.shape."""
        p = self.out_primals[j]
        rows = self.rows[j]
        res = []
        for i, x in enumerate(self.flat):
            lo, hi = self.offsets[i], self.offsets[i + 1]
            block = rows[lo:hi]  # (leaf.size, out.size)
            res.append(np.reshape(np.transpose(block), np.shape(p) + x.shape))
        return res

    def trees(self, j):
        """Per argnum, the input tree holding output leaf j's blocks."""
        blocks = self.per_input(j)
        res, pos = [], 0
        for ls, td in zip(self.in_leaves, self.in_defs):
            res.append(unflatten(td, blocks[pos: pos + len(ls)]))
            pos += len(ls)
        return res


def _float(p):
    dt = np.result_type(p)
    return dt if dt.kind == "f" else np.float64


def jacfwd(f, argnums=0, *, chunk_size=None):
    """Jacobian of ``f`` by forward mode, with shape ``out.shape + in.shape``.

    Basis tangents are pushed through ``f`` in batches of ``chunk_size`` directions (all
    at once when the input has at most 64 elements). Nests: ``jacfwd(jacfwd(f))`` is the
    second derivative, each Jacobian at its own level.

    >>> import numpy as np, dualnum as dn
    >>> dn.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    >>> dn.jacfwd(dn.jacfwd(lambda x: x ** 3))(np.array([1.0, 2.0]))[1, 1]  # 6x
    array([ 0., 12.])
    """
    def jac(*args):
        single, nums = _argnums(argnums, len(args))
        J = _Jacobian(f, args, nums, chunk_size, "jacfwd")
        per_arg = []
        n_out = len(J.out_primals)
        outs = [J.trees(j) for j in range(n_out)]
        for a in range(len(nums)):
            # J is the output tree of input trees (JAX's convention).
            per_arg.append(unflatten(J.out_td, [outs[j][a] for j in range(n_out)]))
        return per_arg[0] if single else tuple(per_arg)

    return jac


def _scalar_out(J, name):
    if len(J.out_primals) != 1:
        raise ShapeError(f"{name} needs f to return one scalar, got "
                         f"{len(J.out_primals)} outputs")
    p = J.out_primals[0]
    kind = np.result_type(p).kind
    if kind != "f":
        what = "a boolean" if kind == "b" else f"dtype {np.result_type(p)}"
        raise TypeError(
            f"{name} needs f to return a real floating scalar, but f returned {what}: "
            "a comparison or a count has no gradient. Return the quantity you compare "
            "(a loss) instead")
    if np.ndim(p) != 0:
        raise ShapeError(f"{name} needs f to return a scalar (shape ()), got shape "
                         f"{np.shape(p)}; use jacfwd for a non-scalar f")
    return p


def _grads(J, name):
    _scalar_out(J, name)
    res = []
    for tree, ls in zip(J.trees(0), J.in_leaves):
        # The gradient takes each input's dtype (float32 in, float32 out), as autograd's.
        leaves, td = flatten(tree)
        res.append(unflatten(td, [g if g.dtype == x.dtype else g.astype(x.dtype)
                                  for g, x in zip(leaves, ls)]))
    return res


def grad(f, argnums=0, *, chunk_size=None):
    """Exact gradient of a scalar function, by forward mode (no reverse pass): one batch
    of ``chunk_size`` basis tangents per pass, ``ceil(n / chunk_size)`` passes.

    The argument at ``argnums`` may be a pytree of arrays; the gradient has its
    structure and each leaf's dtype.

    >>> import numpy as np, dualnum as dn
    >>> dn.grad(lambda w: np.sum(w ** 3))(np.array([1.0, 2.0]))
    array([ 3., 12.])
    """
    def g(*args):
        single, nums = _argnums(argnums, len(args))
        res = _grads(_Jacobian(f, args, nums, chunk_size, "grad"), "grad")
        return res[0] if single else tuple(res)

    return g


def value_and_grad(f, argnums=0, *, chunk_size=None):
    """``(f(*args), grad(f)(*args))`` from the same passes.

    >>> import numpy as np, dualnum as dn
    >>> dn.value_and_grad(lambda w: np.sum(w ** 2))(np.array([1.0, 3.0]))
    (array(10.), array([2., 6.]))
    """
    def vg(*args):
        single, nums = _argnums(argnums, len(args))
        J = _Jacobian(f, args, nums, chunk_size, "value_and_grad")
        res = _grads(J, "value_and_grad")
        return J.out_primals[0], (res[0] if single else tuple(res))

    return vg


def derivative(f, order=1):
    """``f'(x)`` for a function of one scalar; ``order=k`` gives the k-th derivative
    (``derivative`` composed k times, each at its own level).

    >>> import numpy as np, dualnum as dn
    >>> float(dn.derivative(np.exp)(0.0))
    1.0
    >>> float(dn.derivative(dn.derivative(np.sin))(0.5))  # -sin(0.5)
    -0.479425538604203
    >>> float(dn.derivative(np.sin, order=2)(0.5))
    -0.479425538604203
    >>> float(dn.derivative(lambda x: x ** 4, order=3)(1.0))  # 24 x
    24.0
    """
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
        raise ValueError(f"derivative(f, order=k) needs a positive integer k, got {order!r}")
    g = f
    for _ in range(int(order)):
        g = _derivative1(g)
    return g


def _derivative1(f):
    def d(x):
        xa = x if isinstance(x, Dual) else as_float_array(x, "derivative's x")
        if xa.ndim != 0:
            raise ShapeError(f"derivative(f)(x) needs a scalar x, got shape {xa.shape}; "
                             "use jacfwd for arrays")
        lvl, token = _levels.open_level("derivative")
        try:
            arg = Dual._new(xa, np.ones((), xa.dtype), None, lvl)
            out = f(arg)
            _check_output(out, "derivative")
            return _split_out(out, lvl, None, "derivative")[1]
        finally:
            _levels.close_level(lvl, token)

    d.__name__ = f"derivative({getattr(f, '__name__', 'f')})"
    return d


def hessian(f, argnums=0, *, chunk_size=None):
    """The Hessian of a scalar function, shape ``in.shape + in.shape``, as
    ``jax.hessian``: ``jacfwd`` of ``grad``, one forward-over-forward pass with a batch of
    up to ``chunk_size`` (default 64) basis directions at each of the two levels.

    >>> import numpy as np, dualnum as dn
    >>> dn.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    return jacfwd(grad(f, argnums, chunk_size=chunk_size), argnums, chunk_size=chunk_size)


def hvp(f, primals, tangents):
    """Hessian-vector product ``(f(*primals), H @ tangents)``, as ``torch.func.hvp``: the
    Hessian of the scalar ``f`` with respect to all its arguments, times ``tangents`` (a
    tuple like ``primals``; the result has its structure). Forward over forward: a jvp
    along ``tangents`` of the gradient.

    >>> import numpy as np, dualnum as dn
    >>> dn.hvp(lambda x: np.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    (array(9.), (array([6., 0.]),))
    """
    primals = _as_args(primals, "primals")
    tangents = _as_args(tangents, "tangents")
    if len(primals) != len(tangents):
        raise TreeMismatchError(f"hvp got {len(primals)} primals but {len(tangents)} tangents")
    nums = tuple(range(len(primals)))
    (value, _), (_, hv) = jvp(value_and_grad(f, nums), primals, tangents)
    return value, tuple(hv)
