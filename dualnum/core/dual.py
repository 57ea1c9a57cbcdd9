"""The dual tensor, and the one place where rules are applied to it.

A :class:`Dual` pairs a primal with a tangent of the same shape, or with a batch of K
tangents stacked on a leading axis. A tangent of ``None`` is a *symbolic zero*: it costs
nothing, and rules skip the terms it would contribute (JAX's ``Zero``). Every Dual belongs
to a perturbation level (:mod:`dualnum.core.levels`); its primal and tangent are arrays or
Duals of lower levels, which is how nested derivatives work.

Nothing in this module knows a derivative. Operators and NumPy's dispatch protocols look
the called function up in the rule table (:mod:`dualnum.core.rules`) and hand it to
:func:`apply`, which works at the highest level among the arguments and treats Duals of
lower levels as constants.
"""
from __future__ import annotations

import numbers
import operator
import os

import numpy as np

from . import levels as _levels
from .display import dual_repr
from .errors import BatchMismatchError, ConversionError, DTypeError, ShapeError
from .rules import _TABLE, _like, _move_kwargs, lookup, qualname, tangent_of

__all__ = ["Dual", "apply", "call", "as_float_array", "is_dual"]


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


def _conversion(what):
    return ConversionError(
        f"{what} of a Dual would drop its tangent, so it is refused: use d.primal for the "
        "value alone (its derivative is then not tracked)"
    )


