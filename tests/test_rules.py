"""Every rule in the table is tested here because it is in the table.

For each rule, hypothesis draws valid calls from the rule's own domain (shapes,
broadcasting, 0-d, axes) and checks, on every example:

* the tangent against central finite differences in float64;
* linearity in the tangent;
* a batch of K tangents equals K single jvps;
* symbolic-zero tangents equal explicit zero tangents;
* plain ``np.`` calls on Duals equal the rule table's own entry;
* float32 inputs stay float32 and agree with float64 within float32 tolerance.
"""
import operator

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import dualnum as dn
from dualnum.core import rules as R
from dualnum.core.pytree import flatten
from dualnum.testing import check_jvp
from dualnum.testing.strategies import rule_calls

RULES = [r for r in dn.rules_table() if r.kind != "query"]
# Second-order checks cost more per example; a quarter of the profile's examples.
settings_nested = settings(max_examples=max(settings.default.max_examples // 4, 10))


def _fn(rule, call, slots, via=None):
    """The op through NumPy's dispatch (``via=None``) or the rule table directly."""
    target = rule.fn if via is None else (lambda *a, **k: R.apply(rule, a, k))
    return call.function(target, slots)


def _leaves(tree):
    return [np.asarray(x) for x in flatten(tree)[0]]


def _close(a, b, rtol=1e-9, atol=1e-12, what=""):
    for x, y in zip(_leaves(a), _leaves(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@given(data=st.data())
def test_rule(rule, data):
    call = data.draw(rule_calls(rule), label="call")
    slots = call.slots(rule)
    assume(slots)  # reject this example only; a rule that never draws one fails
    xs = call.inputs(slots)
    f = _fn(rule, call, slots)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    t1 = tuple(rng.standard_normal(x.shape) for x in xs)
    t2 = tuple(rng.standard_normal(x.shape) for x in xs)

    # 1. the tangent against central finite differences (float64)
    check_jvp(f, xs, t1, rtol=2e-5, atol=2e-6)
    y, j1 = dn.jvp(f, xs, t1)
    _close(y, f(*xs), what="primal differs from the plain NumPy call")

    # 2. linear in the tangent
    _, j2 = dn.jvp(f, xs, t2)
    _, j12 = dn.jvp(f, xs, tuple(2.5 * a - b for a, b in zip(t1, t2)))
    for a, b, c in zip(_leaves(j1), _leaves(j2), _leaves(j12)):
        np.testing.assert_allclose(c, 2.5 * a - b, rtol=1e-9, atol=1e-9 * (1 + np.abs(a).max(initial=0)))

    # 3. K batched tangents equal K single jvps
    k = 3
    tb = tuple(np.stack([a, b, a - b]) for a, b in zip(t1, t2))
    _, jb = dn.jvp(f, xs, tb, batched=True)
    for kk, single in enumerate((j1, j2, None)):
        if single is None:
            _, single = dn.jvp(f, xs, tuple(a - b for a, b in zip(t1, t2)))
        _close([l[kk] for l in _leaves(jb)], single, what=f"batched direction {kk}")
    assert all(l.shape[0] == k for l in _leaves(jb))

    # 4. symbolic zeros equal explicit zeros, one input at a time and all at once
    for i in range(len(xs)):
        tz = tuple(None if m == i else t for m, t in enumerate(t1))
        te = tuple(np.zeros_like(t) if m == i else t for m, t in enumerate(t1))
        _close(dn.jvp(f, xs, tz)[1], dn.jvp(f, xs, te)[1], what=f"symbolic zero at input {i}")
    _, jz = dn.jvp(f, xs, tuple(None for _ in xs))
    assert all(not np.any(l) for l in _leaves(jz))

    # 5. NumPy dispatch gives what the rule table gives
    g = _fn(rule, call, slots, via="table")
    _close(dn.jvp(g, xs, t1), (y, j1), rtol=0, atol=0, what="np dispatch vs rule table")

    # 6. float32 in, float32 out, within float32 tolerance of float64
    xs32 = tuple(x.astype(np.float32) for x in xs)
    t32 = tuple(t.astype(np.float32) for t in t1)
    y32, j32 = dn.jvp(f, xs32, t32)
    want = _leaves(f(*xs32))
    for a, b, w in zip(_leaves(y32), _leaves(y), want):
        assert a.dtype == w.dtype, f"primal dtype {a.dtype}, NumPy gives {w.dtype}"
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3 * (1 + np.abs(b).max(initial=0)))
    for a, b, w in zip(_leaves(j32), _leaves(j1), want):
        if w.dtype.kind != "f":
            continue  # an integer output (lstsq's rank) is a fact with no tangent
        assert a.dtype == w.dtype, f"tangent dtype {a.dtype}, primal dtype {w.dtype}"
        np.testing.assert_allclose(a, b, rtol=5e-3, atol=5e-3 * (1 + np.abs(b).max(initial=0)))


def _nested_fn(rule, call, slots):
    """h(*xs, *gs) = the rule's tangent rule evaluated at xs along gs. Run on Duals it
    is differentiated by the same table: that is how nested duals work."""
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
        y = R.apply(rule, tuple(args), dict(kwargs))
        return R.tangent_of(rule, y, list(args), tans, kwargs)

    return h


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@given(data=st.data())
@settings_nested
def test_rule_tangent_runs_on_duals(rule, data):
    """Every tangent rule evaluates on Duals, and its derivative (a second-order
    quantity) agrees with finite differences."""
    call = data.draw(rule_calls(rule), label="call")
    slots = call.slots(rule)
    assume(slots)  # reject this example only; a rule that never draws one fails
    xs = call.inputs(slots)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    gs = tuple(rng.standard_normal(x.shape) for x in xs)
    h = _nested_fn(rule, call, slots)
    plain = h(*xs, *gs)
    _, first = dn.jvp(_fn(rule, call, slots), xs, gs)
    _close(plain, first, what="tangent rule called directly vs through jvp")
    check_jvp(h, xs + gs, rtol=1e-4, atol=1e-5, eps=1e-5)
