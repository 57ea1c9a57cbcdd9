"""Structured tangents: tangents stored in factored form.

A :class:`LowRank` holds a batch of rank-one matrices ``V_k = a_k b_kᵀ`` (or, summed, the
single matrix ``Σ_k a_k b_kᵀ``) without forming them; ``b_k`` may have several axes (a
convolution's filter, V[o, c, i, j] = a[o] b[c, i, j]). Rules need no change: a LowRank
implements NumPy's protocols, so ``x @ V`` is computed as ``(x @ a) bᵀ`` in O(B(n+m))
instead of a GEMM, ``V.T`` swaps the factors, conv2d's kernel computes
``conv(x, V)`` as ``a[o] conv(x, b)`` (1/O of a convolution), and any other op simply
materialises the dense array first (correct, just not faster). Like a symbolic zero, it is a cheaper
representation of the same value, never a different value.

This is what makes the ``"outer"`` forward-gradient distribution cheap: with
a ~ N(0, Iₙ) and b ~ N(0, Iₘ) independent, E[V_ij V_kl] = δ_ik δ_jl, so (∇f·V) V stays an
unbiased gradient estimate while sampling costs n + m numbers instead of n·m.
"""
from __future__ import annotations

import numpy as np

from ..kernels import update as _update


def _op(ufunc, reflected=False):
    def f(self, other):
        return ufunc(other, self) if reflected else ufunc(self, other)

    return f


class _Unformed:
    """Operators for unformed arrays: each one goes through NumPy's ufunc protocol, where
    the subclass either computes it in factored form or materialises first."""

    __slots__ = ()
    __array_priority__ = 2000
    is_structured_tangent = True

    __add__, __radd__ = _op(np.add), _op(np.add, True)
    __sub__, __rsub__ = _op(np.subtract), _op(np.subtract, True)
    __mul__, __rmul__ = _op(np.multiply), _op(np.multiply, True)
    __truediv__ = _op(np.true_divide)
    __matmul__, __rmatmul__ = _op(np.matmul), _op(np.matmul, True)

    size = property(lambda self: int(np.prod(self.shape)))

    def __array__(self, dtype=None, copy=None):
        d = self.dense()
        return d if dtype is None else d.astype(dtype)

    def __getitem__(self, index):
        return self.dense()[index]

    def reshape(self, *shape, **kw):
        return self.dense().reshape(*shape, **kw)


