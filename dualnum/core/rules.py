"""The rule table: one entry per differentiable operation.

A rule holds, side by side:

* ``primal``: how to compute the value (usually the NumPy function itself);
* a tangent rule: for elementwise ops, one *partial derivative expression* per argument
  (a string such as ``"1 - y*y"``, in the spirit of DiffRules.jl), and for every other op a
  JAX-style ``jvp`` function per argument, ``jvp(g, y, *args, **params)`` that maps the
  argument's tangent ``g`` to its contribution to the output's tangent;
* ``domain``: where its inputs may be drawn from in tests, and
* ``note``: the convention at points where the op is not differentiable.

Tangent rules are written with NumPy calls only, so they run unchanged on plain arrays, on
batched tangents (extra leading axes, which every rule must leave in front) and on Duals
(which is how nested duals and higher derivatives work without a second table).

This module knows how to *apply* a rule; it never names an op. The ops live in
:mod:`dualnum.ops`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .errors import BatchMismatchError, ShapeError

_TABLE: dict[Any, "Rule"] = {}
_BY_NAME: dict[str, "Rule"] = {}
# Rule groups that need an optional package (scipy.special's): loaders run once, on the
# first lookup that misses or the first listing of the table, so `import dualnum` does not
# import them. A loader may also name functions whose __module__ is missing (ufuncs
# outside NumPy), so error messages say where they live.
_LAZY: list = []
_ORIGIN: dict = {}

# Hook for dualnum.trace (teaching): None unless a trace is being recorded, so tracing
# costs one attribute test per op when it is off.
_tracer = None


def qualname(fn):
    if fn in _ORIGIN:
        return _ORIGIN[fn]
    mod = getattr(fn, "__module__", "") or ""
    name = getattr(fn, "__name__", repr(fn))
    parts = mod.split(".")
    if len(parts) > 1 and parts[0] == "numpy" and not parts[1].startswith("_") \
            and parts[1] not in ("core", "lib"):
        return f"{parts[1]}.{name}"  # numpy.linalg.norm -> linalg.norm
    return name


# --------------------------------------------------------------------- domains
@dataclass(frozen=True)
class Interval:
    """Where one elementwise argument is drawn from in tests: ``lo < x < hi``, at least
    ``margin`` away from each point in ``avoid`` (non-differentiable points)."""

    lo: float = -4.0
    hi: float = 4.0
    avoid: tuple = ()
    margin: float = 1e-2

    def contains(self, x):
        x = np.asarray(x, np.float64)
        ok = (x > self.lo) & (x < self.hi)
        for p in self.avoid:
            ok &= np.abs(x - p) > self.margin
        return ok


REAL = Interval()
POSITIVE = Interval(0.05, 4.0)
UNIT_OPEN = Interval(-0.95, 0.95)
NONZERO = Interval(-4.0, 4.0, avoid=(0.0,), margin=0.05)


# --------------------------------------------------------------------- rules
@dataclass(eq=False)
class Rule:
    """One differentiable operation. See the module docstring."""

    fn: Any
    name: str
    primal: Callable
    jvps: tuple  # one per positional argument: callable, or None if not differentiable
    kind: str  # "elementwise", "reduction", "linear", "linalg", "shape", "network", ...
    domain: Any = None  # elementwise: tuple of Interval; otherwise a strategy builder
    note: str = ""
    partials: Optional[tuple] = None  # elementwise: the derivative expressions
    argnames: tuple = ()  # names of positional args (kwargs with these names are moved)
    seq_arg: bool = False  # argument 0 is a sequence of arrays (concatenate, stack, ...)
    multi_output: bool = False  # the op returns a list of arrays (split)
    kernel: Any = None  # fused elementwise kernel hook (see dualnum.kernels)
    tangent: Optional[Callable] = None  # whole-tangent rule, overrides jvps when set
    normalize: Optional[Callable] = None  # (args, kwargs) -> (args, kwargs), before all else
    fused: Optional[Callable] = None  # fused value+tangent for unbatched calls, or None
    extra: dict = field(default_factory=dict)

    def __call__(self, *args, **kwargs):
        return apply(self, args, kwargs)

    def __repr__(self):
        return f"<rule {self.name} ({self.kind})>"

    @property
    def rule_text(self):
        """The derivative rule as written in the table (for docs and traces)."""
        if self.partials is not None:
            names = self.argnames
            return "; ".join(
                f"∂/∂{n} = {p}" for n, p in zip(names, self.partials) if p is not None
            )
        return self.extra.get("text", "")


def register(rule, *aliases):
    if rule.name in _BY_NAME and _BY_NAME[rule.name] is not rule:
        raise RuntimeError(f"two rules named {rule.name!r}")
    for key in (rule.fn,) + tuple(aliases):
        if key in _TABLE and _TABLE[key] is not rule:
            raise RuntimeError(f"two rules for {qualname(key)}")
        _TABLE[key] = rule
    _BY_NAME[rule.name] = rule
    return rule


def lazy(loader):
    """Run ``loader()`` (which registers rules) on the first lookup miss or listing."""
    _LAZY.append(loader)


def name_origin(names):
    """Error messages name each function ``fn`` of ``names`` (a dict ``{fn: name}``) as
    ``name``, e.g. ``scipy.special.expit`` for SciPy's ufuncs."""
    for f, n in names.items():
        _ORIGIN.setdefault(f, n)


