"""Derivative test kit: ``check_jvp`` against central finite differences, ``check_rule``
(the checks every rule of the table passes, for your own rules too), and hypothesis
strategies (:mod:`dualnum.testing.strategies`) that draw valid inputs for every rule.

>>> import numpy as np, dualnum as dn
>>> dn.testing.check_jvp(lambda x: np.sin(x) * x, (np.linspace(-1, 1, 5),))
"""
from __future__ import annotations

import numpy as np

from ..core.pytree import check_same_structure, flatten, leaves_with_paths, unflatten
from ..core.rules import Interval
from ..transforms import jvp

__all__ = ["check_jvp", "check_rule", "check_call", "check_second_order", "strategies",
           "finite_difference", "Interval"]


def __getattr__(name):
    if name == "strategies":
        import importlib

        return importlib.import_module(".strategies", __name__)
    raise AttributeError(name)


def _to64(tree):
    leaves, td = flatten(tree)
    return unflatten(td, [np.asarray(x, dtype=np.float64) for x in leaves])


def finite_difference(f, primals, tangents, eps=1e-6):
    """Central difference ``(f(p + eps t) - f(p - eps t)) / (2 eps)`` in float64,
    as a pytree like ``f``'s output."""
    pl, td = flatten(tuple(primals))
    tl, _ = flatten(tuple(tangents))
    plus = unflatten(td, [p + eps * t for p, t in zip(pl, tl)])
    minus = unflatten(td, [p - eps * t for p, t in zip(pl, tl)])
    fp, otd = flatten(f(*plus))
    fm, _ = flatten(f(*minus))
    return unflatten(otd, [(np.asarray(a, np.float64) - np.asarray(b, np.float64)) / (2 * eps)
                           for a, b in zip(fp, fm)])


def check_jvp(f, primals, tangents=None, *, rtol=1e-5, atol=1e-6, eps=1e-6, rng=None):
    """Check ``jvp(f, primals, tangents)`` against a central finite difference in float64.

    ``primals`` is a tuple with one pytree per argument of ``f`` (which must also accept
    plain arrays). ``tangents=None`` draws random normal tangents from ``rng`` (default
    seed 0). Raises ``AssertionError`` naming the output, the worst element's index and
    both values when ``|ad - fd| > atol + rtol * |fd|`` anywhere.

    >>> import numpy as np, dualnum as dn
    >>> dn.testing.check_jvp(np.exp, (np.array([0.0, 1.0]),))
    >>> dn.testing.check_jvp(lambda x: x * 3.0 + 1e-3, (np.array(1.0),),
    ...                      (np.array(1.0),))
    """
    if not isinstance(primals, (tuple, list)):
        raise TypeError("primals must be a tuple with one entry per argument of f")
    primals = _to64(tuple(primals))
    if tangents is None:
        rng = np.random.default_rng(0) if rng is None else rng
        leaves, td = flatten(primals)
        tangents = unflatten(td, [rng.standard_normal(np.shape(x)) for x in leaves])
    else:
        check_same_structure(primals, tuple(tangents))
        tangents = _to64(tuple(tangents))
    out, ad = jvp(f, primals, tangents)
    fd = finite_difference(f, primals, tangents, eps)
    ad_l = leaves_with_paths(ad, "out")
    fd_l = dict(leaves_with_paths(fd, "out"))
    for path, a in ad_l:
        a = np.asarray(a, np.float64)
        b = np.asarray(fd_l[path], np.float64)
        if a.shape != b.shape:
            raise AssertionError(f"{path}: tangent shape {a.shape} but the output has shape {b.shape}")
        err = np.abs(a - b)
        bad = ~(err <= atol + rtol * np.abs(b))  # NaN in either counts as bad
        if np.any(bad):
            excess = np.where(bad, np.nan_to_num(err - rtol * np.abs(b), nan=np.inf), -np.inf)
            idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), a.shape)) \
                if a.ndim else ()
            raise AssertionError(
                f"jvp disagrees with central finite differences at {path}{list(idx) if idx else ''}: "
                f"forward mode {float(a[idx])!r}, finite difference {float(b[idx])!r} "
                f"(|diff| {err[idx]:.3g} > atol {atol:g} + rtol {rtol:g} * |fd|; "
                f"{int(np.sum(bad))} of {a.size} elements fail; eps={eps:g})"
            )


from .rules import check_call, check_rule, check_second_order  # noqa: E402
