"""Elementwise rules: each ufunc next to its partial derivatives.

Each line reads like DiffRules.jl: the ufunc, then one partial derivative expression per
argument, written in terms of the arguments (``x``; or ``a``, ``b``) and the output ``y``.
The tangent is ``sum_i partial_i * tangent_i``. A partial of ``"0"`` means the op is
piecewise constant: its tangent is a symbolic zero.

The same expression string is used three ways: evaluated with NumPy (any shape, batched
tangents, broadcasting), evaluated on Duals (nested duals), and compiled into a fused numba
kernel (``dualnum/kernels/_elementwise.py``, generated from this table by
``python -m dualnum.kernels.generate``).

Conventions at non-differentiable points follow JAX:

* ``absolute``/``fabs`` at 0: derivative ``sign(0) = 0``.
* ``maximum``/``minimum``/``fmax``/``fmin`` on ties ``a == b``: each argument gets half,
  so the derivative of ``maximum(x, x)`` is 1 (JAX's balanced rule).
* ``sign``, ``floor``, ``ceil``, ``trunc``, ``rint``: derivative 0 everywhere (also at jumps).
* ``clip(x, lo, hi)`` at ``x == lo`` or ``x == hi``: derivative 0 for every argument
  (as ``lax.clamp``); strictly inside it is 1 for ``x``, strictly outside 1 for the bound.
* ``power(a, b)`` at ``a == 0``: the partial in ``b`` is 0 (JAX), not ``0 * -inf``.
"""
from __future__ import annotations

import numpy as np

from ..core.rules import (NONZERO, POSITIVE, REAL, UNIT_OPEN, Interval, Rule, align,
                          defjvp, lead, register, to_shape)

# Names the derivative expressions may use. All of them dispatch on Duals too.
_ENV = {
    name: getattr(np, name)
    for name in ("sin cos tan sinh cosh tanh exp exp2 log sqrt sign abs where isnan "
                 "isfinite logical_and log1p expm1 square floor_divide trunc").split()
}
_ENV.update(ln2=float(np.log(2.0)), ln10=float(np.log(10.0)), pi=float(np.pi))


def _compile(expr, names):
    """A Python function of (*names, y) evaluating ``expr`` with NumPy."""
    src = f"lambda {', '.join(names)}, y: {expr}"
    return eval(compile(src, f"<partial {expr}>", "eval"), dict(_ENV))


def _constant(expr):
    try:
        return float(expr)
    except (TypeError, ValueError):
        return None


def elementwise(fn, *partials, domain, names=None, note="", primal=None, name=None,
                normalize=None, replace=False, **extra):
    """Register an elementwise op. ``partials[i]`` is the derivative with respect to
    argument i, as an expression string (or None when that argument is not
    differentiable)."""
    n = len(partials)
    if names is None:
        names = ("x",) if n == 1 else ("a", "b") if n == 2 else tuple("abc"[:n])
    consts = tuple(None if p is None else _constant(p) for p in partials)
    funcs = tuple(None if p is None or c is not None else _compile(p, names)
                  for p, c in zip(partials, consts))
    rule_name = name or fn.__name__

    f0 = funcs[0]
    c0 = consts[0]

    def tangent(out, primals, tangents, kwargs):
        if n == 1:
            # One argument: the common case, without the alignment bookkeeping.
            g = tangents[0]
            if c0 is None:
                return f0(primals[0], out) * g
            return None if c0 == 0.0 else g if c0 == 1.0 else c0 * g
        total = None
        g_lead = ()
        oshape = out.shape
        for i, g in enumerate(tangents):
            if g is not None and type(g) is np.ndarray and g.shape == oshape \
                    and partials[i] is not None and getattr(primals[i], "shape", ()) == oshape:
                # Input, output and tangent share one shape, so there are no batch axes
                # and nothing to align. (A batch of K tangents of a 0-d input can have
                # the output's shape by coincidence; the primal's shape tells them apart.)
                c = consts[i]
                if c is None:
                    term = funcs[i](*primals, out) * g
                elif c == 0.0:
                    continue
                else:
                    term = g if c == 1.0 else -g if c == -1.0 else c * g
                total = term if total is None else total + term
                continue
            if g is None:
                continue
            c = consts[i]
            if partials[i] is None:
                raise TypeError(f"{rule_name}: argument {names[i]!r} is not differentiable")
            if c == 0.0:
                continue
            xi = primals[i]
            nd = np.ndim(xi)
            g_lead = g.shape[: g.ndim - nd]
            ga = align(g, nd, out.ndim)
            if c == 1.0:
                term = ga
            elif c == -1.0:
                term = -ga
            elif c is not None:
                term = c * ga
            else:
                term = funcs[i](*primals, out) * ga
            total = term if total is None else total + term
        if total is None:
            return None
        return to_shape(total, g_lead, out.shape)

    rule = Rule(
        fn=fn, name=rule_name, primal=primal or fn, jvps=(), kind="elementwise",
        domain=domain, note=note, partials=partials, argnames=names, tangent=tangent,
        extra=dict(extra), normalize=normalize,
    )
    rule.extra["partial_fns"] = funcs
    return register(rule, replace=replace)