def _load_lazy():
    if not _LAZY:
        return False
    loaders = _LAZY[:]
    _LAZY.clear()
    for f in loaders:
        f()
    return True


def lookup(fn):
    """The rule for ``fn`` (a NumPy function, ufunc or dualnum function), or None."""
    rule = _TABLE.get(fn)
    if rule is None and _LAZY and _load_lazy():
        rule = _TABLE.get(fn)
    return rule


def by_name(name):
    if name not in _BY_NAME:
        _load_lazy()
    return _BY_NAME[name]


def table():
    """All rules, in registration order."""
    _load_lazy()
    return list(_BY_NAME.values())


def ufunc_name(ufunc):
    """``numpy.sin``, ``scipy.special.expit``: where a ufunc lives, for messages."""
    if ufunc not in _ORIGIN:
        _load_lazy()
    return _ORIGIN.get(ufunc) or f"numpy.{ufunc.__name__}"


# --------------------------------------------------------------------- applying
def _dual_cls():
    from .dual import Dual

    return Dual


Dual = None  # bound on first use (dual.py imports this module)


def _prep_arg(a, Dual):
    """Primal and tangent of one argument; sequences of arrays are opened one level."""
    if type(a) is Dual or isinstance(a, Dual):
        return a.primal, a._tangent, a._k, True
    if isinstance(a, (list, tuple)) and any(isinstance(e, Dual) for e in a):
        ps, ts, ks = [], [], set()
        for e in a:
            if isinstance(e, Dual):
                ps.append(e.primal)
                ts.append(e._tangent)
                ks.add(e._k)
            else:
                ps.append(e)
                ts.append(None)
        ks.discard(None)
        if len(ks) > 1:
            raise BatchMismatchError(f"batched tangents of different sizes K: {sorted(ks)}")
        k = ks.pop() if ks else None
        if all(t is None for t in ts):
            ts = None
        return ps, ts, k, True
    return a, None, None, False


def _apply_elementwise(rule, args):
    """apply() for elementwise rules called positionally: the hot path of every
    operator, kept lean (per-call overhead is a stated target)."""
    primals = []
    tangents = []
    k = None
    any_t = False
    any_dual = False
    for a in args:
        if type(a) is Dual:
            any_dual = True
            primals.append(a.primal)
            t = a._tangent
            tangents.append(t)
            if a._k is not None:
                if k is not None and a._k != k:
                    return None
                k = a._k
            if t is not None:
                any_t = True
        elif isinstance(a, (list, tuple, Dual)):
            return None
        else:
            primals.append(a)
            tangents.append(None)
    if k is None and any_t and rule.fused is not None:
        res = rule.fused(primals, tangents)
        if res is not None:
            return Dual._new(res[0], res[1], None)
    if k is not None and any_t:
        for a in args:  # mixing batched with unbatched tangents: the slow path says why
            if type(a) is Dual and a._k is None and a._tangent is not None:
                return None
    try:
        out = rule.primal(*primals)
    except ValueError:
        return None  # the slow path turns broadcasting errors into ShapeError
    if not any_dual:
        return out
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if out.dtype.kind != "f":
        return out
    t = rule.tangent(out, primals, tangents, None) if any_t else None
    if t is not None:
        if type(t) is not np.ndarray:
            t = _fix(t, out)  # numpy scalars from 0-d maths, or Duals when nested
        elif t.dtype is not out.dtype:
            t = t.astype(out.dtype)
    return Dual._new(out, t, k)