class Dual:
    """A primal array with a tangent (or a batch of K tangents) carried alongside.

    ``Dual(primal, tangent=None, *, batched=False, level=None)``. With ``batched=True`` the
    tangent's leading axis holds K directions, all pushed forward in the same pass; the
    primal is computed once. A Dual built by hand is a perturbation of its own (a new
    level); ``level=other.level`` makes it share ``other``'s. ``primal`` and ``tangent``
    may be Duals themselves: ``Dual(Dual(x, 1), Dual(1, 0))`` is a hyper-dual number,
    whose tangent's tangent is the second derivative.

    >>> import numpy as np, dualnum as dn
    >>> x = dn.Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    >>> y = np.sin(x) * x
    >>> y.tangent  # d/dx0 of sin(x0)*x0 = cos(1) + sin(1)
    array([1.38177329, 0.        ])
    >>> h = dn.Dual(dn.Dual(2.0, 1.0), 1.0)  # x = 2, perturbed at two levels
    >>> (h ** 3).tangent.tangent  # d²/dx² x³ = 6x
    array(12.)
    """

    __slots__ = ("primal", "_tangent", "_k", "_level")
    # Ahead of ndarray in binary operators so ``ndarray + Dual`` reaches Dual.__radd__.
    __array_priority__ = 1000

    def __init__(self, primal, tangent=None, *, batched=False, level=None):
        p = primal if isinstance(primal, Dual) else as_float_array(primal, "Dual primal")
        k = None
        if tangent is not None:
            structured = getattr(tangent, "is_structured_tangent", False)
            if isinstance(tangent, Dual) or structured:
                t = tangent
            else:
                t = np.asarray(tangent)
                if t.dtype.kind not in "fiub":
                    raise DTypeError(f"tangent must be real numbers, got dtype {t.dtype}")
            if batched and t.ndim == 0:
                raise ShapeError(
                    f"batched tangent needs a leading batch axis: primal shape {p.shape}, "
                    f"tangent shape {t.shape}"
                )
            want = ((t.shape[0],) if batched else ()) + p.shape
            if t.shape != want:
                raise ShapeError(
                    f"tangent shape {t.shape} does not match primal shape {p.shape}"
                    + (" (batched: expected (K,) + primal shape)" if batched else "")
                )
            if t.dtype != p.dtype:
                t = t.astype(p.dtype)
            tangent = t
            if batched:
                k = t.shape[0]
        elif batched:
            raise ShapeError("batched=True needs a tangent to take K from; use Dual.zeros_like")
        if level is None:
            level = _levels.new_level("Dual")
        elif not isinstance(level, _levels.Level):
            raise TypeError(f"level must be another Dual's .level, got {type(level).__name__}")
        for part in (p, tangent):
            if isinstance(part, Dual) and part._level.order >= level.order:
                raise ValueError(
                    f"a Dual's primal and tangent must be of lower levels than its own: "
                    f"{part._level} is not below {level}")
        self.primal = p
        self._tangent = tangent
        self._k = k
        self._level = level

    # Internal constructor: no validation, for rules whose outputs are right by design.
    @classmethod
    def _new(cls, primal, tangent, k, level):
        d = object.__new__(cls)
        d.primal = primal
        d._tangent = tangent
        d._k = k
        d._level = level
        return d

    # ---------------------------------------------------------------- tangents
    @property
    def tangent(self):
        """The tangent; a symbolic zero reads as zeros. An ndarray, or a Dual of a lower
        level when derivatives are nested."""
        t = self._tangent
        if t is None:
            lead = () if self._k is None else (self._k,)
            return np.zeros(lead + self.primal.shape, self.primal.dtype)
        if type(t) is np.ndarray or isinstance(t, Dual):
            return t
        return np.asarray(t)  # a structured tangent, materialised

    @property
    def level(self):
        """The perturbation level this Dual's tangent belongs to."""
        return self._level

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

    # ------------------------------------------------------------ no silent drops
    # Each of these would hand out the value without its tangent: a loss computed with
    # float() or math.exp() trains with a zero gradient and no warning. NumPy's scalar
    # constructors and item assignment into plain arrays go through them too.
    # A Dual whose tangents are symbolic zeros at every level (a constant, such as a
    # plain array that entered dualnum.array_api) has nothing to drop: it converts to a
    # Python scalar (the array API standard's bool(x), float(x)). np.asarray still
    # refuses every Dual: code that takes arrays apart should not meet one by accident.
    def _constant(self):
        d = self
        while isinstance(d, Dual):
            if d._tangent is not None:
                return None
            d = d.primal
        return d

    def __float__(self):
        c = self._constant()
        if c is None:
            raise _conversion("float()")
        return float(c.reshape(()) if c.size == 1 else c)

    def __int__(self):
        c = self._constant()
        if c is None:
            raise _conversion("int()")
        return int(c.reshape(()) if c.size == 1 else c)

    def __complex__(self):
        c = self._constant()
        if c is None:
            raise _conversion("complex()")
        return complex(c.reshape(()) if c.size == 1 else c)

    def __index__(self):
        raise _conversion("Using as an index (operator.index)")

    def __array__(self, dtype=None, copy=None):
        raise ConversionError(
            "a Dual cannot be converted to a plain ndarray (np.asarray, np.float64, "
            "assignment into an ndarray): that would drop its tangent. Use d.primal for "
            "the value alone, or build arrays from Duals with np.stack / np.concatenate "
            "(or np.array([...]) of Duals). " + (
                "SciPy's array-API paths are on (SCIPY_ARRAY_API is set), but the caller "
                "converts with np.asarray: it has no array-API path for Duals."
                if os.environ.get("SCIPY_ARRAY_API") else
                "SciPy functions: set SCIPY_ARRAY_API=1 to run SciPy's array-API code on "
                "Duals.")
        )

    def __round__(self, ndigits=None):
        if ndigits is None:
            raise _conversion("round() to an integer")
        return call(np.round, self, ndigits)

    def item(self, *args):
        c = self._constant()
        if c is None:
            raise _conversion("d.item()")
        return c.item(*args)

    def tolist(self):
        c = self._constant()
        if c is None:
            raise _conversion("d.tolist()")
        return c.tolist()

    def __bool__(self):
        c = self._constant()
        if c is not None:
            return bool(c)
        raise TypeError(
            "the truth value of a Dual is ambiguous: branch on d.primal explicitly, "
            "knowing that the branch is not differentiated"
        )

    def __format__(self, spec):
        # Display only: formats the value, as print() shows it.
        if spec and self.primal.size == 1:
            p = self.primal
            while isinstance(p, Dual):
                p = p.primal
            return format(p.reshape(()).item(), spec)
        return format(str(self), spec)

    def __iter__(self):
        if self.primal.ndim == 0:
            raise TypeError("iteration over a 0-d Dual")
        return (self[i] for i in range(len(self)))

    def __hash__(self):
        return id(self)

    def __setitem__(self, key, value):
        # Functional: the Dual is given the primal, tangent and level of the setitem
        # rule's result, a new array; no buffer is written, so arrays shared with other
        # Duals stay intact. (Array-API code, SciPy's included, updates arrays this way.)
        new = call(operator.setitem, self, key, value)
        if not isinstance(new, Dual):
            raise TypeError("item assignment into a Dual gave a plain array")
        self.primal, self._tangent, self._k, self._level = (new.primal, new._tangent,
                                                            new._k, new._level)

    # The array API standard's array attributes; dualnum.array_api is the namespace.
    device = property(lambda self: "cpu")

    def to_device(self, device, /, *, stream=None):
        if device != "cpu":
            raise ValueError(f"a Dual lives on the 'cpu' device, not {device!r}")
        return self

    @property
    def mT(self):
        return call(np.swapaxes, self, -1, -2)

    def __dlpack__(self, /, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack export of a constant (a symbolic-zero tangent); a Dual carrying a
        tangent refuses, as np.asarray does: the consumer would drop the tangent."""
        c = self._constant()
        if c is None:
            raise _conversion("DLPack export (__dlpack__)")
        return c.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device,
                            copy=copy)

    def __dlpack_device__(self, /):
        return self.primal.__dlpack_device__()

    def __array_namespace__(self, *, api_version=None):
        """The Python array API standard namespace for Duals (dualnum.array_api)."""
        if array_namespace_hook is None:
            raise TypeError("dualnum's array API namespace is not loaded (import dualnum)")
        return array_namespace_hook(api_version)

    def __repr__(self):
        return dual_repr(self)

    # ------------------------------------------------------------ methods
    @property
    def T(self):
        return call(np.transpose, self)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return call(np.reshape, self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return call(np.transpose, self, axes or None)

    def sum(self, axis=None, keepdims=False):
        return call(np.sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return call(np.mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return call(np.max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return call(np.min, self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        return call(np.prod, self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return call(np.var, self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        return call(np.std, self, axis=axis, ddof=ddof, keepdims=keepdims)

    def ravel(self):
        return call(np.ravel, self)

    def flatten(self):
        return call(np.ravel, self)

    def squeeze(self, axis=None):
        return call(np.squeeze, self, axis=axis)

    def swapaxes(self, a, b):
        return call(np.swapaxes, self, a, b)

    def dot(self, other):
        return call(np.dot, self, other)

    def clip(self, a_min=None, a_max=None):
        return call(np.clip, self, a_min, a_max)

    def cumsum(self, axis=None):
        return call(np.cumsum, self, axis=axis)

    def astype(self, dtype, copy=True):
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise DTypeError(f"a Dual stays floating; astype({dt}) would drop its tangent")
        t = self._tangent
        t = None if t is None else t.astype(dt)
        return Dual._new(self.primal.astype(dt), t, self._k, self._level)

    def __getitem__(self, index):
        return call(operator.getitem, self, index)

    # ------------------------------------------------------------ comparisons
    # Comparisons look at primals only and return plain boolean arrays.
    def _cmp(op):
        def f(self, other):
            a, b = _value(self), _value(other)
            return op(a, b)

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
        if method != "__call__":
            raise TypeError(
                f"{qualname(ufunc)}.{method} is not supported on Duals; use the "
                f"corresponding function (np.sum, np.cumsum, np.outer, ...) instead"
            )
        rule = _TABLE.get(ufunc) or lookup(ufunc)
        if rule is None:
            raise TypeError(
                f"{qualname(ufunc)} has no dualnum rule (it is not differentiable, or not "
                "supported yet), so it cannot run on a Dual without losing its tangent; "
                "apply it to d.primal if you mean the value only"
            )
        if kwargs:
            _check_kwargs(qualname(ufunc), kwargs)
            kwargs = {}
        return apply(rule, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        rule = _TABLE.get(func) or lookup(func)
        if rule is None:
            raise TypeError(
                f"{qualname(func)} has no dualnum rule, so it cannot run on a Dual without "
                "losing its tangent. Supported functions: dualnum.rules_table() or the "
                "README's coverage table"
            )
        if "out" in kwargs:
            if kwargs["out"] is not None:
                raise TypeError(
                    f"{qualname(func)}(..., out=...) is not supported with Duals: a "
                    "tangent cannot be written into a plain array; assign the result instead"
                )
            kwargs = dict(kwargs)
            del kwargs["out"]
        return apply(rule, args, kwargs)


def _value(x):
    while isinstance(x, Dual):
        x = x.primal
    return x


def _values(a):
    if isinstance(a, Dual):
        return _value(a)
    if isinstance(a, (list, tuple)) and any(isinstance(e, Dual) for e in a):
        return [_value(e) for e in a]
    return a


def is_dual(x):
    return isinstance(x, Dual)


def _check_kwargs(name, kwargs):
    for key, val in kwargs.items():
        if key == "out":
            if val is None or (isinstance(val, tuple) and all(v is None for v in val)):
                continue
            raise TypeError(
                f"{name}(..., out=...) is not supported with Duals: a tangent cannot "
                "be written into a plain array; assign the result instead"
            )
        if key == "where" and val is True:
            continue
        if key == "dtype" and val is None:
            continue
        if key in ("casting", "order", "subok"):
            continue
        raise TypeError(f"{name}(..., {key}=...) is not supported with Duals")


# ===================================================================== applying rules
_MISS = object()  # the fast path's "not my case": the general path takes over
_CONSTANTS = (float, int, np.ndarray, np.float64, np.float32, np.int64, bool)


def _elementwise_fast(rule, args):
    """apply() for an elementwise rule called positionally on Duals of one level whose
    primals and tangents are arrays: the hot path of every operator, kept lean
    (per-call overhead is a stated target). Anything else returns _MISS."""
    primals = []
    tangents = []
    k = None
    lvl = None
    any_t = False
    size = 0
    for a in args:
        ta = type(a)
        if ta is Dual:
            if lvl is None:
                lvl = a._level
            elif a._level is not lvl:
                return _MISS  # several levels
            p = a.primal
            t = a._tangent
            if type(p) is not np.ndarray or (t is not None and type(t) is not np.ndarray):
                return _MISS  # nested or structured
            primals.append(p)
            tangents.append(t)
            if p.size > size:
                size = p.size
            if a._k is not None:
                if k is not None and a._k != k:
                    return _MISS
                k = a._k
            if t is not None:
                any_t = True
        elif ta in _CONSTANTS:
            primals.append(a)
            tangents.append(None)
        else:
            return _MISS
    if lvl is None or not lvl.active or lvl.tracer is not None:
        return _MISS
    fused = rule.fused if size >= rule.fuse_min else None
    if any_t:
        if k is None:
            if fused is not None:
                res = fused(primals, tangents, None, None)
                if res is not None:
                    return Dual._new(res[0], res[1], None, lvl)
        else:
            for a in args:  # batched mixed with unbatched tangents: the general path says why
                if type(a) is Dual and a._k is None and a._tangent is not None:
                    return _MISS
            if k == 1 and fused is not None:
                # One batched direction (a forward-gradient step's default) is an
                # unbatched tangent with a leading axis of 1: the same kernel takes it.
                res = fused(primals, [None if t is None else t[0] for t in tangents],
                                 None, None)
                if res is not None:
                    return Dual._new(res[0], res[1][None], 1, lvl)
    try:
        out = rule.primal(*primals)
    except ValueError:
        return _MISS  # the general path turns broadcasting errors into ShapeError
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if out.dtype.kind != "f":
        return _MISS  # complex or object operands: the general path raises
    t = rule.tangent(out, primals, tangents, None) if any_t else None
    if t is not None:
        if type(t) is not np.ndarray:
            t = _fix(t, out)
        elif t.dtype is not out.dtype:
            t = t.astype(out.dtype)
    return Dual._new(out, t, k, lvl)


def _top_level(args):
    """The highest level among the Duals in ``args`` (sequences opened one level)."""
    top = None
    for a in args:
        if isinstance(a, Dual):
            if top is None or a._level.order > top.order:
                top = a._level
        elif isinstance(a, (list, tuple)):
            for e in a:
                if isinstance(e, Dual) and (top is None or e._level.order > top.order):
                    top = e._level
    return top


def _duals(args):
    for a in args:
        if isinstance(a, Dual):
            yield a
        elif isinstance(a, (list, tuple)):
            for e in a:
                if isinstance(e, Dual):
                    yield e


def _any_unperturbed(args):
    return any(d._tangent is None for d in _duals(args))


def _any_perturbed(args):
    for d in _duals(args):
        while d._tangent is None:
            d = d.primal
            if not isinstance(d, Dual):
                break
        else:
            return True
    return False


def _strip(a, keep):
    """``a`` with Duals of symbolic-zero tangent replaced by their primals (except at
    level ``keep``)."""
    if isinstance(a, Dual):
        while isinstance(a, Dual) and a._tangent is None and a._level is not keep:
            a = a.primal
        return a
    if isinstance(a, (list, tuple)) and any(isinstance(e, Dual) for e in a):
        return [_strip(e, keep) for e in a]
    return a


def _at(a, lvl):
    """``(primal, tangent, K)`` of ``a`` seen from level ``lvl``: a Dual of another
    (lower) level is a constant there."""
    if isinstance(a, Dual) and a._level is lvl:
        return a.primal, a._tangent, a._k
    return a, None, None


def _as_operand(a):
    """Numbers that NumPy would keep as Python objects (Fraction, Decimal) as floats."""
    if isinstance(a, numbers.Number) and not isinstance(
            a, (int, float, complex, np.generic)) and hasattr(a, "__float__"):
        return float(a)
    return a


def _fused_fast(rule, args):
    """apply() for a rule with a kernel (a layer's op: linear, conv2d, cross_entropy)
    called positionally on perturbed Duals of one level whose primals are arrays, and
    constants: the kernel straight away (it checks its tangents itself, and returns
    None for what it does not take). Anything else returns _MISS."""
    primals = []
    tangents = []
    k = None
    lvl = None
    for a in args:
        ta = type(a)
        if ta is Dual:
            t = a._tangent
            if t is None or type(a.primal) is not np.ndarray:
                return _MISS  # a symbolic zero, or nested
            if lvl is None:
                lvl = a._level
                k = a._k
            elif a._level is not lvl or a._k != k:
                return _MISS  # several levels, or batches to reconcile
            primals.append(a.primal)
            tangents.append(t)
        elif a is None or ta in _CONSTANTS:
            primals.append(a)
            tangents.append(None)
        else:
            return _MISS
    if lvl is None or not lvl.active or lvl.tracer is not None:
        return _MISS
    res = rule.fused(primals, tangents, {}, k)
    if res is None:
        return _MISS
    return Dual._new(res[0], res[1], k, lvl)


def apply(rule, args, kwargs):
    """Apply ``rule`` to ``args``, some of which are Duals: the value by the rule's
    primal, the tangent by its tangent rule, at the highest level among the Duals."""
    if not kwargs and rule.normalize is None:
        if rule.kind == "elementwise":
            res = _elementwise_fast(rule, args)
            if res is not _MISS:
                return res
        elif rule.fused is not None and rule.value_and_tangent is None \
                and not rule.multi_output:
            res = _fused_fast(rule, args)
            if res is not _MISS:
                return res
    return _apply_general(rule, args, kwargs)


def _apply_general(rule, args, kwargs):
    """apply() for every case: nested Duals, several levels, sequences, keyword
    arguments, batched mixes, traces."""
    if rule.normalize is not None:
        args, kwargs = rule.normalize(args, kwargs)
    elif kwargs and rule.argnames:
        kwargs = dict(kwargs)  # never change the caller's dict
        args = _move_kwargs(rule, args, kwargs)
    if rule.kind == "query":  # a fact about the value: no tangent, at any level
        return rule.primal(*[_values(a) for a in args], **kwargs)
    if rule.value_and_tangent is None and not rule.multi_output:
        res = _constants_only(rule, args, kwargs)
        if res is not _MISS:
            return res
    lvl = _top_level(args)
    if lvl is None:  # called with no Dual (a rule used directly on arrays)
        return rule.primal(*args, **kwargs)
    if not lvl.active:
        raise _levels.leaked(lvl)
    shown = args  # what a trace records: the Duals as the caller passed them
    if _any_unperturbed(args):
        # A Dual whose tangent is a symbolic zero (a constant such as dn.Dual(5.0)) stands
        # for its primal: its level adds nothing. It is kept only when no argument is
        # perturbed at all, so that the result is a Dual with a symbolic zero tangent.
        keep = None if _any_perturbed(args) else lvl
        args = tuple([_strip(a, keep) for a in args])
        lvl = _top_level(args)
        if not lvl.active:
            raise _levels.leaked(lvl)
    n = len(args)
    primals = [None] * n
    tangents = [None] * n
    batches = []  # (argument, its K or None, whether it has a tangent), for _common_k
    for i, a in enumerate(args):
        # A list or tuple holding Duals is opened one level: its primals and its
        # tangents (None for constants) go to the rule as lists.
        if isinstance(a, (list, tuple)) and any(isinstance(e, Dual) for e in a):
            ps, ts = [], []
            for e in a:
                p, t, ke = _at(e, lvl)
                ps.append(p)
                ts.append(t)
                batches.append((i, ke, t is not None))
            primals[i] = ps
            tangents[i] = None if all(t is None for t in ts) else ts
            continue
        p, t, ki = _at(a, lvl)
        primals[i] = _as_operand(p)
        tangents[i] = t
        batches.append((i, ki, t is not None))
    k = _common_k(rule, batches)
    tracer = lvl.tracer
    if rule.value_and_tangent is not None:
        out, t = rule.value_and_tangent(primals, tangents, kwargs, k)
        out = _checked(rule, out, tangents)
        res = Dual._new(out, _fix(t, out), k, lvl)
        if tracer is not None:
            tracer.record(rule, shown, kwargs, res, lvl)
        return res
    nested = _top_level(primals) is not None
    if rule.fused is not None and tracer is None and not nested:  # kernels take arrays
        res = rule.fused(primals, tangents, kwargs, k)
        if res is not None:
            return Dual._new(res[0], res[1], k, lvl)
    if nested:
        # The value is itself perturbed at lower levels: it is this same op, one
        # level down (a rule's primal need not know about Duals).
        out = _value_of(rule, primals, kwargs, lambda: _apply_general(rule, tuple(primals),
                                                                      kwargs))
    else:
        out = _value_of(rule, primals, kwargs)
    if rule.multi_output and isinstance(out, (list, tuple)):
        # Some calls of a multi-output op return one array (np.atleast_1d(x),
        # np.gradient of a vector): those take the single-output path below. Integer
        # pieces (np.unique's indices, np.frexp's exponents) stay plain arrays, as a
        # single integer result does.
        facts = [_is_integer(o) for o in out]  # passed through as they are
        outs = [o if fact or isinstance(o, Dual) else _checked(rule, o, [None])
                for o, fact in zip(out, facts)]
        if all(t is None for t in tangents):
            ts = [None] * len(outs)
        else:
            ts = rule.tangent(outs, primals, tangents, kwargs)
        res = [o if fact else Dual._new(o, _fix(t, o), k, lvl)
               for o, t, fact in zip(outs, ts, facts)]
        res = _like(out, res)
        if tracer is not None:
            tracer.record(rule, shown, kwargs, res, lvl)
        return res
    out = _checked(rule, out, tangents)
    if not isinstance(out, (np.ndarray, Dual)):
        return out  # an integer or boolean result carries no derivative
    t = tangent_of(rule, out, primals, tangents, kwargs)
    res = Dual._new(out, _fix(t, out), k, lvl)
    if tracer is not None:
        tracer.record(rule, shown, kwargs, res, lvl)
    return res


def _value_of(rule, primals, kwargs, compute=None):
    """The rule's primal on ``primals`` (or ``compute()``), NumPy's broadcasting
    ValueError given as a ShapeError naming the op and the shapes."""
    try:
        return compute() if compute is not None else rule.primal(*primals, **kwargs)
    except ValueError as e:
        if str(e).startswith("operands could not be broadcast"):  # NumPy's own message
            shapes = [np.shape(p) for p in primals if not isinstance(p, (list, str))]
            raise ShapeError(
                f"{rule.name}: operands could not be broadcast together, shapes {shapes}"
            ) from e
        raise


def _constants_only(rule, args, kwargs):
    """apply() when every Dual argument is a constant (an unbatched symbolic-zero tangent
    over an ndarray) standing directly in ``args``: the value by the rule's primal, the
    tangent a symbolic zero, at the top level. The general path gives the same result;
    this one skips its per-argument bookkeeping (array-API code reads constants item by
    item)."""
    lvl = None
    for a in args:
        if isinstance(a, Dual):
            if a._tangent is not None or a._k is not None or type(a.primal) is not np.ndarray:
                return _MISS
            if lvl is None or a._level.order > lvl.order:
                lvl = a._level
        elif isinstance(a, (list, tuple)) and any(isinstance(e, Dual) for e in a):
            return _MISS
    if lvl is None or not lvl.active or lvl.tracer is not None:
        return _MISS
    primals = [a.primal if isinstance(a, Dual) else _as_operand(a) for a in args]
    out = _checked(rule, _value_of(rule, primals, kwargs), (None,))
    if not isinstance(out, (np.ndarray, Dual)):
        return out
    return Dual._new(out, None, None, lvl)


def _common_k(rule, batches):
    """The one batch size K of the tangents at this level, or None."""
    k = None
    for _, ki, _ in batches:
        if ki is not None:
            if k is not None and ki != k:
                raise BatchMismatchError(
                    f"{rule.name}: batched tangents of different sizes K={k} and K={ki}")
            k = ki
    if k is not None:
        for i, ki, has_t in batches:
            if ki is None and has_t:
                raise BatchMismatchError(
                    f"{rule.name}: argument {i} has an unbatched tangent while another has "
                    f"a batch of K={k} tangents; make both batched")
    return k


def _is_integer(x):
    return isinstance(x, (int, np.integer)) or (
        isinstance(x, np.ndarray) and x.dtype.kind in "biu")


def _checked(rule, out, tangents):
    """The primal output as a floating ndarray (or a Dual of a lower level). Complex and
    object results are refused: a tangent is never dropped silently."""
    if isinstance(out, Dual):
        return out
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    kind = out.dtype.kind
    if kind == "f":
        return out
    if kind == "c":
        raise DTypeError(
            f"{rule.name}: the result is complex ({out.dtype}); complex numbers are outside "
            "dualnum's scope, and a complex operand would lose its tangent. Keep the "
            "computation real (split real and imaginary parts)")
    if kind in "biu" and all(t is None for t in tangents):
        return out
    raise DTypeError(
        f"{rule.name}: the result has dtype {out.dtype}, which cannot carry a derivative; "
        "operands must be real numbers")


def _fix(t, out):
    """Tangent with the output's dtype; None stays a symbolic zero, Duals (nested) and
    structured tangents (dualnum.lowrank) keep their form."""
    if t is None:
        return None
    if type(t) is np.ndarray:
        return t if t.dtype == out.dtype else t.astype(out.dtype)
    if isinstance(t, Dual) or getattr(t, "is_structured_tangent", False):
        return t if t.dtype == out.dtype else t.astype(out.dtype)
    return np.asarray(t, out.dtype)


def _stack_nested(obj):
    """A nested list or tuple of Duals, arrays and numbers as one Dual (what
    ``np.array([d1, d2])`` means), stacked through the table's own ``np.stack``."""
    if isinstance(obj, (list, tuple)):
        items = [_stack_nested(e) for e in obj]
        if any(isinstance(i, Dual) for i in items):
            return np.stack(items)
        return np.array(items)
    return obj


def call(fn, *args, **kwargs):
    """Apply the rule for ``fn``. Used by Dual's operators and methods."""
    rule = _TABLE.get(fn) or lookup(fn)
    if rule is None:
        raise TypeError(f"no dualnum rule for {qualname(fn)}")
    return apply(rule, args, kwargs)


def _binary(fn, reflected=False):
    # The rule is looked up on first use (the table fills after this module loads).
    table = _TABLE
    fast = _elementwise_fast

    if reflected:
        def op(self, other):
            rule = table.get(fn)
            if rule is None:
                raise TypeError(f"{qualname(fn)} has no dualnum rule")
            if rule.kind == "elementwise":
                res = fast(rule, (other, self))
                if res is not _MISS:
                    return res
            return _apply_general(rule, (other, self), {})
    else:
        def op(self, other):
            rule = table.get(fn)
            if rule is None:
                raise TypeError(f"{qualname(fn)} has no dualnum rule")
            if rule.kind == "elementwise":
                res = fast(rule, (self, other))
                if res is not _MISS:
                    return res
            return _apply_general(rule, (self, other), {})
    return op


# Operators are keys into the rule table; they hold no maths.
_OPERATORS = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "pow": np.power, "matmul": np.matmul, "mod": np.remainder, "floordiv": np.floor_divide,
    "divmod": np.divmod, "and": np.bitwise_and, "or": np.bitwise_or,
    "xor": np.bitwise_xor, "lshift": np.left_shift, "rshift": np.right_shift,
}
for _name, _fn in _OPERATORS.items():
    setattr(Dual, f"__{_name}__", _binary(_fn))
    setattr(Dual, f"__r{_name}__", _binary(_fn, reflected=True))
Dual.__neg__ = lambda self: call(np.negative, self)
Dual.__pos__ = lambda self: call(np.positive, self)
Dual.__abs__ = lambda self: call(np.absolute, self)
Dual.__invert__ = lambda self: call(np.invert, self)
del _name, _fn