def _clip_args(args, kwargs):
    # np.clip takes a_min/a_max (or min/max) and None for an open side; the partials want
    # numbers, and -inf/inf clip nothing.
    a, lo, hi = (tuple(args) + (None, None))[:3]
    lo = kwargs.pop("a_min", kwargs.pop("min", None)) if lo is None else lo
    hi = kwargs.pop("a_max", kwargs.pop("max", None)) if hi is None else hi
    if kwargs:
        raise TypeError(f"clip: unsupported arguments {sorted(kwargs)} with Duals")
    return (a, -np.inf if lo is None else lo, np.inf if hi is None else hi), {}


def _where_args(args, kwargs):
    if len(args) != 3 or kwargs:
        raise TypeError("np.where(condition) alone returns indices and has no derivative; "
                        "call np.where(condition, a, b) or use d.primal")
    return args, kwargs


E = elementwise
# --- arithmetic -------------------------------------------------------------------
E(np.add, "1", "1", domain=(REAL, REAL))
E(np.subtract, "1", "-1", domain=(REAL, REAL))
E(np.multiply, "b", "a", domain=(REAL, REAL))
E(np.divide, "1 / b", "-y / b", domain=(REAL, NONZERO))  # np.true_divide is np.divide
E(np.negative, "-1", domain=(REAL,))
E(np.positive, "1", domain=(REAL,))
# At a == b == 0 the base is replaced by 1, so d/da a**0 is 0 everywhere, 0 included
# (PyTorch; JAX has nan there for a float b), and so are its derivatives: the rule
# evaluated on Duals meets the same where. Elsewhere the formula is the analytic one, so
# every mixed derivative in a and b stays exact.
_POW_A = "b * where((a == 0) & (b == 0), 1, a) ** (b - 1)"
_POW_B = "where(a == 0, 0, y * log(where(a == 0, 1, a)))"
_POW_NOTE = ("d/da a**0 = 0 also at a == 0 (PyTorch), and at a == 0 the partial in b is 0 "
             "(JAX, PyTorch); for a < 0 only integer b is real (the partial in b is nan)")
E(np.power, _POW_A, _POW_B, domain=(POSITIVE, Interval(-3.0, 3.0)), note=_POW_NOTE)
E(np.float_power, _POW_A, _POW_B, domain=(POSITIVE, Interval(-3.0, 3.0)),
  note="as power, computed in float64")
E(np.square, "2 * x", domain=(REAL,))
E(np.sqrt, "0.5 / y", domain=(POSITIVE,), note="infinite at 0")
E(np.cbrt, "1 / (3 * y * y)", domain=(NONZERO,), note="infinite at 0")
E(np.reciprocal, "-y * y", domain=(NONZERO,))
# --- exponentials and logarithms --------------------------------------------------
E(np.exp, "y", domain=(REAL,))
E(np.exp2, "y * ln2", domain=(REAL,))
E(np.expm1, "y + 1", domain=(REAL,))
E(np.log, "1 / x", domain=(POSITIVE,))
E(np.log2, "1 / (x * ln2)", domain=(POSITIVE,))
E(np.log10, "1 / (x * ln10)", domain=(POSITIVE,))
E(np.log1p, "1 / (1 + x)", domain=(Interval(-0.9, 4.0),))
E(np.logaddexp, "exp(a - y)", "exp(b - y)", domain=(REAL, REAL))
E(np.logaddexp2, "exp2(a - y)", "exp2(b - y)", domain=(REAL, REAL))
# --- trigonometric and hyperbolic -------------------------------------------------
E(np.sin, "cos(x)", domain=(REAL,))
E(np.cos, "-sin(x)", domain=(REAL,))
E(np.tan, "1 + y * y", domain=(Interval(-1.4, 1.4),))
E(np.arcsin, "1 / sqrt(1 - x * x)", domain=(UNIT_OPEN,))
E(np.arccos, "-1 / sqrt(1 - x * x)", domain=(UNIT_OPEN,))
E(np.arctan, "1 / (1 + x * x)", domain=(REAL,))
E(np.arctan2, "b / (a * a + b * b)", "-a / (a * a + b * b)", domain=(NONZERO, NONZERO),
  note="jumps by 2π across a == 0, b < 0; tests keep a away from 0")
