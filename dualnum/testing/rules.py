"""The checks every rule in the table passes, for built-in and user rules alike.

:func:`check_rule` draws calls from a rule's own ``domain`` with hypothesis and runs, on
each, :func:`check_call`:

* the tangent against central finite differences in float64;
* linearity in the tangent;
* a batch of K tangents equals K single jvps;
* symbolic-zero tangents equal explicit zero tangents;
* a call through NumPy's dispatch equals the rule applied directly;
* float32 inputs stay float32 and agree with float64 within float32 tolerance;

and :func:`check_second_order`: the rule's tangent rule, run on Duals, agrees with finite
differences of itself; a jvp nested inside a jvp (two perturbation levels) agrees with
finite differences of the first derivative; and with a batch of directions at both
levels, as ``dn.hessian`` runs, it agrees with the single nested jvps.
"""
from __future__ import annotations

import numpy as np

from ..core.dual import apply
from ..core.pytree import flatten
from ..core.rules import Rule, lookup, tangent_of
from ..transforms import jvp
from . import check_jvp

__all__ = ["check_rule", "check_call", "check_second_order", "resolve"]


def resolve(rule):
    """A :class:`~dualnum.core.rules.Rule` from a rule, or from a function that has one
    (a NumPy function, a ``dn.defjvp`` result, a ``dn.custom_jvp`` function)."""
    if isinstance(rule, Rule):
        return rule
    found = lookup(rule)
    if found is None:
        found = getattr(rule, "rule", None)
    if not isinstance(found, Rule):
        raise TypeError(f"{rule!r} has no rule in dualnum's table; register one with "
                        "dn.defjvp or dn.custom_jvp")
    return found


def _leaves(tree):
    return [np.asarray(x) for x in flatten(tree)[0]]


def _close(a, b, rtol=1e-9, atol=1e-12, what=""):
    for x, y in zip(_leaves(a), _leaves(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=what)


def _fn(rule, call, slots, via=None):
    """The op through its public function (NumPy's dispatch for NumPy functions) or,
    with ``via="table"``, through the rule applied directly."""
    target = rule.fn if via is None else (lambda *a, **k: apply(rule, a, k))
    return call.function(target, slots)


def check_call(rule, call, seed=0):
    """Run the first-order checks of the module docstring on one ``call`` of ``rule``
    (a :class:`~dualnum.testing.strategies.Call`). Raises AssertionError."""
    slots = call.slots(rule)
    if not slots:
        return False
    xs = call.inputs(slots)
    f = _fn(rule, call, slots)
    rng = np.random.default_rng(seed)
    t1 = tuple(rng.standard_normal(x.shape) for x in xs)
    t2 = tuple(rng.standard_normal(x.shape) for x in xs)

    # 1. the tangent against central finite differences (float64)
    check_jvp(f, xs, t1, rtol=2e-5, atol=2e-6)
    y, j1 = jvp(f, xs, t1)
    _close(y, f(*xs), what="primal differs from the plain NumPy call")

    # 2. linear in the tangent
    _, j2 = jvp(f, xs, t2)
    _, j12 = jvp(f, xs, tuple(2.5 * a - b for a, b in zip(t1, t2)))
    for a, b, c in zip(_leaves(j1), _leaves(j2), _leaves(j12)):
        np.testing.assert_allclose(c, 2.5 * a - b, rtol=1e-9,
                                   atol=1e-9 * (1 + np.abs(a).max(initial=0)),
                                   err_msg="the tangent is not linear in the input tangent")

    # 3. K batched tangents equal K single jvps
    k = 3
    tb = tuple(np.stack([a, b, a - b]) for a, b in zip(t1, t2))
    _, jb = jvp(f, xs, tb, batched=True)
    for kk, single in enumerate((j1, j2, None)):
        if single is None:
            _, single = jvp(f, xs, tuple(a - b for a, b in zip(t1, t2)))
        _close([l[kk] for l in _leaves(jb)], single, what=f"batched direction {kk}")
    assert all(l.shape[0] == k for l in _leaves(jb)), "batched tangents lost their K axis"

    # 4. symbolic zeros equal explicit zeros, one input at a time and all at once
    for i in range(len(xs)):
        tz = tuple(None if m == i else t for m, t in enumerate(t1))
        te = tuple(np.zeros_like(t) if m == i else t for m, t in enumerate(t1))
        _close(jvp(f, xs, tz)[1], jvp(f, xs, te)[1], what=f"symbolic zero at input {i}")
    _, jz = jvp(f, xs, tuple(None for _ in xs))
    assert all(not np.any(l) for l in _leaves(jz)), "symbolic zeros gave a nonzero tangent"

    # 5. the public function gives what the rule gives
    g = _fn(rule, call, slots, via="table")
    _close(jvp(g, xs, t1), (y, j1), rtol=0, atol=0, what="public function vs rule table")

    # 6. float32 in, float32 out, within float32 tolerance of float64
    xs32 = tuple(x.astype(np.float32) for x in xs)
    t32 = tuple(t.astype(np.float32) for t in t1)
    y32, j32 = jvp(f, xs32, t32)
    want = _leaves(f(*xs32))
    for a, b, w in zip(_leaves(y32), _leaves(y), want):
        assert a.dtype == w.dtype, f"primal dtype {a.dtype}, NumPy gives {w.dtype}"
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3 * (1 + np.abs(b).max(initial=0)))
    for a, b, w in zip(_leaves(j32), _leaves(j1), want):
        if w.dtype.kind != "f":
            continue  # integer pieces (np.unique's indices, np.frexp's exponents)
        assert a.dtype == w.dtype, f"tangent dtype {a.dtype}, primal dtype {w.dtype}"
        np.testing.assert_allclose(a, b, rtol=5e-3, atol=5e-3 * (1 + np.abs(b).max(initial=0)))
    return True


