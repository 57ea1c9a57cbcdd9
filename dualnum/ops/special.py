"""Special functions: erf and erfc (dualnum's own), and SciPy's special functions.

``erf``/``erfc`` are always here (``dn.erf``, ``dn.erfc``): NumPy has none and SciPy is
not a dependency. Their values come from numba (:mod:`dualnum.kernels.special`: Cody's
approximations in float64, a rational function in float32) and their fused kernels are
generated from the rules below, as for the ufuncs in :mod:`.elementwise`.

When SciPy is importable, ``scipy.special``'s ufuncs are rules in the same table: a Dual
passed to ``scipy.special.gammaln`` reaches the rule through ``__array_ufunc__``, as
``np.sin`` does. They are registered on first need (the first lookup that misses, or the
first listing of the table), so ``import dualnum`` does not import SciPy. SciPy's own
``erf``, ``erfc``, ``expit``, ``expm1``, ``log1p``, ``exp2`` and ``cbrt`` are keys of
dualnum's rules (``erf``, ``sigmoid``, NumPy's ufuncs): one rule, one kernel. SciPy's
Python functions (``polygamma``, ``zeta``, ``logsumexp``, ...) are reached through the
array API namespace (:mod:`dualnum.array_api`), under ``SCIPY_ARRAY_API=1``.

Arguments SciPy treats as parameters (a Bessel function's order ``v``, ``polygamma``'s
``n``, ``gammainc``'s ``a``) are not differentiated: a tangent on them raises TypeError.
Conventions at edge points are in each rule's ``note`` (JAX's where JAX has the function).
"""
from __future__ import annotations

import numpy as np

from ..core.dual import Dual, apply
from ..core.rules import (NONZERO, POSITIVE, REAL, Interval, by_name, defjvp, lazy, lead, align,
                          lookup, name_origin, register, to_shape)
from ..kernels import special as _k
from .elementwise import _ENV, elementwise


def _run(rule, args, kwargs=None):
    """Apply ``rule``: through the rule machinery when any argument is a Dual, otherwise
    the primal alone (plain arrays in, plain arrays out), by the rule's kernel when it
    has one that takes these arrays."""
    kwargs = kwargs or {}
    for a in args:
        if isinstance(a, Dual):
            return apply(rule, args, kwargs)
    if rule.normalize is not None:
        args, kwargs = rule.normalize(args, kwargs)
    if rule.fused is not None and rule.kind != "elementwise":
        res = rule.fused(args, (), kwargs, None)
        if res is not None:
            return res[0]
    return rule.primal(*args, **kwargs)


_TWO_OVER_SQRT_PI = "1.1283791670955126"