class LowRank(_Unformed):
    """``V_k = a[k] ⊗ b[k]`` for k < K: shape ``(K, n) + b.shape[1:]`` when ``batched``,
    otherwise the sum ``Σ_k a[k] ⊗ b[k]`` of shape ``(n,) + b.shape[1:]``. ``a`` is
    (K, n); ``b`` is (K, m) for matrices, or (K, m1, m2, ...) for a tensor whose first
    axis is a's (a convolution's (O, C, kh, kw) weight: a over O, b over (C, kh, kw)).

    >>> import numpy as np
    >>> from dualnum.fgrad.structured import LowRank
    >>> v = LowRank(np.array([[1.0, 2.0]]), np.array([[3.0, 0.0, 1.0]]), batched=False)
    >>> np.asarray(v)
    array([[3., 0., 1.],
           [6., 0., 2.]])
    >>> np.ones((1, 2)) @ v
    array([[9., 0., 3.]])
    >>> LowRank(np.ones((4, 8)), np.ones((4, 3, 3, 3))).shape  # 4 conv directions
    (4, 8, 3, 3, 3)
    """

    __slots__ = ("a", "b", "batched")

    def __init__(self, a, b, batched=True):
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim != 2 or b.ndim < 2 or a.shape[0] != b.shape[0]:
            raise ValueError(f"LowRank needs factors of shapes (K, n) and (K, m, ...), got "
                             f"{a.shape} and {b.shape}")
        self.a, self.b, self.batched = a, b, batched

    # -------------------------------------------------------------- array facts
    @property
    def shape(self):
        k, n = self.a.shape
        rest = self.b.shape[1:]
        return (k, n) + rest if self.batched else (n,) + rest

    ndim = property(lambda self: self.b.ndim + (1 if self.batched else 0))
    dtype = property(lambda self: np.result_type(self.a, self.b))
    #: Whether V is a batch of matrices (products and transposes stay factored).
    matrix = property(lambda self: self.b.ndim == 2)

    def __len__(self):
        return self.shape[0]

    def dense(self):
        """The array this stands for."""
        k = self.a.shape[0]
        tail = (1,) * (self.b.ndim - 1)
        if self.batched:
            return self.a.reshape(self.a.shape + tail) * self.b[:, None]
        if k == 1:  # one outer product: one pass (not a GEMM with inner size 1, nor
            # NumPy's broadcast loop, several times slower)
            return _update.scaled_outer(self.a[0], self.b[0], 1)
        return (self.a.T @ self.b.reshape(k, -1)).reshape(self.shape)

    def astype(self, dtype, copy=True):
        return LowRank(self.a.astype(dtype), self.b.astype(dtype), self.batched)

    @property
    def T(self):
        if self.batched or not self.matrix:
            raise ValueError("use np.swapaxes on a batched LowRank; .T is for a matrix")
        return LowRank(self.b, self.a, False)

    def __repr__(self):
        kind = "batch of" if self.batched else "sum of"
        return f"LowRank({kind} {self.a.shape[0]} rank-one, shape {self.shape})"

    # -------------------------------------------------------------- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if ufunc is np.matmul and method == "__call__" and not kwargs and len(inputs) == 2 \
                and self.matrix:
            x, y = inputs
            if isinstance(y, LowRank) and type(x) is np.ndarray:
                return y._rmatmul(x)
            if isinstance(x, LowRank) and type(y) is np.ndarray:
                return x._matmul(y)
        args = [np.asarray(i) if isinstance(i, LowRank) else i for i in inputs]
        return getattr(ufunc, method)(*args, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if (func is np.transpose or func is np.swapaxes) and self.matrix:
            swapped = self._swapped(func, args, kwargs)
            if swapped is not None:
                return swapped
        return func(*_densify(args), **_densify(kwargs))

    def _swapped(self, func, args, kwargs):
        nd = self.ndim
        if func is np.transpose:
            axes = args[1] if len(args) > 1 else kwargs.get("axes")
            axes = tuple(range(nd))[::-1] if axes is None else tuple(a % nd for a in axes)
            want = (0, 2, 1) if self.batched else (1, 0)
            if axes != want:
                return None
        else:
            a1, a2 = sorted(int(x) % nd for x in args[1:3])
            if (a1, a2) != (nd - 2, nd - 1):
                return None
        return LowRank(self.b, self.a, self.batched)

    def _rmatmul(self, x):
        """x @ V: (x @ a_k) b_kᵀ."""
        xa = x @ self.a.T  # (..., K)
        if self.batched:
            # (K, ..., m): one outer product per direction
            return np.moveaxis(xa, -1, 0)[..., None] * self.b.reshape(
                (self.b.shape[0],) + (1,) * (x.ndim - 1) + (self.b.shape[1],))
        return xa @ self.b

    def _matmul(self, y):
        """V @ y: a_k (b_kᵀ y)."""
        by = self.b @ y  # (K, p) for 2-D y
        if self.batched:
            return self.a[:, :, None] * by[:, None, :]
        return self.a.T @ by

    def __neg__(self):
        return LowRank(-self.a, self.b, self.batched)


def _densify(x):
    if isinstance(x, (LowRank, WeightedSum)):
        return x.dense()
    if isinstance(x, (list, tuple)):
        return type(x)(_densify(i) for i in x)
    if isinstance(x, dict):
        return {k: _densify(v) for k, v in x.items()}
    return x


class WeightedSum(_Unformed):
    """``Σ_k w[k] V[k]`` for dense directions V (K, ...), kept unformed so an optimizer
    can apply it in the same pass as the update (a forward-gradient estimate).

    >>> import numpy as np
    >>> from dualnum.fgrad.structured import WeightedSum
    >>> np.asarray(WeightedSum(np.array([2.0, -1.0]), np.ones((2, 3))))
    array([1., 1., 1.])
    """

    __slots__ = ("w", "v")

    def __init__(self, w, v):
        self.w, self.v = np.asarray(w), np.asarray(v)
        if self.w.shape != self.v.shape[:1]:
            raise ValueError(f"WeightedSum needs w of shape (K,) for v of shape (K, ...), got "
                             f"{self.w.shape} and {self.v.shape}")

    shape = property(lambda self: self.v.shape[1:])
    ndim = property(lambda self: self.v.ndim - 1)
    dtype = property(lambda self: self.v.dtype)

    def dense(self):
        if self.v.shape[0] == 1:
            # one direction (the common case): a scaled copy; tensordot's reshapes and
            # BLAS call cost more than the product for small parameters
            return self.v[0] * self.v.dtype.type(self.w[0])
        return np.tensordot(self.w.astype(self.v.dtype), self.v, axes=1)

    def astype(self, dtype, copy=True):
        return WeightedSum(self.w, self.v.astype(dtype))

    def __repr__(self):
        return f"WeightedSum(of {self.v.shape[0]} directions, shape {self.shape})"

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [np.asarray(i) if isinstance(i, WeightedSum) else i for i in inputs]
        return getattr(ufunc, method)(*args, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return func(*_densify(args), **_densify(kwargs))

    def __neg__(self):
        return WeightedSum(-self.w, self.v)
