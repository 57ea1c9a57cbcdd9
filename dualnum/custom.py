"""Rules of your own: :func:`defjvp` puts a function in the same rule table as the
built-in ops, and :func:`custom_jvp` gives a function a JVP rule of its own, as
``jax.custom_jvp`` does.

A function with a rule is one op to every transform: its body is not differentiated
(useful when the body is numerically unstable to differentiate, calls code that cannot
see Duals, or when its derivative is simply known), and the rule runs on Duals of any
level, so nesting (second derivatives, Hessians) works as long as the rule itself is
written with NumPy calls. ``dn.testing.check_rule`` tests a registered rule exactly as the
table's own rules are tested.

>>> import numpy as np, dualnum as dn
>>> def log1pexp(x):                 # log(1 + e^x) without overflow
...     return np.logaddexp(0.0, x)
>>> log1pexp = dn.defjvp(log1pexp, "exp(x - y)")   # d/dx = sigmoid(x) = e^(x - y)
>>> dn.grad(lambda x: np.sum(log1pexp(x)))(np.array([0.0, 800.0]))
array([0.5, 1. ])
"""
from __future__ import annotations

import functools

import numpy as np

from .core.dual import Dual, apply
from .core.rules import REAL, Rule, defjvp as _defjvp, register, short_name
from .ops.elementwise import elementwise

__all__ = ["defjvp", "custom_jvp"]


def _has_dual(args):
    for a in args:
        if isinstance(a, Dual):
            return True
        if isinstance(a, (list, tuple)) and any(isinstance(e, Dual) for e in a):
            return True
    return False


