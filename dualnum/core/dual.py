"""The dual tensor.

A :class:`Dual` pairs a NumPy primal with a tangent of the same shape, or with a batch of
K tangents stacked on a leading axis. A tangent of ``None`` is a *symbolic zero*: it costs
nothing, and rules skip the terms it would contribute (JAX's ``Zero``).

Nothing in this module knows a derivative. Operators and NumPy's dispatch protocols look
the called function up in the rule table (:mod:`dualnum.core.rules`) and hand over.
"""
from __future__ import annotations

import operator
import os

import numpy as np

from . import rules as _rules
from .errors import BatchMismatchError, DTypeError, ShapeError


#: Set by dualnum.array_api (a layer above): ``hook(api_version) -> namespace``.
array_namespace_hook = None


def as_float_array(x, what="primal"):
    """``x`` as a floating ndarray: float32/float64 kept, ints and bools to float64."""
    a = np.asarray(x)
    k = a.dtype.kind
    if k == "f":
        if a.dtype.itemsize < 4:  # float16 would silently lose every tangent digit
            return a.astype(np.float32)
        return a
    if k in "biu":
        return a.astype(np.float64)
    raise DTypeError(
        f"{what} must be real numbers (float, int or bool), got dtype {a.dtype}"
        + (" (complex numbers are not supported)" if k == "c" else "")
    )