def erf(x):
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise.

    A few ulp in float64 (W. J. Cody's approximations), 1.6 ulp in float32. The same
    rule serves ``scipy.special.erf`` on Duals.

    >>> import numpy as np, dualnum as dn
    >>> dn.erf(np.array([0.0, 0.5, -3.0]))
    array([ 0.        ,  0.52049988, -0.99997791])
    >>> float(dn.erf(dn.Dual(np.array(0.0), np.array(1.0))).tangent)  # 2/sqrt(pi)
    1.1283791670955126
    """
    return _run(_ERF, (x,))


_ERF = elementwise(erf, f"{_TWO_OVER_SQRT_PI} * exp(-x * x)", primal=_k.erf, domain=(REAL,),
                   note="smooth everywhere", kernel_primal="erf(x)")


def erfc(x):
    """The complementary error function ``1 - erf(x)``, elementwise, without the
    cancellation of ``1 - erf(x)`` for large x.

    >>> import numpy as np, dualnum as dn
    >>> dn.erfc(np.array([0.0, 10.0]))
    array([1.00000000e+00, 2.08848758e-45])
    """
    return _run(_ERFC, (x,))


_ERFC = elementwise(erfc, f"-{_TWO_OVER_SQRT_PI} * exp(-x * x)", primal=_k.erfc,
                    domain=(REAL,), note="smooth everywhere", kernel_primal="erfc(x)")

# Partial derivatives elsewhere (gelu's) may call erf/erfc; both dispatch on Duals.
_ENV["erf"] = erf
_ENV["erfc"] = erfc


# ===================================================================== SciPy
_POLES = Interval(-3.9, 4.0, avoid=(0.0, -1.0, -2.0, -3.0), margin=0.1)
_OPEN01 = Interval(0.05, 0.95)
_ORDER = Interval(0.0, 3.0)  # a Bessel function's order v (not differentiated)
_AWAY = Interval(0.5, 4.0)  # arguments of functions singular at 0 (y_v, k_v)
_PARAM = "the parameter {} is not differentiated (no closed form)"


def _polygamma_jvp(g, y, n, x):
    """ẏ = ψ⁽ⁿ⁺¹⁾(x) ẋ"""
    d = _run(_POLYGAMMA, (np.add(n, 1), x))
    return to_shape(d * align(g, np.ndim(x), np.ndim(y)), lead(g, x), np.shape(y))


_POLYGAMMA = None


def polygamma(n, x):
    """``scipy.special.polygamma`` on Duals: the n-th derivative of the digamma function,
    differentiable in ``x`` (``n``, an integer, is not differentiated). Needs SciPy.

    >>> import numpy as np, dualnum as dn
    >>> from dualnum.ops.special import polygamma
    >>> d = polygamma(1, dn.Dual(np.array(1.0), np.array(1.0)))  # ψ'(1) = π²/6
    >>> round(float(d.primal), 12), round(float(d.tangent), 12)  # ψ''(1) = -2 ζ(3)
    (1.644934066848, -2.404113806319)
    """
    if _POLYGAMMA is None:
        _load_scipy()
        if _POLYGAMMA is None:
            raise ImportError("polygamma needs SciPy (pip install scipy)")
    return _run(_POLYGAMMA, (n, x))


def _load_scipy():
    """Register scipy.special's ufuncs (called once, on first need)."""
    global _POLYGAMMA
    if _POLYGAMMA is not None:
        return
    try:
        # The ufuncs themselves: under SCIPY_ARRAY_API=1 scipy.special's names are
        # Python wrappers around them (which reach these rules through dualnum.array_api).
        from scipy.special import _basic
        from scipy.special import _ufuncs as sc
    except ImportError:
        return
    names = {getattr(sc, n): f"scipy.special.{n}" for n in dir(sc)
             if isinstance(getattr(sc, n), np.ufunc) and not n.startswith("_")}
    names[sc._zeta] = names[sc._riemann_zeta] = "scipy.special.zeta"
    names[sc.psi] = "scipy.special.digamma"  # digamma is psi
    name_origin(names)

    # SciPy's copies of functions dualnum has: the same rules.
    register(_ERF, sc.erf)
    register(_ERFC, sc.erfc)
    register(by_name("sigmoid"), sc.expit)
    for f in ("expm1", "log1p", "exp2", "cbrt"):
        register(lookup(getattr(np, f)), getattr(sc, f))

    _POLYGAMMA = defjvp(polygamma, None, _polygamma_jvp, kind="special",
                        aliases=(_basic.polygamma,), primal=_basic.polygamma,
                        name="scipy.special.polygamma", argnames=("n", "x"),
                        domain=lambda s: s.polygamma_call(s), extra={"requires": "scipy"},
                        note="n (an integer) is not differentiated; poles at x = 0, -1, ...")
    _ENV.update(polygamma=polygamma, zeta=sc._zeta)
    _ENV["digamma"] = sc.psi
    for n in ("gammaln gamma i0 i1 i0e i1e iv ive jv yv kv kve j0 j1 y0 y1 k0 k1 "
              "k0e k1e ellipk ellipe cosdg sindg betaln jve yve struve modstruve hyp0f1 "
              "hyp2f1").split():
        _ENV[n] = getattr(sc, n)

    def E(fn, *partials, **kw):
        fn = getattr(sc, fn) if isinstance(fn, str) else fn
        return elementwise(fn, *partials, name=names[fn], requires="scipy", **kw)

    # --- error function family and the normal distribution
    E("erfinv", "0.886226925452758 * exp(y * y)", domain=(Interval(-0.95, 0.95),),
      note="infinite at ±1")
    E("erfcinv", "-0.886226925452758 * exp(y * y)", domain=(Interval(0.05, 1.95),),
      note="infinite at 0 and 2")
    E("erfcx", f"2 * x * y - {_TWO_OVER_SQRT_PI}", domain=(REAL,))
    E("dawsn", "1 - 2 * x * y", domain=(REAL,))
    E("ndtr", "0.3989422804014327 * exp(-0.5 * x * x)", domain=(REAL,))
    E("log_ndtr", "0.3989422804014327 * exp(-0.5 * x * x - y)",
      domain=(Interval(-20.0, 4.0),), note="φ(x)/Φ(x) as exp(log φ - log Φ): no 0/0 for x << 0")
    E("ndtri", "2.5066282746310002 * exp(0.5 * y * y)", domain=(_OPEN01,),
      note="infinite at 0 and 1")
    # --- logistic
    E("logit", "1 / (x * (1 - x))", domain=(_OPEN01,), note="infinite at 0 and 1")
    E("log_expit", "exp(y - x)", domain=(Interval(-30.0, 30.0),),
      note="1 - expit(x) as exp(log_expit(x) - x): no cancellation for x >> 0")
    # --- gamma family
    E("gammaln", "digamma(x)", domain=(_POLES,),
      note="log|Γ(x)|: ψ(x) also for x < 0; poles at 0, -1, -2, ...")
    E("gamma", "y * digamma(x)", domain=(_POLES,), note="poles at 0, -1, -2, ...")
    E("loggamma", "digamma(x)", domain=(POSITIVE,), note="real for x > 0 (NaN below)")
    E("rgamma", "-y * digamma(x)", domain=(_POLES,),
      note="1/Γ: the derivative at the zeros 0, -1, ... is (-1)^(n+1) n!, not computed "
           "by this formula (NaN there)")
    E(sc.psi, "polygamma(1, x)", domain=(_POLES,), note="poles at 0, -1, -2, ...")
    E("beta", "y * (digamma(a) - digamma(a + b))", "y * (digamma(b) - digamma(a + b))",
      domain=(POSITIVE, POSITIVE))
    E("betaln", "digamma(a) - digamma(a + b)", "digamma(b) - digamma(a + b)",
      domain=(POSITIVE, POSITIVE), note="log|B(a, b)|")
    E("poch", "y * (digamma(a + b) - digamma(a))", "y * digamma(a + b)",
      names=("a", "b"), domain=(POSITIVE, POSITIVE))
    E("gammainc", None, "exp((a - 1) * log(x) - x - gammaln(a))", names=("a", "x"),
      domain=(Interval(0.5, 4.0), POSITIVE), note=_PARAM.format("a"))
    E("gammaincc", None, "-exp((a - 1) * log(x) - x - gammaln(a))", names=("a", "x"),
      domain=(Interval(0.5, 4.0), POSITIVE), note=_PARAM.format("a"))
    E("betainc", None, None, "exp((a - 1) * log(x) + (b - 1) * log1p(-x) - betaln(a, b))",
      names=("a", "b", "x"), domain=(Interval(1.0, 4.0), Interval(1.0, 4.0), _OPEN01),
      note=_PARAM.format("a, b"))
    elementwise(sc._zeta, None, "-x * zeta(x + 1, q)", names=("x", "q"),
                name="scipy.special.zeta", requires="scipy",
                domain=(Interval(1.5, 4.0), Interval(0.5, 4.0)),
                note="Hurwitz ζ(x, q) in q only: ∂/∂x has no closed form (as JAX); "
                     "Riemann's ζ(x) has no rule")
    E("erfi", f"{_TWO_OVER_SQRT_PI} * exp(x * x)", domain=(Interval(-3.0, 3.0),))
    E("ndtri_exp", "2.5066282746310002 * exp(x + 0.5 * y * y)",
      domain=(Interval(-5.0, -0.1),), note="ndtri(exp(x)), x < 0")
    E("gammaincinv", None, "exp(gammaln(a) + y - (a - 1) * log(y))", names=("a", "p"),
      domain=(Interval(0.5, 4.0), _OPEN01), note=_PARAM.format("a"))
    E("gammainccinv", None, "-exp(gammaln(a) + y - (a - 1) * log(y))", names=("a", "p"),
      domain=(Interval(0.5, 4.0), _OPEN01), note=_PARAM.format("a"))
    E("betaincinv", None, None, "exp(betaln(a, b) - (a - 1) * log(y) - (b - 1) * log1p(-y))",
      names=("a", "b", "p"), domain=(Interval(1.0, 4.0), Interval(1.0, 4.0), _OPEN01),
      note=_PARAM.format("a, b"))
    E("owens_t", "-0.19947114020071635 * exp(-0.5 * h * h) * erf(0.7071067811865476 * a * h)",
      "exp(-0.5 * h * h * (1 + a * a)) / (6.283185307179586 * (1 + a * a))",
      names=("h", "a"), domain=(REAL, Interval(-3.0, 3.0)))
    E("gammasgn", "0", domain=(_POLES,), note="piecewise constant: derivative 0")
    # --- hypergeometric functions: in their argument x; a, b, c are parameters.
    # (hyp1f1 and hyperu have no rule: SciPy's values are off at tiny x and near integer
    # b, and their derivative formulas would carry that into tangents.)
    E("hyp0f1", None, "hyp0f1(v + 1, x) / v", names=("v", "x"),
      domain=(Interval(0.5, 3.0), REAL), note=_PARAM.format("v"))
    E("hyp2f1", None, None, None, "a * b / c * hyp2f1(a + 1, b + 1, c + 1, x)",
      names=("a", "b", "c", "x"),
      domain=(Interval(-1.5, 1.5), Interval(-1.5, 1.5), Interval(0.5, 3.0),
              Interval(-0.9, 0.9)), note=_PARAM.format("a, b, c") + "; |x| < 1")
    # --- information theory
    E("xlogy", "log(b)", "a / b", domain=(REAL, POSITIVE),
      note="0 where a == 0 (also for b == 0); the partials are log(b) and a/b as in JAX "
           "(-inf and NaN at b == 0)")
    E("xlog1py", "log1p(b)", "a / (1 + b)", domain=(REAL, Interval(-0.9, 4.0)),
      note="as xlogy, at b == -1")
    E("entr", "-(1 + log(x))", domain=(POSITIVE,),
      note="-x log x; at x == 0 the value is 0 and the derivative +inf; -inf for x < 0")
    E("rel_entr", "1 + log(a / b)", "-a / b", domain=(POSITIVE, POSITIVE),
      note="a log(a/b); at a == 0 the value is 0 and the partial in a -inf")
    E("kl_div", "log(a / b)", "1 - a / b", domain=(POSITIVE, POSITIVE),
      note="a log(a/b) - a + b; at a == 0 the partial in a is -inf")
    # --- robust losses and power transforms
    E("huber", "where(abs(b) <= a, 0, abs(b) - a)", "where(abs(b) <= a, b, a * sign(b))",
      names=("a", "b"), domain=(Interval(1.3, 1.7), Interval(-4.0, 4.0, avoid=(-1.5, 1.5),
                                                             margin=0.25)),
      note="huber(delta, r): continuously differentiable; the second derivative jumps at "
           "|r| == delta, where the quadratic branch's derivative is taken")
    E("pseudo_huber", "2 * y / a - b * b / (a * sqrt(1 + (b / a) * (b / a)))",
      "b / sqrt(1 + (b / a) * (b / a))", names=("a", "b"),
      domain=(Interval(0.3, 3.0), REAL), note="pseudo_huber(delta, r), delta > 0")
    _BOX_L = Interval(-2.0, 2.0, avoid=(0.0,), margin=0.05)
    E("boxcox", "a ** (b - 1)",
      "where(b == 0, 0.5 * log(a) * log(a), "
      "((b * y + 1) * log(a) - y) / where(b == 0, 1, b))",
      domain=(Interval(0.2, 4.0), _BOX_L),
      note="boxcox(x, lmbda); at lmbda == 0 (log x) the partial in lmbda is its limit "
           "log(x)²/2")
    E("boxcox1p", "(1 + a) ** (b - 1)",
      "where(b == 0, 0.5 * log1p(a) * log1p(a), "
      "((b * y + 1) * log1p(a) - y) / where(b == 0, 1, b))",
      domain=(Interval(-0.8, 3.0), _BOX_L), note="as boxcox, of 1 + x")
    _INV_L = Interval(-0.9, 0.9, avoid=(0.0,), margin=0.05)
    E("inv_boxcox", "y ** (1 - b)",
      "where(b == 0, -0.5 * a * a * y, y * (a / (where(b == 0, 1, b) * (1 + b * a)) "
      "- log1p(b * a) / where(b == 0, 1, b * b)))",
      domain=(Interval(-0.9, 0.9), _INV_L),
      note="inv_boxcox(y, lmbda); at lmbda == 0 (exp y) the partial in lmbda is its limit "
           "-y² exp(y)/2")
    E("inv_boxcox1p", "(y + 1) ** (1 - b)",
      "where(b == 0, -0.5 * a * a * (y + 1), (y + 1) * (a / (where(b == 0, 1, b) * "
      "(1 + b * a)) - log1p(b * a) / where(b == 0, 1, b * b)))",
      domain=(Interval(-0.9, 0.9), _INV_L), note="as inv_boxcox, minus 1")
    # --- exponentials and integrals
    E("exp10", "y * ln10", domain=(REAL,))
    E("cosm1", "-sin(x)", domain=(REAL,))
    E("powm1", "b * a ** (b - 1)", "(y + 1) * log(a)", domain=(POSITIVE, Interval(-3.0, 3.0)))
    E("exprel", "where(x == 0, 0.5, (exp(x) - y) / where(x == 0, 1, x))", domain=(NONZERO,),
      note="at x == 0 the derivative is its limit 1/2")
    E("expi", "exp(x) / x", domain=(POSITIVE,), note="log singularity at 0")
    E("exp1", "-exp(-x) / x", domain=(POSITIVE,), note="log singularity at 0")
    E("spence", "where(x == 1, -1, log(x) / (1 - where(x == 1, 0, x)))",
      domain=(Interval(0.05, 4.0, avoid=(1.0,), margin=0.05),),
      note="∫₁ˣ log t/(1 - t) dt; at x == 1 the derivative is its limit -1")
    E("sindg", "0.017453292519943295 * cosdg(x)", domain=(REAL,))
    E("cosdg", "-0.017453292519943295 * sindg(x)", domain=(REAL,))
    E("tandg", "0.017453292519943295 * (1 + y * y)", domain=(Interval(-80.0, 80.0),))
    E("cotdg", "-0.017453292519943295 * (1 + y * y)", domain=(Interval(10.0, 170.0),))
    E("radian", "0.017453292519943295", "0.0002908882086657216", "4.84813681109536e-06",
      names=("d", "m", "s"), domain=(REAL, REAL, REAL))
    E("round", "0", domain=(Interval(-4.0, 4.0, avoid=tuple(i + 0.5 for i in range(-5, 5)),
                                     margin=0.05),),
      note="piecewise constant: derivative 0, also at the jumps (JAX)")
    E("ellipkm1", "-(ellipe(1 - x) - x * y) / (2 * x * (1 - x))", domain=(_OPEN01,),
      note="K(1 - p); log singularity at p == 0")
    E("ellipkinc", "1 / sqrt(1 - m * sin(phi) * sin(phi))", None, names=("phi", "m"),
      domain=(Interval(-1.5, 1.5), Interval(0.0, 0.9)), note=_PARAM.format("m"))
    E("ellipeinc", "sqrt(1 - m * sin(phi) * sin(phi))", None, names=("phi", "m"),
      domain=(Interval(-1.5, 1.5), Interval(0.0, 0.9)), note=_PARAM.format("m"))
    E("ellipk", "(ellipe(x) - (1 - x) * y) / (2 * x * (1 - x))", domain=(_OPEN01,),
      note="K(m), parameter m; log singularity at m == 1")
    E("ellipe", "(y - ellipk(x)) / (2 * x)", domain=(_OPEN01,), note="E(m), parameter m")
    # --- Bessel functions: the order v is a parameter
    E("i0", "i1(x)", domain=(REAL,))
    # (iv(2, x) is NaN for subnormal x in SciPy 1.17; ive(2, x) is not)
    E("i1", "0.5 * (i0(x) + exp(abs(x)) * ive(2, x))", domain=(REAL,))
    E("i0e", "i1e(x) - sign(x) * y", domain=(NONZERO,),
      note="exp(-|x|) I0(x) has a kink at 0: derivative 0 there (sign(0) = 0, as |x| in JAX)")
    E("i1e", "0.5 * (i0e(x) + ive(2, x)) - sign(x) * y", domain=(NONZERO,),
      note="exp(-|x|) I1(x): the second derivative jumps at 0")
    E("iv", None, "0.5 * (iv(v - 1, x) + iv(v + 1, x))", names=("v", "x"),
      domain=(_ORDER, POSITIVE), note=_PARAM.format("v") + "; x < 0 needs an integer v")
    E("ive", None, "0.5 * (ive(v - 1, x) + ive(v + 1, x)) - sign(x) * y", names=("v", "x"),
      domain=(_ORDER, POSITIVE), note=_PARAM.format("v"))
    E("jv", None, "0.5 * (jv(v - 1, x) - jv(v + 1, x))", names=("v", "x"),
      domain=(_ORDER, POSITIVE), note=_PARAM.format("v"))
    E("yv", None, "0.5 * (yv(v - 1, x) - yv(v + 1, x))", names=("v", "x"),
      domain=(_ORDER, _AWAY), note=_PARAM.format("v") + "; singular at 0")
    E("kv", None, "-0.5 * (kv(v - 1, x) + kv(v + 1, x))", names=("v", "x"),
      domain=(_ORDER, _AWAY), note=_PARAM.format("v") + "; singular at 0")
    E("kve", None, "y - 0.5 * (kve(v - 1, x) + kve(v + 1, x))", names=("v", "x"),
      domain=(_ORDER, _AWAY), note=_PARAM.format("v") + "; singular at 0")
    E("jve", None, "0.5 * (jve(v - 1, x) - jve(v + 1, x))", names=("v", "x"),
      domain=(_ORDER, POSITIVE), note=_PARAM.format("v") + "; equals jv for real x")
    E("yve", None, "0.5 * (yve(v - 1, x) - yve(v + 1, x))", names=("v", "x"),
      domain=(_ORDER, _AWAY), note=_PARAM.format("v") + "; equals yv for real x")
    _STRUVE = "(0.5 * x) ** v / (1.7724538509055159 * gamma(v + 1.5))"
    E("struve", None, f"0.5 * (struve(v - 1, x) - struve(v + 1, x) + {_STRUVE})",
      names=("v", "x"), domain=(_ORDER, POSITIVE), note=_PARAM.format("v"))
    E("modstruve", None, f"0.5 * (modstruve(v - 1, x) + modstruve(v + 1, x) + {_STRUVE})",
      names=("v", "x"), domain=(_ORDER, POSITIVE), note=_PARAM.format("v"))
    E("j0", "-j1(x)", domain=(REAL,))
    E("j1", "0.5 * (j0(x) - jv(2, x))", domain=(REAL,))
    E("y0", "-y1(x)", domain=(_AWAY,), note="singular at 0")
    E("y1", "0.5 * (y0(x) - yv(2, x))", domain=(_AWAY,), note="singular at 0")
    E("k0", "-k1(x)", domain=(_AWAY,), note="singular at 0")
    E("k1", "-0.5 * (k0(x) + kv(2, x))", domain=(_AWAY,), note="singular at 0")
    E("k0e", "y - k1e(x)", domain=(_AWAY,), note="singular at 0")
    E("k1e", "y - 0.5 * (k0e(x) + kve(2, x))", domain=(_AWAY,), note="singular at 0")


lazy(_load_scipy)

__all__ = ["erf", "erfc", "polygamma"]