def _dispatching(fn, rule_box):
    """``fn`` that hands calls with Duals to its rule, and runs plainly otherwise."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _has_dual(args) or _has_dual(kwargs.values()):
            return apply(rule_box[0], args, kwargs)
        return fn(*args, **kwargs)

    return wrapper


def _dispatches(fn):
    # NumPy functions and ufuncs reach the table through NumPy's own protocols.
    return isinstance(fn, np.ufunc) or hasattr(fn, "_implementation")


def defjvp(fn, *jvps, domain=None, note="", name=None, argnames=None, kind="custom",
           **fields):
    """Register ``fn`` in dualnum's rule table, and return the function to call.

    The tangent rule is given per positional argument, in either of the table's two
    forms:

    * strings: one partial derivative per argument, in the arguments' names and ``y``
      (the output), as the built-in elementwise ops are written (``"exp(x - y)"``); the
      op is then elementwise, and broadcasting and batches work by themselves;
    * functions ``jvp(g, y, *args, **kwargs)``: the contribution of argument i's tangent
      ``g`` to the output's tangent (``g`` may carry batch axes in front; return None
      for no contribution), as autograd's ``defjvp`` and the table's other ops.

    ``domain`` tells ``dn.testing.check_rule`` where to draw inputs (elementwise: one
    :class:`~dualnum.core.rules.Interval` per argument, default the real line);
    ``note`` is the convention at non-differentiable points. A NumPy function is
    registered as itself (NumPy's dispatch finds the rule); any other function is
    returned wrapped, so that calls with Duals go to the rule. Registering a rule of the
    same name again replaces it.

    >>> import numpy as np, dualnum as dn
    >>> def cube(x):
    ...     return x * x * x
    >>> cube = dn.defjvp(cube, lambda g, y, x: 3 * x ** 2 * g, domain=lambda s:
    ...                  s.one_array_call())
    >>> float(dn.derivative(cube)(2.0)), float(dn.derivative(cube, order=2)(2.0))
    (12.0, 12.0)
    """
    if not callable(fn):
        raise TypeError(f"defjvp(fn, ...): fn must be callable, got {type(fn).__name__}")
    if not jvps:
        raise TypeError("defjvp(fn, *jvps): give one tangent rule per positional argument "
                        "of fn (None for an argument that is not differentiated)")
    rule_name = name or short_name(fn)
    key = fn if _dispatches(fn) else _dispatching(fn, box := [None])
    if all(j is None or isinstance(j, str) for j in jvps):
        names = tuple(argnames) if argnames else None
        rule = elementwise(key, *jvps, primal=fn, name=rule_name, names=names,
                           domain=domain or (REAL,) * len(jvps), note=note, replace=True)
    elif any(isinstance(j, str) for j in jvps):
        raise TypeError("defjvp: give either partial-derivative strings or jvp functions "
                        "for all arguments, not a mix")
    else:
        bad = [j for j in jvps if j is not None and not callable(j)]
        if bad:
            raise TypeError(f"defjvp: each jvp must be a function or None, got {bad[0]!r}")
        rule = _defjvp(key, *jvps, kind=kind, domain=domain, note=note, name=rule_name,
                       argnames=tuple(argnames or ()), primal=fn, replace=True, **fields)
    rule.extra["user"] = True
    if not _dispatches(fn):
        box[0] = rule
    return key


class custom_jvp:
    """A function with a JVP rule of its own, as ``jax.custom_jvp``.

    Decorate the function, then its rule with ``@f.defjvp``. The rule receives the
    tuple of primals and the tuple of tangents (zeros where an argument has none) and
    returns ``(primal_out, tangent_out)``. Rules run once per tangent direction (a batch
    of K directions is K calls); they run on Duals when derivatives are nested, so write
    them with NumPy calls. ``domain=`` (a strategy builder, or a tuple of Intervals for
    an elementwise function) lets ``dn.testing.check_rule`` test the rule.

    >>> import numpy as np, dualnum as dn
    >>> @dn.custom_jvp
    ... def log1pexp(x):
    ...     return np.log1p(np.exp(x))    # overflows for large x, and so would its JVP
    >>> @log1pexp.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return np.logaddexp(0.0, x), t * dn.sigmoid(x)
    >>> float(dn.derivative(log1pexp)(1000.0)), float(dn.derivative(log1pexp, order=2)(0.0))
    (1.0, 0.25)
    """

    def __init__(self, fun=None, *, domain=None, note=""):
        if fun is None:  # used as @custom_jvp(domain=...)
            self._pending = dict(domain=domain, note=note)
            return
        self._setup(fun, domain, note)

    def _setup(self, fun, domain, note):
        if not callable(fun):
            raise TypeError(f"custom_jvp needs a function, got {type(fun).__name__}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.jvp = None
        if isinstance(domain, tuple):
            domain = _elementwise_domain(domain)
        self.rule = Rule(fn=self, name=short_name(fun), primal=fun, jvps=(), kind="custom",
                         domain=domain, note=note,
                         value_and_tangent=self._value_and_tangent, extra={"user": True})

    def defjvp(self, jvp):
        """Set the rule: ``jvp(primals, tangents) -> (primal_out, tangent_out)``."""
        if not callable(jvp):
            raise TypeError(f"defjvp needs a function, got {type(jvp).__name__}")
        self.jvp = jvp
        self.rule.extra["text"] = _first_line(jvp)
        register(self.rule, replace=True)
        return jvp

    def __call__(self, *args, **kwargs):
        if not hasattr(self, "fun"):  # @custom_jvp(domain=...) receiving the function
            (fun,) = args
            pending = self.__dict__.pop("_pending")
            self._setup(fun, **pending)
            return self
        if _has_dual(args):
            if self.jvp is None:
                raise TypeError(f"{self.rule.name} is a custom_jvp function without a rule: "
                                "set one with @f.defjvp before differentiating it")
            return apply(self.rule, args, kwargs)
        return self.fun(*args, **kwargs)

    def _value_and_tangent(self, primals, tangents, kwargs, k):
        zeros = [np.zeros(np.shape(p), _dtype(p)) for p in primals]
        if k is None:
            ts = tuple(z if t is None else t for z, t in zip(zeros, tangents))
            return self.jvp(tuple(primals), ts, **kwargs)
        y, outs = None, []
        for i in range(k):
            ts = tuple(z if t is None else t[i] for z, t in zip(zeros, tangents))
            y, t = self.jvp(tuple(primals), ts, **kwargs)
            outs.append(t)
        return y, np.stack(outs)

    def __repr__(self):
        return f"<custom_jvp {self.rule.name}>"


def _dtype(p):
    dt = np.result_type(p)
    return dt if dt.kind == "f" else np.float64


def _first_line(fn):
    doc = (fn.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def _elementwise_domain(intervals):
    def build(s):
        return s.intervals_call(intervals)

    return build