E(np.hypot, "a / y", "b / y", domain=(NONZERO, NONZERO), note="undefined at (0, 0)")
E(np.sinh, "cosh(x)", domain=(REAL,))
E(np.cosh, "sinh(x)", domain=(REAL,))
E(np.tanh, "1 - y * y", domain=(REAL,))
E(np.arcsinh, "1 / sqrt(x * x + 1)", domain=(REAL,))
E(np.arccosh, "1 / sqrt(x * x - 1)", domain=(Interval(1.05, 4.0),))
E(np.arctanh, "1 / (1 - x * x)", domain=(UNIT_OPEN,))
E(np.deg2rad, str(np.pi / 180), domain=(REAL,))
E(np.rad2deg, str(180 / np.pi), domain=(REAL,))
# --- piecewise: the special cases are written here by hand, see the module docstring
E(np.absolute, "sign(x)", domain=(NONZERO,), note="derivative 0 at x == 0 (JAX)")
E(np.fabs, "sign(x)", domain=(NONZERO,), note="derivative 0 at x == 0 (JAX)")
_TIE = "ties a == b give each argument half (JAX's balanced rule)"
_SEP = 0.05  # tests keep a and b this far apart, where the one-sided limits agree
E(np.maximum, "(a > b) + 0.5 * (a == b)", "(b > a) + 0.5 * (a == b)",
  domain=(REAL, REAL), note=_TIE, separate=_SEP)
E(np.minimum, "(a < b) + 0.5 * (a == b)", "(b < a) + 0.5 * (a == b)",
  domain=(REAL, REAL), note=_TIE, separate=_SEP)
# fmax/fmin ignore a NaN operand, so the other one gets the whole derivative.
E(np.fmax, "where(isnan(b), 1, (a > b) + 0.5 * (a == b))",
  "where(isnan(a), 1, (b > a) + 0.5 * (a == b))",
  domain=(REAL, REAL), note=_TIE + "; a NaN operand passes the derivative to the other",
  separate=_SEP)
E(np.fmin, "where(isnan(b), 1, (a < b) + 0.5 * (a == b))",
  "where(isnan(a), 1, (b < a) + 0.5 * (a == b))",
  domain=(REAL, REAL), note=_TIE + "; a NaN operand passes the derivative to the other",
  separate=_SEP)
_INTS = Interval(-4.0, 4.0, avoid=tuple(range(-4, 5)), margin=0.05)
_HALVES = Interval(-4.0, 4.0, avoid=tuple(i + 0.5 for i in range(-5, 5)), margin=0.05)
for _f, _jumps in ((np.sign, NONZERO), (np.floor, _INTS), (np.ceil, _INTS),
                   (np.trunc, _INTS), (np.rint, _HALVES)):
    E(_f, "0", domain=(_jumps,), note="piecewise constant: derivative 0, also at the jumps (JAX)")
E(np.clip, "(a > a_min) & (a < a_max)", "a < a_min", "a > a_max", names=("a", "a_min", "a_max"),
  normalize=_clip_args, domain=(REAL, Interval(-4.0, -0.5), Interval(0.5, 4.0)),
  note="derivative 0 for every argument at x == lo or x == hi (as lax.clamp)",
  separate=_SEP)
E(np.where, None, "where(c, 1, 0)", "where(c, 0, 1)", names=("c", "a", "b"),
  normalize=_where_args, domain=("bool", REAL, REAL), note="the condition is not differentiated")
# --- more piecewise and bookkeeping ops -------------------------------------------
E(np.fix, "0", domain=(_INTS,), note="piecewise constant: derivative 0, also at the jumps (JAX)")
for _f in (np.round, np.around):
    E(_f, "0", domain=(_HALVES,), name=_f.__name__,
      note="piecewise constant: derivative 0, also at the jumps (JAX)")
# Quotients 2 and 3, away from the jumps of a mod b (where a / b is an integer); other
# signs and quotients are tested in tests/test_shape_order.py.
_DIVIDEND = Interval(4.3, 7.8, avoid=(6.15,), margin=0.3)
_DIVISOR = Interval(1.95, 2.1, margin=0.01)
_JUMP = ("at a / b integer (the jumps) the one-sided derivative of the branch NumPy's "
         "value comes from")
E(np.floor_divide, "0", "0", domain=(_DIVIDEND, _DIVISOR),
  note="piecewise constant: derivative 0, also at the jumps (JAX)")
