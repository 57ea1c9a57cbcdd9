"""``xp.special``: how SciPy finds dualnum's rules for its special functions.

Under ``SCIPY_ARRAY_API=1`` SciPy dispatches ``scipy.special.erf(x)`` and friends to
``xp.special.erf`` when the namespace ``xp`` has it. Here each name with a rule in the
table (``scipy.special.gammaln``, ``erf``, ``polygamma``, ...) is that rule; a name with
no rule is a function that raises TypeError naming it, so SciPy's last resort (which
converts the input with ``np.asarray``) is never reached. Names SciPy builds from other
special functions when a backend lacks them (``chdtr``, ``stdtr``, ``betaincc``, ...) are
left to SciPy, which then calls the rules of their parts.
"""
from __future__ import annotations

import inspect

from ..core.rules import lookup

# SciPy composes these from gammainc/betainc (scipy.special._support_alternative_backends)
_COMPOSED = frozenset({"betaincc", "chdtr", "chdtrc", "stdtr", "stdtrit"})


def _rule_function(name, fn):
    rule = lookup(fn)
    if rule is None:
        def missing(*args, **kwargs):
            raise TypeError(f"scipy.special.{name} has no dualnum rule (it is not "
                            "differentiable, or not supported yet); apply it to d.primal "
                            "if you mean the value only")
        missing.__name__ = name
        return missing
    from ..core.dual import apply
    from . import _in, _out

    def f(*args, **kwargs):
        if kwargs:
            raise TypeError(f"scipy.special.{name}: keyword arguments are not supported "
                            f"on Duals, got {sorted(kwargs)}")
        return _out(apply(rule, tuple(_in(a) for a in args), {}))

    f.__name__ = name
    return f


def __getattr__(name):
    if name.startswith("_") or name in _COMPOSED:
        raise AttributeError(name)
    try:
        import scipy.special as sc
    except ImportError:
        raise AttributeError(name) from None
    fn = getattr(sc, name, None)
    if fn is None:
        raise AttributeError(name)
    fn = inspect.unwrap(fn)  # under SCIPY_ARRAY_API=1, SciPy's wrapper of the ufunc
    if name == "zeta":
        from scipy.special import _ufuncs
        hurwitz = _rule_function(name, _ufuncs._zeta)

        def zeta(x, q=None):
            if q is None:
                raise TypeError("scipy.special.zeta(x) (Riemann's) has no dualnum rule: "
                                "the derivative in x has no closed form; zeta(x, q) is "
                                "differentiable in q")
            return hurwitz(x, q)
        f = zeta
    else:
        f = _rule_function(name, fn)
    globals()[name] = f
    return f
