"""The fused numba kernels give what the rule's NumPy path gives.

The table-driven tests use tiny shapes, which stay on the NumPy path (below FUSE_MIN);
here every rule with a kernel runs through it, serial and parallel, in both dtypes, with
scalar operands, and is compared with the NumPy path and finite differences.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import dualnum as dn
from dualnum import _jit
from dualnum.core import levels
from dualnum.core.rules import table
from dualnum.kernels import FUSE_MIN, generate
from dualnum.testing.strategies import arrays

FUSED = [r for r in table() if r.kernel]


def _numpy_path(rule, args):
    saved = rule.fused
    rule.fused = None
    try:
        return rule.fn(*args)
    finally:
        rule.fused = saved


def _inputs(rule, data, n, dtype):
    xs = []
    for i, dom in enumerate(rule.domain):
        if dom == "bool":
            xs.append(np.asarray(data.draw(st.lists(st.booleans(), min_size=n, max_size=n))))
            continue
        a = data.draw(arrays((n,), dom), label=f"arg{i}")
        if rule.extra.get("separate") and i > 0:
            xs[0] = np.where(np.abs(xs[0] - a) < rule.extra["separate"], a + 0.2, xs[0])
        xs.append(a.astype(dtype))
    return xs


@pytest.mark.parametrize("rule", FUSED, ids=lambda r: r.name)
@settings(max_examples=8)
@given(data=st.data())
def test_kernel_matches_numpy_path(rule, data):
    n = data.draw(st.integers(FUSE_MIN, 3 * FUSE_MIN), label="n")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    xs = _inputs(rule, data, n, dtype)
    rng = np.random.default_rng(0)
    # every combination of tangent-carrying arguments, and scalar operands
    diff = [i for i, p in enumerate(rule.partials) if p is not None]
    mask = data.draw(st.lists(st.sampled_from(diff), min_size=1, unique=True), label="mask")
    scalar = data.draw(st.sampled_from([None] + [i for i in range(len(xs)) if i not in mask]),
                       label="scalar")
    args = []
    lvl = levels.new_level("test")  # one perturbation for every argument
    for i, x in enumerate(xs):
        if i == scalar and rule.domain[i] != "bool":
            args.append(float(x[0]))
        elif i in mask:
            args.append(dn.Dual(x, rng.standard_normal(n).astype(dtype), level=lvl))
        else:
            args.append(x)
    got = rule.fn(*args)
    want = _numpy_path(rule, args)
    assert got.dtype == want.dtype and got.tangent.dtype == want.tangent.dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got.primal, want.primal, rtol=tol, atol=tol)
    np.testing.assert_allclose(got.tangent, want.tangent, rtol=20 * tol, atol=20 * tol)


@pytest.mark.parametrize("rule", FUSED, ids=lambda r: r.name)
def test_parallel_variant(rule, monkeypatch):
    monkeypatch.setattr(_jit, "PARALLEL_MIN", 0)  # force the prange build at a small size
    rng = np.random.default_rng(1)
    n = 2 * FUSE_MIN
    xs = []
    for i, dom in enumerate(rule.domain):
        if dom == "bool":
            xs.append(rng.random(n) > 0.5)
        else:
            xs.append(np.linspace(dom.lo + 0.1, dom.hi - 0.1, n) + (0.013 * i if i else 0))
    ts = [None if rule.partials[i] is None else rng.standard_normal(n) for i in range(len(xs))]
    lvl = levels.new_level("test")
    got = rule.fn(*[x if t is None else dn.Dual(x, t, level=lvl) for x, t in zip(xs, ts)])
    want = _numpy_path(rule, [x if t is None else dn.Dual(x, t, level=lvl)
                              for x, t in zip(xs, ts)])
    np.testing.assert_allclose(got.primal, want.primal, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.tangent, want.tangent, rtol=1e-12, atol=1e-12)


def test_generated_kernels_are_fresh():
    assert generate.TARGET.read_text() == generate.render(), \
        "dualnum/kernels/_elementwise.py is stale: run python -m dualnum.kernels.generate"


def test_kernel_respects_broadcasting_fallback():
    # Different shapes never reach a kernel; the NumPy path broadcasts.
    a = dn.Dual(np.ones((300, 2)), np.ones((300, 2)))
    b = dn.Dual(np.ones(2), np.full(2, 2.0), level=a.level)
    np.testing.assert_allclose((a * b).tangent, np.full((300, 2), 3.0))


def test_strided_inputs():
    base = np.arange(2000.0).reshape(1000, 2)
    x = dn.Dual(base[:, 0] / 1000, base[:, 1] / 1000)  # non-contiguous views
    y = np.tanh(x) * x
    p, t = base[:, 0] / 1000, base[:, 1] / 1000
    np.testing.assert_allclose(y.tangent, (1 - np.tanh(p) ** 2) * t * p + np.tanh(p) * t)


@settings(deadline=None)
@given(data=st.data())
def test_window_kernels_match_numpy_windows(data):
    """im2col and pooling kernels against the NumPy window path they replace, on
    inputs with ties (small integers) and NaNs, any stride, padding and leading axes."""
    from dualnum.ops import network

    lead = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2), label="lead")
    c, h, w = (data.draw(st.integers(1, 3)), data.draw(st.integers(2, 7)),
               data.draw(st.integers(2, 7)))
    k = (data.draw(st.integers(1, h)), data.draw(st.integers(1, w)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    p = (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(-2, 3, tuple(lead) + (c, h, w)).astype(dtype)  # many ties
    x[rng.random(x.shape) < 0.05] = np.nan

    x4 = x.reshape((-1, c, h, w))  # pooling takes (N, C, H, W); im2col any leading axes
    fast = (network._im2col(x, k, s, p), network._max_pool2d_primal(x4, k, s),
            network._argmax_flat(x4, k, s), network._avg_pool2d_primal(x4, k, s))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(network, "_compiled", lambda a: False)
        slow = (network._im2col(x, k, s, p), network._max_pool2d_primal(x4, k, s),
                network._argmax_flat(x4, k, s), network._avg_pool2d_primal(x4, k, s))
    (cols_f, hw_f), (cols_s, hw_s) = fast[0], slow[0]
    assert hw_f == hw_s
    np.testing.assert_array_equal(cols_f, cols_s)
    np.testing.assert_array_equal(fast[1], slow[1])  # NaN where NumPy's max has NaN
    np.testing.assert_array_equal(fast[2], slow[2])  # first maximum, or first NaN
    np.testing.assert_allclose(fast[3], slow[3], rtol=1e-6)