E(np.remainder, "1", "-floor_divide(a, b)", domain=(_DIVIDEND, _DIVISOR), note=_JUMP)
E(np.fmod, "1", "-trunc(a / b)", domain=(_DIVIDEND, _DIVISOR), note=_JUMP)
E(np.copysign, "sign(a) * sign(y)", "0", domain=(NONZERO, NONZERO),
  note="at a == 0 the partial in a is 0 (as abs); the sign of b is piecewise constant")
E(np.heaviside, "0", "where(a == 0, 1, 0)", domain=(NONZERO, REAL),
  note="derivative 0 in x1, also at the step; at x1 == 0 the value is x2, so 1 in x2")
E(np.degrees, str(180 / np.pi), domain=(REAL,))
E(np.radians, str(np.pi / 180), domain=(REAL,))
# sinc(x) = sin(πx) / (πx). Near 0 the quotient rule cancels badly, so its Taylor
# polynomial is used there: exact derivatives at 0 up to sixth order (sinc'(0) = 0).
E(np.sinc, "where(abs(x) < 1e-3, x * (x * x * (3.246969701133414 - 1.144510944732505 * x * x)"
  " - 3.289868133696453), (cos(pi * x) - y) / where(abs(x) < 1e-3, 1, x))",
  domain=(REAL,), note="sinc'(0) = 0; near 0 a Taylor polynomial (every order correct)")


def _nan_to_num_primal(x, copy=True, nan=0.0, posinf=None, neginf=None):
    if not copy:
        raise TypeError("nan_to_num(copy=False) writes into its argument; a Dual is a value, "
                        "so use the returned array (copy=True)")
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


E(np.nan_to_num, "isfinite(x)", primal=_nan_to_num_primal, domain=(REAL,),
  note="derivative 1 at finite points and 0 where nan or ±inf is replaced (constants)")
# Real input only (complex numbers are outside dualnum): real and conjugate are the
# identity, imag is 0 and angle is piecewise constant.
E(np.conjugate, "1", domain=(REAL,))
E(np.real, "1", domain=(REAL,))
E(np.real_if_close, "1", domain=(REAL,))
E(np.imag, "0", domain=(REAL,), note="0 for real input")
E(np.angle, "0", domain=(NONZERO,),
  note="real input: 0 for x >= 0 and pi (180 with deg=True) for x < 0, derivative 0")
del E, _f, _jumps


# --- ufuncs with two outputs, and ldexp (integer exponents) -------------------------
def _divmod_tangent(outs, primals, tangents, kwargs):
    """q̇ = 0; ṙ = ȧ - floor(a / b) ḃ"""
    from ..core.rules import lookup

    return [None, lookup(np.remainder).tangent(outs[1], primals, tangents, kwargs)]


defjvp(np.divmod, kind="arithmetic", multi_output=True, tangent=_divmod_tangent,
       argnames=("a", "b"), domain=lambda s: s.divmod_call(), note=_JUMP)


def _modf_tangent(outs, primals, tangents, kwargs):
    """ḟrac = ẋ; i̇nt = 0"""
    return [tangents[0], None]


defjvp(np.modf, kind="arithmetic", multi_output=True, tangent=_modf_tangent,
       argnames=("x",), domain=lambda s: s.modf_call(),
       note="the integer part is piecewise constant; at integers the fraction jumps")


def _frexp_tangent(outs, primals, tangents, kwargs):
    """ṁ = ẋ 2^-e; the exponent e is an integer array"""
    return [tangents[0] * np.ldexp(1.0, -outs[1]), None]


defjvp(np.frexp, kind="arithmetic", multi_output=True, tangent=_frexp_tangent,
       argnames=("x",), domain=lambda s: s.frexp_call(),
       note="the mantissa jumps where |x| is a power of 2; 0 maps to (0, 0)")


def _ldexp_jvp(g, y, x1, x2):
    """ẏ = ẋ1 2^x2"""
    return to_shape(align(g, np.ndim(x1), np.ndim(y)) * np.ldexp(1.0, x2),
                    lead(g, x1), np.shape(y))


defjvp(np.ldexp, _ldexp_jvp, None, kind="arithmetic", argnames=("x1", "x2"),
       domain=lambda s: s.ldexp_call(), note="x2 is an integer array: no derivative")

# --- comparisons and logic: facts about the primals, plain boolean arrays. Python's
# operators on a Dual compare primals directly; these entries serve NumPy's ufuncs, which
# is how `ndarray < Dual` and `np.float64(1.5) < Dual` arrive.
for _f in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
           np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.isfinite,
           np.isnan, np.isinf, np.signbit):
    defjvp(_f, kind="query", text="no tangent: a fact about the primal")
del _f
