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
from dualnum.kernels import FUSE_MIN

from tools import generate_kernels as generate
from dualnum.testing.strategies import arrays

FUSED = [r for r in table() if r.kind == "elementwise" and r.fused is not None]


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
        "dualnum/kernels/_elementwise.py is stale: run python tools/generate_kernels.py"


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


def _reference(rule, args, kwargs):
    """The rule's NumPy path (its kernel detached)."""
    saved = rule.fused
    rule.fused = None
    try:
        return rule.fn(*args, **kwargs)
    finally:
        rule.fused = saved


@pytest.mark.parametrize("op, pool", [("conv2d", {}), ("conv2d_relu", {}),
                                      ("conv2d_relu", {"pool": 2})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_f4_matches_the_direct_sum(dtype, op, pool):
    """F(4×4, 3×3) (3×3 stride-1 convolutions of 16+ channels on maps of 20+ columns that
    are whole 4×4 tiles): value and batched tangents against the rule's NumPy path in
    float64. Its float32 error is about ten times F(2×2)'s (the transforms have
    entries up to 8 and sixths): a few 1e-6 relative to the output's scale."""
    from dualnum.core.rules import by_name

    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 16, 20, 24))
    w = rng.standard_normal((3, 16, 3, 3)) / 12
    b, tx, tw = rng.standard_normal(3), rng.standard_normal((2,) + x.shape), \
        rng.standard_normal((2,) + w.shape) / 12
    lvl = levels.new_level("test")
    args = (dn.Dual(x, tx, batched=True, level=lvl), dn.Dual(w, tw, batched=True, level=lvl), b)
    want = _reference(by_name(op), args, {"padding": 1, **pool})
    cast = tuple(dn.Dual(a.primal.astype(dtype), a.tangent.astype(dtype), batched=True,
                         level=lvl) for a in args[:2]) + (b.astype(dtype),)
    got = getattr(dn, op)(*cast, padding=1, **pool)
    assert got.primal.dtype == dtype
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for g_, w_ in ((got.primal, want.primal), (got.tangent, want.tangent)):
        np.testing.assert_allclose(g_, w_, rtol=0, atol=tol * np.abs(w_).max())


