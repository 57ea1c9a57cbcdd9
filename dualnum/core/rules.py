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

This module is data: the :class:`Rule` record, the table, the test domains and the
helpers rule authors use. It never names an op (the ops live in :mod:`dualnum.ops`) and
never sees a Dual: applying a rule to Duals is :mod:`dualnum.core.dual`'s job.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np


_TABLE: dict[Any, "Rule"] = {}
_BY_NAME: dict[str, "Rule"] = {}
# Rule groups that need an optional package (scipy.special's): loaders run once, on the
# first lookup that misses or the first listing of the table, so `import dualnum` does not
# import them. A loader may also name functions qualname cannot place (SciPy's private
# ufuncs behind scipy.special.zeta, or its ufuncs under SCIPY_ARRAY_API=1).
_LAZY: list = []
_ORIGIN: dict = {}


def qualname(fn):
    """The name users know a function by: ``numpy.linalg.norm``, ``scipy.special.expit``,
    ``dualnum.relu``; NumPy's private submodules (``numpy._core``) are left out."""
    if fn in _ORIGIN:
        return _ORIGIN[fn]
    name = getattr(fn, "__name__", None) or repr(fn)
    mod = getattr(fn, "__module__", None)
    if mod is None and isinstance(fn, np.ufunc) and _LAZY:
        _load_lazy()
        if fn in _ORIGIN:
            return _ORIGIN[fn]
    if mod is None and isinstance(fn, np.ufunc):
        mod = _ufunc_module(fn)
    mod = mod or ""
    parts = [p for p in mod.split(".") if p and not p.startswith("_")]
    if parts[:1] == ["numpy"]:
        parts = [p for p in parts if p not in ("core", "lib")]
    return ".".join(parts + [name])


def short_name(fn):
    """A rule's default name: the qualified name without its leading ``numpy.``
    (``sum``, ``linalg.norm``, ``scipy.special.expit``)."""
    if (getattr(fn, "__module__", None) or "").startswith("dualnum"):
        return getattr(fn, "__name__", repr(fn))
    q = qualname(fn)
    return q[len("numpy."):] if q.startswith("numpy.") else q


def _ufunc_module(uf):
    # ufuncs carry no __module__: find the public module that exports this one.
    import sys

    if getattr(np, uf.__name__, None) is uf:
        return "numpy"
    special = sys.modules.get("scipy.special")
    if special is not None and getattr(special, uf.__name__, None) is uf:
        return "scipy.special"
    return ""


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
    multi_output: bool = False  # the op returns a list or tuple of arrays (split, divmod)
    kernel: Any = None  # what the kernel computes, for docs and tests (dualnum.kernels)
    tangent: Optional[Callable] = None  # whole-tangent rule, overrides jvps when set
    normalize: Optional[Callable] = None  # (args, kwargs) -> (args, kwargs), before all else
    # the rule's kernel: fused(primals, tangents, kwargs, k) -> (value, tangent), or None
    # where it does not apply (attached by dualnum.kernels.install; see there)
    fused: Optional[Callable] = None
    fuse_min: int = 0  # elementwise: arrays smaller than this skip the kernel
    # value and tangent from one user function, (primals, tangents, kwargs) -> (y, ẏ),
    # as JAX's custom_jvp rules are written; overrides primal and jvps when set
    value_and_tangent: Optional[Callable] = None
    extra: dict = field(default_factory=dict)

    def __call__(self, *args, **kwargs):
        return apply(self, args, kwargs)

    def __repr__(self):
        return f"<rule {self.name} ({self.kind})>"

    @property
    def rule_text(self):
        """The derivative rule as written beside the op: the partial derivatives of an
        elementwise rule, else the first docstring line of each jvp (its term of ẏ),
        joined as ``ẏ = term_a + term_b``."""
        if self.partials is not None:
            names = self.argnames
            return "; ".join(
                f"∂/∂{n} = {p}" for n, p in zip(names, self.partials) if p is not None
            )
        if self.extra.get("text"):
            return self.extra["text"]
        fns = [self.tangent] if self.tangent is not None else [j for j in self.jvps if j]
        terms = [_doc_term(f) for f in fns]
        terms = [t for t in terms if t]
        return "ẏ = " + " + ".join(terms) if terms else ""


def _doc_term(fn):
    doc = (getattr(fn, "__doc__", None) or "").strip()
    line = doc.splitlines()[0].strip() if doc else ""
    for lhs in ("ẏ =", "ẏ="):  # "ẏ = x" and "x" are the same term
        if line.startswith(lhs):
            return line[len(lhs):].strip()
    return line


def register(rule, *aliases, replace=False):
    """Add ``rule`` to the table under ``rule.fn`` and ``aliases``. ``replace=True`` lets
    a rule of the same name take the place of an earlier one (re-running a notebook cell
    that defines a user rule)."""
    old = _BY_NAME.get(rule.name)
    if old is not None and old is not rule:
        if not replace:
            raise RuntimeError(f"two rules named {rule.name!r}")
        for key in [k for k, v in _TABLE.items() if v is old]:
            del _TABLE[key]
    for key in (rule.fn,) + tuple(aliases):
        if key in _TABLE and _TABLE[key] is not rule:
            raise RuntimeError(f"two rules for {qualname(key)}")
        _TABLE[key] = rule
    _BY_NAME[rule.name] = rule
    return rule


def alias(key, fn):
    """Let ``key`` (a wrapper of ``fn``) find ``fn``'s rule too."""
    rule = _TABLE.get(fn)
    if rule is not None:
        _TABLE[key] = rule
    return rule


def lazy(loader):
    """Run ``loader()`` (which registers rules) on the first lookup miss or listing."""
    _LAZY.append(loader)


def name_origin(names):
    """Error messages name each function ``fn`` of ``names`` (a dict ``{fn: name}``) as
    ``name``, e.g. ``scipy.special.zeta`` for SciPy's private ``_riemann_zeta``."""
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


def _argname(rule, i):
    return rule.argnames[i] if i < len(rule.argnames) else f"#{i}"


def _move_kwargs(rule, args, kwargs):
    """Move keyword arguments named in ``rule.argnames`` to their positions. ``kwargs``
    is apply()'s own copy."""
    names = rule.argnames
    moved = sorted((k for k in kwargs if k in names), key=names.index)  # in position order
    if not moved:
        return args
    args = list(args)
    for key in sorted(moved, key=names.index):  # left to right, so gaps fill in order
        pos = names.index(key)
        if pos < len(args):
            raise TypeError(f"{rule.name}() got multiple values for argument {key!r}")
        while len(args) < pos:
            args.append(None)
        args.append(kwargs.pop(key))
    return tuple(args)


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
           aliases=(), replace=False, **fields):
    """Register an op from one JAX-style jvp per positional argument:
    ``jvp(g, y, *args, **params)`` returns the contribution of argument i's tangent ``g``
    (with any batch axes in front) to the output's tangent. The first line of each jvp's
    docstring is its term of the rule's text (``"ȧ @ b"``)."""
    rule = Rule(fn=fn, name=name or short_name(fn), primal=fields.pop("primal", fn),
                jvps=tuple(jvps), kind=kind, domain=domain, note=note, argnames=argnames,
                **fields)
    rule.extra["text"] = text
    return register(rule, *aliases, replace=replace)