class Dual:
    """A primal array with a tangent (or a batch of K tangents) carried alongside.

    ``Dual(primal, tangent=None, *, batched=False)``. With ``batched=True`` the tangent's
    leading axis holds K directions, all pushed forward in the same pass; the primal is
    computed once.

    >>> import numpy as np, dualnum as dn
    >>> x = dn.Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    >>> y = np.sin(x) * x
    >>> y.tangent  # d/dx0 of sin(x0)*x0 = cos(1) + sin(1)
    array([1.38177329, 0.        ])
    """

    __slots__ = ("primal", "_tangent", "_k")
    # Ahead of ndarray in binary operators so ``ndarray + Dual`` reaches Dual.__radd__.
    __array_priority__ = 1000

    def __init__(self, primal, tangent=None, *, batched=False):
        if isinstance(primal, Dual):
            raise TypeError(
                "Dual(primal=...) got a Dual; nested duals are built from tagged "
                "transforms, not by wrapping a Dual in a Dual"
            )
        p = as_float_array(primal, "Dual primal")
        k = None
        if tangent is not None:
            if isinstance(tangent, Dual):
                raise TypeError("a Dual's tangent must be an array, not a Dual")
            structured = getattr(tangent, "is_structured_tangent", False)
            t = tangent if structured else np.asarray(tangent)
            if t.dtype.kind not in "fiub":
                raise DTypeError(f"tangent must be real numbers, got dtype {t.dtype}")
            want = ((t.shape[0],) if batched and t.ndim else ()) + p.shape
            if batched and t.ndim == 0:
                raise ShapeError(
                    f"batched tangent needs a leading batch axis: primal shape {p.shape}, "
                    f"tangent shape {t.shape}"
                )
            if t.shape != want:
                raise ShapeError(
                    f"tangent shape {t.shape} does not match primal shape {p.shape}"
                    + (" (batched: expected (K,) + primal shape)" if batched else "")
                )
            tangent = t if structured and t.dtype == p.dtype else t.astype(p.dtype, copy=False)
            if batched:
                k = t.shape[0]
        elif batched:
            raise ShapeError("batched=True needs a tangent to take K from; use Dual.zeros_like")
        self.primal = p
        self._tangent = tangent
        self._k = k

    # Internal constructor: no validation, for rules whose outputs are right by design.
    @classmethod
    def _new(cls, primal, tangent, k):
        d = object.__new__(cls)
        d.primal = primal
        d._tangent = tangent
        d._k = k
        return d

    # ---------------------------------------------------------------- tangents
    @property
    def tangent(self):
        """The tangent as an ndarray; a symbolic zero reads as zeros."""
        t = self._tangent
        if t is None:
            lead = () if self._k is None else (self._k,)
            return np.zeros(lead + self.primal.shape, self.primal.dtype)
        if type(t) is not np.ndarray:
            return np.asarray(t)  # a structured tangent, materialised
        return t

    @property
    def is_symbolic_zero(self):
        """True when the tangent is a symbolic zero (no tangent arithmetic is done)."""
        return self._tangent is None

    @property
    def batched(self):
        """True when the tangent carries K directions on a leading axis."""
        return self._k is not None

    @property
    def batch_size(self):
        """K, the number of tangent directions, or None when not batched."""
        return self._k

    # ------------------------------------------------------------ array facts
    shape = property(lambda self: self.primal.shape)
    ndim = property(lambda self: self.primal.ndim)
    dtype = property(lambda self: self.primal.dtype)
    size = property(lambda self: self.primal.size)

    def __len__(self):
        if self.primal.ndim == 0:
            raise TypeError("len() of a 0-d Dual")
        return len(self.primal)

    def __float__(self):
        if self.primal.size != 1:
            raise TypeError(f"only size-1 Duals convert to float, shape is {self.shape}")
        return float(self.primal.reshape(()))

    def __bool__(self):
        raise TypeError(
            "the truth value of a Dual is ambiguous: branch on d.primal explicitly, "
            "knowing that the branch is not differentiated"
        )

    def __iter__(self):
        if self.primal.ndim == 0:
            raise TypeError("iteration over a 0-d Dual")
        return (self[i] for i in range(len(self)))

    def __hash__(self):
        return id(self)

    def __array__(self, dtype=None, copy=None):
        # Converting a Dual to a plain array would drop its tangent without a word.
        # SciPy's NumPy code paths start with np.asarray: say how to reach its
        # array-API paths instead (or, when they are on, that this caller has none).
        hint = ("SciPy's array-API paths are on (SCIPY_ARRAY_API is set), but the caller "
                "converts with np.asarray: it has no array-API path for Duals"
                if os.environ.get("SCIPY_ARRAY_API") else
                "In SciPy: set SCIPY_ARRAY_API=1 to run SciPy's array-API code on Duals")
        raise TypeError(
            "a Dual cannot be converted to a plain ndarray (that would silently drop its "
            f"tangent); use d.primal if you mean the value only. {hint}"
        )

    def __setitem__(self, key, value):
        # Functional: the Dual is given a new primal and tangent (those of the rule's
        # result); no buffer is written, so arrays shared with other Duals stay intact.
        new = _rules.call(operator.setitem, self, key, value)
        self.primal, self._tangent, self._k = new.primal, new._tangent, new._k

    # The array API standard's array attributes; dualnum.array_api is the namespace.
    device = property(lambda self: "cpu")

    def to_device(self, device, /, *, stream=None):
        if device != "cpu":
            raise ValueError(f"a Dual lives on the 'cpu' device, not {device!r}")
        return self

    @property
    def mT(self):
        return _rules.call(np.swapaxes, self, -1, -2)

    def __array_namespace__(self, *, api_version=None):
        """The Python array API standard namespace for Duals (dualnum.array_api)."""
        if array_namespace_hook is None:
            raise TypeError("dualnum's array API namespace is not loaded (import dualnum)")
        return array_namespace_hook(api_version)

    def __repr__(self):
        from ..teaching_repr import dual_repr

        return dual_repr(self)

    # ------------------------------------------------------------ methods
    @property
    def T(self):
        return _rules.call(np.transpose, self)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _rules.call(np.reshape, self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _rules.call(np.transpose, self, axes or None)

    def sum(self, axis=None, keepdims=False):
        return _rules.call(np.sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _rules.call(np.mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _rules.call(np.max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _rules.call(np.min, self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        return _rules.call(np.prod, self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return _rules.call(np.var, self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        return _rules.call(np.std, self, axis=axis, ddof=ddof, keepdims=keepdims)

    def ravel(self):
        return _rules.call(np.ravel, self)

    def flatten(self):
        return _rules.call(np.ravel, self)

    def squeeze(self, axis=None):
        return _rules.call(np.squeeze, self, axis=axis)

    def swapaxes(self, a, b):
        return _rules.call(np.swapaxes, self, a, b)

    def dot(self, other):
        return _rules.call(np.dot, self, other)

    def clip(self, a_min=None, a_max=None):
        return _rules.call(np.clip, self, a_min, a_max)

    def cumsum(self, axis=None):
        return _rules.call(np.cumsum, self, axis=axis)

    def astype(self, dtype):
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise DTypeError(f"a Dual stays floating; astype({dt}) would drop its tangent")
        t = None if self._tangent is None else self._tangent.astype(dt)
        return Dual._new(self.primal.astype(dt), t, self._k)

    def __getitem__(self, index):
        return _rules.call(operator.getitem, self, index)

    # ------------------------------------------------------------ comparisons
    # Comparisons look at primals only and return plain boolean arrays.
    def _cmp(op):
        def f(self, other):
            return op(self.primal, other.primal if isinstance(other, Dual) else other)

        return f

    __lt__ = _cmp(operator.lt)
    __le__ = _cmp(operator.le)
    __gt__ = _cmp(operator.gt)
    __ge__ = _cmp(operator.ge)
    __eq__ = _cmp(operator.eq)
    __ne__ = _cmp(operator.ne)
    del _cmp

    # ------------------------------------------------------------ NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if not kwargs and method == "__call__" and _rules._tracer is None:
            rule = _rules._TABLE.get(ufunc)
            if rule is not None and rule.kind == "elementwise" and rule.normalize is None:
                res = _rules._apply_elementwise(rule, inputs)
                if res is not None:
                    return res
        if method != "__call__":
            raise TypeError(
                f"{_rules.ufunc_name(ufunc)}.{method} is not supported on Duals; use the "
                f"corresponding function (np.sum, np.cumsum, np.outer, ...) instead"
            )
        _check_kwargs(ufunc.__name__, kwargs, allowed=())
        return _rules.call_ufunc(ufunc, inputs)

    def __array_function__(self, func, types, args, kwargs):
        rule = _rules.lookup(func)
        if rule is None:
            raise TypeError(
                f"numpy.{_rules.qualname(func)} has no dualnum rule, so it cannot run on a "
                f"Dual without losing its tangent. Supported functions: "
                f"see dualnum.rules_table() or the README's coverage table"
            )
        if "out" in kwargs and kwargs["out"] is not None:
            raise TypeError(
                f"numpy.{_rules.qualname(func)}(..., out=...) is not supported with Duals: "
                "a tangent cannot be written into a plain array; assign the result instead"
            )
        kwargs.pop("out", None)
        return rule(*args, **kwargs)


def _check_kwargs(name, kwargs, allowed):
    for key, val in kwargs.items():
        if key == "out":
            if val is None or (isinstance(val, tuple) and all(v is None for v in val)):
                continue
            raise TypeError(
                f"numpy.{name}(..., out=...) is not supported with Duals: a tangent cannot "
                "be written into a plain array; assign the result instead"
            )
        if key == "where" and val is True:
            continue
        if key == "dtype" and val is None:
            continue
        if key in ("casting", "order", "subok") and key not in allowed:
            continue
        if key not in allowed:
            raise TypeError(f"numpy.{name}(..., {key}=...) is not supported with Duals")


def _binary(fn, reflected=False):
    # The rule is looked up on first use (the table fills after this module loads).
    table = _rules._TABLE
    fast = _rules._apply_elementwise

    if reflected:
        def op(self, other):
            rule = table[fn]
            if rule.fused is not None and _rules._tracer is None:
                res = fast(rule, (other, self))
                if res is not None:
                    return res
            return _rules.apply(rule, (other, self), {})
    else:
        def op(self, other):
            rule = table[fn]
            if rule.fused is not None and _rules._tracer is None:
                res = fast(rule, (self, other))
                if res is not None:
                    return res
            return _rules.apply(rule, (self, other), {})
    return op


# Operators are keys into the rule table; they hold no maths.
_OPERATORS = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "pow": np.power, "matmul": np.matmul,
}
for _name, _fn in _OPERATORS.items():
    setattr(Dual, f"__{_name}__", _binary(_fn))
    setattr(Dual, f"__r{_name}__", _binary(_fn, reflected=True))
Dual.__neg__ = lambda self: _rules.call(np.negative, self)
Dual.__pos__ = lambda self: _rules.call(np.positive, self)
Dual.__abs__ = lambda self: _rules.call(np.absolute, self)
del _name, _fn
_rules.Dual = Dual  # the rule machinery tests `type(x) is Dual` on its hot path