def apply(rule, args, kwargs):
    global Dual
    if Dual is None:
        Dual = _dual_cls()
    if rule.kind == "elementwise" and not kwargs and rule.normalize is None \
            and _tracer is None:
        res = _apply_elementwise(rule, args)
        if res is not None:
            return res
    if rule.normalize is not None:
        args, kwargs = rule.normalize(args, kwargs)
    elif kwargs and rule.argnames:
        kwargs = dict(kwargs)  # never change the caller's dict
        args = _move_kwargs(rule, args, kwargs)
    n = len(args)
    primals = list(args)
    tangents = [None] * n
    k = None
    k_seen = False
    unbatched_tangent = None
    any_dual = False
    for i in range(n):
        p, t, ki, isd = _prep_arg(args[i], Dual)
        if not isd:
            continue
        any_dual = True
        primals[i] = p
        tangents[i] = t
        if ki is not None:
            if k is not None and ki != k:
                raise BatchMismatchError(
                    f"{rule.name}: batched tangents of different sizes K={k} and K={ki}"
                )
            k = ki
        elif t is not None:
            unbatched_tangent = i
    if k is not None and unbatched_tangent is not None:
        raise BatchMismatchError(
            f"{rule.name}: argument {unbatched_tangent} has an unbatched tangent while "
            f"another has a batch of K={k} tangents; make both batched"
        )
    if rule.fused is not None and k is None and any_dual:
        res = rule.fused(primals, tangents)
        if res is not None:
            res = Dual._new(res[0], res[1], None)
            if _tracer is not None:
                _tracer.record(rule, args, kwargs, res)
            return res
    try:
        out = rule.primal(*primals, **kwargs)
    except ValueError as e:
        if str(e).startswith("operands could not be broadcast"):  # NumPy's own message
            shapes = [np.shape(p) for p in primals if not isinstance(p, (list, str))]
            raise ShapeError(
                f"{rule.name}: operands could not be broadcast together, shapes {shapes}"
            ) from e
        raise
    if not any_dual or rule.kind == "query":
        return out
    if rule.multi_output:
        outs = [np.asarray(o) for o in out]
        if all(t is None for t in tangents):
            res = [Dual._new(o, None, k) for o in outs]
        else:
            ts = rule.tangent(outs, primals, tangents, kwargs)
            res = [Dual._new(o, _fix(t, o), k) for o, t in zip(outs, ts)]
        res = _like(out, res)
        if _tracer is not None:
            _tracer.record(rule, args, kwargs, res)
        return res
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if out.dtype.kind != "f":
        # Integer/bool results (e.g. np.sign of an int) carry no derivative; the inputs
        # were floats, so this only happens for ops that return indices.
        return out
    t = tangent_of(rule, out, primals, tangents, kwargs)
    res = Dual._new(out, _fix(t, out), k)
    if _tracer is not None:
        _tracer.record(rule, args, kwargs, res)
    return res


def _like(out, res):
    """``res`` in the container type of the primal output ``out``: a list, a tuple, or a
    named tuple such as ``np.linalg.eigh``'s ``EighResult``."""
    if isinstance(out, tuple):
        return type(out)(*res) if hasattr(out, "_fields") else tuple(res)
    return res


def tangent_of(rule, out, primals, tangents, kwargs):
    """The output's tangent from the arguments' tangents (None entries are symbolic
    zeros), by the rule's tangent function or the sum of its per-argument jvps. Works
    with arrays and with Duals in place of arrays (nested duals)."""
    if all(g is None for g in tangents):
        return None
    if rule.tangent is not None:
        return rule.tangent(out, primals, tangents, kwargs or {})
    t = None
    for i, g in enumerate(tangents):
        if g is None:
            continue
        jvp = rule.jvps[i] if i < len(rule.jvps) else None
        if jvp is None:
            raise TypeError(
                f"{rule.name}: argument {i} ({_argname(rule, i)}) is not differentiable "
                f"but was given a tangent"
            )
        term = jvp(g, out, *primals, **(kwargs or {}))
        if term is not None:
            t = term if t is None else t + term
    return t