@pytest.mark.parametrize("op, pool", [("conv2d", {}), ("conv2d_relu", {"pool": 2})])
@pytest.mark.parametrize("batch, with_tx", [(None, True), (2, True), (2, False), (None, False)])
def test_winograd_rank_one_weight_tangents(op, pool, batch, with_tx):
    """Both Winograd sizes with a rank-one weight tangent (a LowRank, never formed: its
    convolutions ride in the value's GEMM and are added by the output transforms), with
    and without an input tangent (without one, no tangent GEMM runs), over several
    blocks of images, against the rule's NumPy path on the dense weight tangent."""
    from dualnum.core.rules import by_name
    from dualnum.fgrad.structured import LowRank

    rng = np.random.default_rng(11)
    for shape in ((11, 16, 20, 20), (11, 16, 10, 14)):  # F(4×4), F(2×2)
        x = rng.standard_normal(shape)
        w = rng.standard_normal((5, 16, 3, 3)) / 12
        b = rng.standard_normal(5)
        lead = () if batch is None else (batch,)
        lr = LowRank(rng.standard_normal((batch or 2, 5)), rng.standard_normal(
            (batch or 2, 16, 3, 3)) / 12, batched=batch is not None)
        lvl = levels.new_level("test")
        xs = dn.Dual(x, rng.standard_normal(lead + x.shape), batched=batch is not None,
                     level=lvl) if with_tx else x
        tb = rng.standard_normal(lead + b.shape)
        args = (xs, dn.Dual(w, lr, batched=batch is not None, level=lvl),
                dn.Dual(b, tb, batched=batch is not None, level=lvl))
        dense = (xs, dn.Dual(w, np.asarray(lr), batched=batch is not None, level=lvl),
                 args[2])
        got = getattr(dn, op)(*args, padding=1, **pool)
        want = _reference(by_name(op), dense, {"padding": 1, **pool})
        for g_, w_ in ((got.primal, want.primal), (got.tangent, want.tangent)):
            np.testing.assert_allclose(g_, w_, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_kernel_matches_numpy_path(dtype, monkeypatch):
    """Large 2-D products run value and tangents as GEMMs side by side (2 threads): the
    same value and tangent as the rule's NumPy path, for batched and unbatched tangents
    on either operand, a dense or rank-one weight tangent, and a transposed weight."""
    import numba

    from dualnum.core.rules import by_name
    from dualnum.fgrad.structured import LowRank
    from dualnum.kernels import matmul

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("the matmul kernel needs 2 kernel threads")
    numba.set_num_threads(2)
    monkeypatch.setattr(matmul, "MIN_MACS", 1 << 20)  # small products take the kernel too
    rng = np.random.default_rng(7)
    a = rng.standard_normal((64, 128)).astype(dtype)
    w = rng.standard_normal((160, 128)).astype(dtype)
    assert a.shape[0] * a.shape[1] * w.shape[0] >= matmul.MIN_MACS
    tol = 1e-5 if dtype == np.float32 else 1e-12
    rule = by_name("matmul")
    for batch, left, right in [(None, True, False), (1, True, True), (3, True, "low rank"),
                               (None, False, True), (2, False, "low rank"), (None, False, False)]:
        lvl = levels.new_level("test")
        lead = () if batch is None else (batch,)
        ta = rng.standard_normal(lead + a.shape).astype(dtype)
        if right == "low rank":
            r = batch or 1
            tw = LowRank(rng.standard_normal((r, 160)).astype(dtype),
                         rng.standard_normal((r, 128)).astype(dtype), batched=batch is not None)
        else:
            tw = rng.standard_normal(lead + w.shape).astype(dtype)
        da = dn.Dual(a, ta, batched=batch is not None, level=lvl) if left else a
        dw = dn.Dual(w, tw, batched=batch is not None, level=lvl) if right else w
        assert rule.fused((a, w.T), (ta if left else None, None), {}, batch) is not None
        got = np.matmul(da, dw.T)
        dense = dn.Dual(w, np.asarray(tw), batched=batch is not None, level=lvl) if right else w
        want = _reference(rule, (da, dense.T), {})
        if not (left or right):
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
            continue
        np.testing.assert_allclose(got.primal, want.primal, rtol=tol, atol=tol)
        np.testing.assert_allclose(got.tangent, want.tangent, rtol=tol, atol=10 * tol)
        assert got.tangent.dtype == dtype


def test_max_pool_2x2_kernel_keeps_the_first_maximum_and_nans():
    """2×2 windows at stride 2 take an unrolled kernel: ties (small integers), NaNs and
    odd sizes, value and batched tangent, against the rule's NumPy path."""
    from dualnum.core.rules import by_name

    rng = np.random.default_rng(6)
    x = rng.integers(-1, 2, (2, 3, 9, 8)).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    d = dn.Dual(x, rng.standard_normal((2,) + x.shape).astype(np.float32), batched=True)
    got, want = dn.max_pool2d(d, 2), _reference(by_name("max_pool2d"), (d, 2), {})
    np.testing.assert_array_equal(got.primal, want.primal)
    np.testing.assert_array_equal(got.tangent, want.tangent)


@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_window_kernels_match_numpy_windows(data):
    """conv2d and pooling kernels against the rule's NumPy window path, value and
    tangents (unbatched and batched, every combination of perturbed arguments), any
    kernel size, stride and padding; pooling on inputs with ties (small integers) and
    NaNs. 3×3 stride-1 convolutions with 16 or more input channels take the Winograd
    path, the others im2col; a weight tangent may be rank-one per direction (a LowRank,
    which the kernel never forms), against its dense form. conv2d_relu (with a 2×2
    max-pool or not) also against max_pool2d(relu(conv2d(...))) on the kernels, bit for
    bit."""
    from dualnum.core.rules import by_name
    from dualnum.fgrad.structured import LowRank

    n, c, h, w = (data.draw(st.integers(1, 3)), data.draw(st.sampled_from([1, 2, 3, 16])),
                  data.draw(st.integers(2, 7)), data.draw(st.integers(2, 7)))
    square = data.draw(st.booleans(), label="3x3 stride 1")
    k = (3, 3) if square else (data.draw(st.integers(1, h)), data.draw(st.integers(1, w)))
    s = (1, 1) if square else (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    p = (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
    if k[0] > h + 2 * p[0] or k[1] > w + 2 * p[1]:
        p = (2, 2)
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    batch = data.draw(st.sampled_from([None, 1, 3]), label="K")
    mask = data.draw(st.sampled_from([(1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0),
                                      (0, 1, 1), (0, 0, 0)]), label="perturbed")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    lead = () if batch is None else (batch,)

    def dual(a, m, lvl):
        if not m:
            return a
        t = rng.standard_normal(lead + a.shape).astype(dtype)
        return dn.Dual(a, t, batched=batch is not None, level=lvl)

    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((2, c) + k).astype(dtype)
    b = rng.standard_normal(2).astype(dtype)
    lvl = levels.new_level("test")
    args = tuple(dual(a, m, lvl) for a, m in zip((x, wt, b), mask))
    dense = args
    if mask[1] and data.draw(st.booleans(), label="rank-one weight tangent"):
        r = batch or data.draw(st.integers(1, 2), label="rank")
        lr = LowRank(rng.standard_normal((r, 2)).astype(dtype),
                     rng.standard_normal((r, c) + k).astype(dtype), batched=batch is not None)
        args = (args[0], dn.Dual(wt, lr, batched=batch is not None, level=lvl), args[2])
        dense = (args[0], dn.Dual(wt, np.asarray(lr), batched=batch is not None, level=lvl),
                 args[2])
    kw = {"stride": s, "padding": p}
    op = data.draw(st.sampled_from(["conv2d", "conv2d_relu"]), label="op")
    pool = None
    if op == "conv2d_relu" and min(dn.conv2d(x, wt, **kw).shape[2:]) >= 2:
        pool = data.draw(st.sampled_from([None, 2]), label="pool")
    kwp = kw if pool is None else {**kw, "pool": pool}
    got, want = getattr(dn, op)(*args, **kwp), _reference(by_name(op), dense, kwp)
    if op == "conv2d_relu":  # the fused ReLU (and pooling) gives the unfused kernels'
        plain = dn.relu(dn.conv2d(*args, **kw))  # bits exactly
        plain = plain if pool is None else dn.max_pool2d(plain, pool)
        for g_, w_ in ((got, plain),) if not any(mask) else (
                (got.primal, plain.primal), (got.tangent, plain.tangent)):
            np.testing.assert_array_equal(g_, w_)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for g_, w_ in ((got, want),) if not any(mask) else (
            (got.primal, want.primal), (got.tangent, want.tangent)):
        assert np.asarray(g_).dtype == dtype
        np.testing.assert_allclose(g_, w_, rtol=tol, atol=tol)

    xi = rng.integers(-2, 3, (n, c, h, w)).astype(dtype)  # many ties
    xi[rng.random(xi.shape) < 0.05] = np.nan
    kp = (data.draw(st.integers(1, h)), data.draw(st.integers(1, w)))
    sp = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    for name in ("max_pool2d", "avg_pool2d"):
        d = dual(xi, True, levels.new_level("test"))
        fn = getattr(dn, name)
        got, want = fn(d, kp, sp), _reference(by_name(name), (d, kp), {"stride": sp})
        # NaN where NumPy has NaN; the maximum is exact, the mean sums in another order
        for g_, w_ in ((got.primal, want.primal), (got.tangent, want.tangent),
                       (fn(xi, kp, sp), want.primal)):
            np.testing.assert_allclose(g_, w_, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_kernel_matches_numpy_path(dtype):
    """Value and tangents in one pass over the logits: the NumPy path's answer for
    unbatched and batched tangents, rows with ±inf and NaN, a mixed-dtype tangent; labels
    out of range fall back to the NumPy path and its error."""
    from dualnum.core.rules import by_name

    rule = by_name("cross_entropy")
    rng = np.random.default_rng(11)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    z = (3 * rng.standard_normal((37, 7))).astype(dtype)
    z[3, 2], z[5, :], z[6, 1] = np.inf, -np.inf, np.nan
    lab = rng.integers(0, 7, 37)
    for batch in (None, 1, 4):
        lvl = levels.new_level("test")
        lead = () if batch is None else (batch,)
        t = rng.standard_normal(lead + z.shape).astype(dtype)
        for zz in (z[7:], z):  # finite rows only, then with the edge rows
            tt = t[..., 7:, :] if zz is not z else t
            assert rule.fused((zz, lab[-len(zz):]), (tt, None), {}, batch) is not None
            d = dn.Dual(zz, tt, batched=batch is not None, level=lvl)
            got = dn.cross_entropy(d, lab[-len(zz):])
            want = _reference(rule, (d, lab[-len(zz):]), {})
            with np.errstate(invalid="ignore"):
                np.testing.assert_allclose(got.primal, want.primal, rtol=tol, atol=tol)
                np.testing.assert_allclose(got.tangent, want.tangent, rtol=tol, atol=tol)
            assert got.primal.dtype == want.primal.dtype
            assert np.asarray(got.tangent).dtype == np.asarray(want.tangent).dtype
            assert np.shape(got.tangent) == np.shape(want.tangent)
    # a float64 tangent on float32 logits gives a float64 tangent, as NumPy's path does
    if dtype == np.float32:
        t64 = rng.standard_normal(z.shape)
        y, ty = rule.fused((z[7:], lab[7:]), (t64[7:], None), {}, None)
        assert ty.dtype == np.float64
    # a label out of range: the NumPy path's error, naming it
    bad = lab.copy()
    bad[0] = 7
    assert rule.fused((z, bad), (), {}, None) is None
    with pytest.raises(ValueError, match=r"labels must be in \[0, 7\)"):
        dn.cross_entropy(z, bad)


@pytest.mark.parametrize("path", ["pieces", "numpy calls"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_kernel_matches_numpy_path(dtype, path, monkeypatch):
    """dn.linear's kernel (large layers: matmul's pieces on (x, w.T); others: rank-one
    weight tangents as matrix-vector products) gives the NumPy path's value and tangent
    for tangents on any subset of x, w (dense or rank-one) and b, batched or not."""
    import numba

    from dualnum.core.rules import by_name
    from dualnum.fgrad.structured import LowRank
    from dualnum.kernels import matmul

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("the matmul kernel needs 2 kernel threads")
    numba.set_num_threads(2)
    monkeypatch.setattr(matmul, "MIN_MACS", 1 << 20 if path == "pieces" else 1 << 62)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((64, 128)).astype(dtype)
    w = rng.standard_normal((160, 128)).astype(dtype)
    b = rng.standard_normal(160).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    rule = by_name("linear")
    for batch, on_x, on_w, on_b in [(None, True, True, True), (2, False, "low rank", True),
                                    (1, True, False, False), (None, False, False, True),
                                    (3, True, "low rank", False)]:
        lvl = levels.new_level("test")
        lead = () if batch is None else (batch,)
        tw = (LowRank(rng.standard_normal((batch or 1, 160)).astype(dtype),
                      rng.standard_normal((batch or 1, 128)).astype(dtype),
                      batched=batch is not None) if on_w == "low rank"
              else rng.standard_normal(lead + w.shape).astype(dtype))

        def dual(p, t, on):
            return dn.Dual(p, t, batched=batch is not None, level=lvl) if on else p

        args = (dual(x, rng.standard_normal(lead + x.shape).astype(dtype), on_x),
                dual(w, tw, on_w), dual(b, rng.standard_normal(lead + b.shape).astype(dtype), on_b))
        prim = [a.primal if isinstance(a, dn.Dual) else a for a in args]
        tans = [a.tangent if isinstance(a, dn.Dual) else None for a in args]
        tans[1] = tw if on_w else None
        assert rule.fused(tuple(prim), tuple(tans), {}, batch) is not None
        got = dn.linear(*args)
        dense_w = dual(w, np.asarray(tw), on_w)
        want = _reference(rule, (args[0], dense_w, args[2]), {})
        np.testing.assert_allclose(got.primal, want.primal, rtol=tol, atol=tol)
        np.testing.assert_allclose(got.tangent, want.tangent, rtol=tol, atol=10 * tol)
        assert got.tangent.dtype == dtype and got.tangent.shape == want.tangent.shape


def _sincos_inputs(dtype):
    """Random values across magnitudes, and the edges: zeros, tiny, subnormal, near
    multiples of π/2, both sides of the reduction's range, huge, inf, NaN."""
    from dualnum.kernels.trig import LIMIT

    rng = np.random.default_rng(3)
    fi = np.finfo(dtype)
    mags = 10.0 ** rng.uniform(-8, 7, 3000)
    k = np.arange(-40, 41, dtype=np.float64)
    edges = np.concatenate([
        [0.0, -0.0, fi.tiny, -fi.tiny, fi.smallest_subnormal, 1e-30, -1e-20, LIMIT,
         -LIMIT, np.nextafter(LIMIT, np.inf), 2e6, -1e12, 1e30, fi.max, -fi.max,
         np.inf, -np.inf, np.nan],
        k * (np.pi / 2), k * 12345 * (np.pi / 2), k * np.pi / 4])
    x = np.concatenate([rng.choice([-1.0, 1.0], mags.size) * mags, rng.uniform(-4, 4, 1000),
                        edges]).astype(dtype)
    near = x[np.isfinite(x) & (x != 0)][-243:]
    with np.errstate(over="ignore"):  # next to ±max is ±inf, wanted here
        return np.concatenate([x, np.nextafter(near, dtype(np.inf)),
                               np.nextafter(near, dtype(-np.inf))])


def _ulps(got, want):
    """|got - want| in units of the last place of ``want`` (NaNs in the same places)."""
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    assert np.array_equal(got[~finite], want[~finite], equal_nan=True)
    w = want[finite].astype(np.float64)
    spacing = np.spacing(np.abs(want[finite])).astype(np.float64)
    return np.abs(got[finite].astype(np.float64) - w) / spacing


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["sin", "cos"])
@pytest.mark.parametrize("parallel", [False, True])
def test_sincos_kernel_within_an_ulp_of_numpy(name, dtype, parallel, monkeypatch):
    """One range reduction gives sin and cos: within 1 ulp of NumPy's value, the
    tangent within the rounding of one more product; outside the accurate range, inf
    and NaN, exactly NumPy's value and tangent; sin(-0.0) is -0.0. The serial and the
    prange build, and K batched tangents."""
    from dualnum.kernels import trig

    monkeypatch.setattr(_jit, "PARALLEL_MIN", 0 if parallel else 1 << 60)
    x = _sincos_inputs(dtype)
    rng = np.random.default_rng(4)
    for k in (None, 3):
        t = rng.standard_normal(x.shape if k is None else (k,) + x.shape).astype(dtype)
        with np.errstate(invalid="ignore"):  # sin(±inf) is NaN, as in NumPy
            y, ty = getattr(trig, name)((x,), (t,), None, k)
            want = getattr(np, name)(x)
            dwant = np.cos(x) if name == "sin" else -np.sin(x)
        assert y.dtype == dtype and ty.dtype == dtype and ty.shape == t.shape
        assert _ulps(y, want).max() <= 1
        assert _ulps(ty, dwant * t).max() <= 2
        far = ~(np.abs(x) <= trig.LIMIT)
        np.testing.assert_array_equal(y[far], want[far])
        np.testing.assert_array_equal(ty[..., far], (dwant * t)[..., far])
        zero = x == 0
        assert np.array_equal(np.signbit(y[zero]), np.signbit(want[zero]))


def test_sincos_kernel_is_attached_and_falls_back():
    """sin and cos take the kernel for large C-contiguous float arrays, batched tangents
    included (the same answer as the NumPy path); strided, small, integer and nested
    operands return None, so the NumPy path runs."""
    from dualnum.core.rules import by_name
    from dualnum.kernels import trig

    rng = np.random.default_rng(5)
    x = rng.uniform(-10, 10, (40, 30))
    tangents = rng.standard_normal((4, 40, 30))
    for name in ("sin", "cos"):
        rule = by_name(name)
        assert rule.fused is getattr(trig, name)
        for batched, t in ((False, tangents[0]), (True, tangents)):
            got = dn.jvp(getattr(np, name), (x,), (t,), batched=batched)
            lvl = levels.new_level("test")
            want = _reference(rule, (dn.Dual(x, t, batched=batched, level=lvl),), {})
            np.testing.assert_allclose(got[0], want.primal, rtol=1e-15, atol=1e-15)
            np.testing.assert_allclose(got[1], want.tangent, rtol=1e-14, atol=1e-14)
        f = rule.fused
        assert f((x,), (tangents,), None, 4) is not None
        assert f((x[:, ::2],), (tangents[0][:, ::2],), None, None) is None
        assert f((x[:2],), (tangents[0][:2],), None, None) is None
        assert f((x.astype(int),), (tangents[0],), None, None) is None
        assert f((x,), (tangents[:2],), None, 4) is None
        inner = dn.Dual(x, tangents[0])
        assert f((inner,), (inner,), None, None) is None