def _tangent_rule_fn(rule, call, slots):
    """h(*xs, *gs) = the rule's tangent rule evaluated at xs along gs. Run on Duals it
    is differentiated by the same table."""
    m = len(slots)

    def h(*xg):
        xs, gs = xg[:m], xg[m:]
        args = [list(a) if isinstance(a, list) else a for a in call.args]
        tans = [None] * len(args)
        for (i, j), x, g in zip(slots, xs, gs):
            if j is None:
                args[i], tans[i] = x, g
            else:
                args[i][j] = x
                if tans[i] is None:
                    tans[i] = [None] * len(args[i])
                tans[i][j] = g
        kwargs = dict(call.kwargs)
        if rule.normalize is not None:
            args, kwargs = rule.normalize(tuple(args), kwargs)
        elif kwargs and rule.argnames:
            from ..core.rules import _move_kwargs

            args = _move_kwargs(rule, tuple(args), kwargs)
        y = apply(rule, tuple(args), dict(kwargs))
        if rule.value_and_tangent is not None:
            t = rule.value_and_tangent(list(args), tans, kwargs, None)[1]
        else:
            t = tangent_of(rule, y, list(args), tans, kwargs)
        if isinstance(t, list):  # a multi-output rule's symbolic zeros, made explicit
            return [o * 0.0 if ti is None else ti for o, ti in zip(y, t)]
        return y * 0.0 if t is None else t  # a symbolic zero, as the zeros it stands for

    return h


def check_second_order(rule, call, seed=0):
    """The second-order checks of the module docstring on one call of ``rule``."""
    slots = call.slots(rule)
    if not slots:
        return False
    xs = call.inputs(slots)
    rng = np.random.default_rng(seed)
    gs = tuple(rng.standard_normal(x.shape) for x in xs)
    f = _fn(rule, call, slots)
    # the tangent rule, called directly on arrays and then on Duals
    h = _tangent_rule_fn(rule, call, slots)
    plain = h(*xs, *gs)
    _, first = jvp(f, xs, gs)
    _close(plain, first, what="tangent rule called directly vs through jvp")
    check_jvp(h, xs + gs, rtol=1e-4, atol=1e-5, eps=1e-5)
    # a jvp inside a jvp: d/dv (J(x) u) against finite differences of J(x) u
    us = tuple(rng.standard_normal(x.shape) for x in xs)
    inner = lambda *x: jvp(f, x, us)[1]  # noqa: E731
    check_jvp(inner, xs, gs, rtol=1e-4, atol=1e-5, eps=1e-5)
    # ... and with a batch of directions at both levels (as hessian runs): entry [i, j]
    # is the single nested jvp along outer direction i and inner direction j
    us2 = tuple(rng.standard_normal(x.shape) for x in xs)
    gs2 = tuple(rng.standard_normal(x.shape) for x in xs)
    ub = tuple(np.stack([a, b]) for a, b in zip(us, us2))
    gb = tuple(np.stack([a, b]) for a, b in zip(gs, gs2))
    both = jvp(lambda *x: jvp(f, x, ub, batched=True)[1], xs, gb, batched=True)[1]
    one = jvp(inner, xs, gs)[1]
    other = jvp(lambda *x: jvp(f, x, us2)[1], xs, gs2)[1]
    _close([l[0, 0] for l in _leaves(both)], one, rtol=1e-9, atol=1e-10,
           what="batched at both levels, directions (0, 0)")
    _close([l[1, 1] for l in _leaves(both)], other, rtol=1e-9, atol=1e-10,
           what="batched at both levels, directions (1, 1)")
    return True


def check_rule(rule, *, max_examples=None, second_order=True):
    """Test a rule (or a function with one) as dualnum tests its own table: hypothesis
    draws calls from the rule's ``domain`` and :func:`check_call` (and, with
    ``second_order``, :func:`check_second_order`) runs on each. Raises on the first
    failing example, with hypothesis's report of it.

    >>> import numpy as np, dualnum as dn
    >>> def softsign(x):
    ...     return x / (1 + np.abs(x))
    >>> softsign = dn.defjvp(softsign, "1 / ((1 + abs(x)) * (1 + abs(x)))",
    ...                      domain=(dn.testing.Interval(-4, 4, avoid=(0.0,)),))
    >>> dn.testing.check_rule(softsign, max_examples=20)
    """
    from hypothesis import assume, given, settings, strategies as st

    from .strategies import rule_calls

    rule = resolve(rule)
    if rule.domain is None:
        raise ValueError(f"{rule.name} has no domain to draw test inputs from: give "
                         "domain= when registering it (see dn.defjvp)")
    opts = {} if max_examples is None else {"max_examples": max_examples}

    @settings(**opts)
    @given(data=st.data())
    def run(data):
        call = data.draw(rule_calls(rule), label="call")
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        assume(call.slots(rule))
        check_call(rule, call, seed)
        if second_order:
            check_second_order(rule, call, seed)

    run()