def _fix(t, out):
    """Tangent with the output's dtype; None stays a symbolic zero, and structured
    tangents (dualnum.lowrank) keep their factored form."""
    if t is None:
        return None
    if isinstance(t, np.ndarray):
        if t.dtype != out.dtype:
            t = t.astype(out.dtype)
        return t
    if getattr(t, "is_structured_tangent", False):
        return t if t.dtype == out.dtype else t.astype(out.dtype)
    if _is_dual(t):  # nested duals: tangent rule evaluated on Duals
        return t
    return np.asarray(t, out.dtype)


def _is_dual(x):
    global Dual
    if Dual is None:
        Dual = _dual_cls()
    return isinstance(x, Dual)


def _argname(rule, i):
    return rule.argnames[i] if i < len(rule.argnames) else f"#{i}"


def _move_kwargs(rule, args, kwargs):
    """Move keyword arguments named in ``rule.argnames`` to their positions. ``kwargs``
    is apply()'s own copy."""
    names = rule.argnames
    moved = [k for k in kwargs if k in names]
    if not moved:
        return args
    args = list(args)
    for key in moved:
        pos = names.index(key)
        if pos < len(args):
            raise TypeError(f"{rule.name}() got multiple values for argument {key!r}")
        while len(args) < pos:
            args.append(None)
        args.append(kwargs.pop(key))
    return tuple(args)


def call(fn, *args, **kwargs):
    """Apply the rule for ``fn``. Used by Dual's operators and methods."""
    rule = lookup(fn)
    if rule is None:
        raise TypeError(f"no dualnum rule for {qualname(fn)}")
    return apply(rule, args, kwargs)


def call_ufunc(ufunc, inputs):
    rule = lookup(ufunc)
    if rule is None:
        raise TypeError(
            f"{ufunc_name(ufunc)} has no dualnum rule (it is not differentiable, or not "
            "supported yet); apply it to d.primal if you mean the value only"
        )
    return apply(rule, inputs, {})


# --------------------------------------------------------------------- helpers for rules
def lead(g, x):
    """The batch dimensions in front of tangent ``g`` of argument ``x``."""
    return g.shape[: g.ndim - np.ndim(x)]


def trailing_axes(axis, ndim):
    """Axis spec as negative axes, so it addresses the same data with or without
    leading batch axes. ``None`` means all ``ndim`` trailing axes."""
    if axis is None:
        return tuple(range(-ndim, 0))
    if isinstance(axis, (tuple, list)):
        return tuple(_neg_axis(a, ndim) for a in axis)
    return _neg_axis(axis, ndim)


def _neg_axis(a, ndim):
    a = operator_index(a)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a - ndim if a >= 0 else a


def operator_index(a):
    import operator

    return operator.index(a)


def align(g, x_ndim, out_ndim):
    """Reshape an argument's tangent so it broadcasts against an output of ``out_ndim``
    dims while its batch axes stay in front."""
    extra = out_ndim - x_ndim
    if extra <= 0:
        return g
    nb = g.ndim - x_ndim
    return g.reshape(g.shape[:nb] + (1,) * extra + g.shape[nb:])


def to_shape(t, g_lead, shape):
    """Broadcast a tangent term to ``g_lead + shape`` (materialised, writeable)."""
    want = tuple(g_lead) + tuple(shape)
    if t.shape == want:
        return t
    b = np.broadcast_to(t, want)
    return np.array(b) if type(b) is np.ndarray else b  # Duals are values already


def defjvp(fn, *jvps, kind, domain=None, note="", name=None, argnames=(), text="",
           aliases=(), **fields):
    """Register an op from one JAX-style jvp per positional argument:
    ``jvp(g, y, *args, **params)`` returns the contribution of argument i's tangent ``g``
    (with any batch axes in front) to the output's tangent."""
    rule = Rule(fn=fn, name=name or qualname(fn), primal=fields.pop("primal", fn),
                jvps=tuple(jvps), kind=kind, domain=domain, note=note, argnames=argnames,
                **fields)
    rule.extra["text"] = text
    return register(rule, *aliases)
