"""Structured (low-rank) tangents give exactly what their dense form gives."""
import numpy as np
import pytest

import dualnum as dn
from dualnum.fgrad.structured import LowRank


@pytest.fixture
def lr():
    rng = np.random.default_rng(0)
    return LowRank(rng.standard_normal((3, 4)), rng.standard_normal((3, 5))), rng


def test_products_match_dense(lr):
    v, rng = lr
    dense = np.asarray(v)
    assert dense.shape == v.shape == (3, 4, 5)
    x = rng.standard_normal((2, 4))
    np.testing.assert_allclose(x @ v, x @ dense)
    y = rng.standard_normal((5, 6))
    np.testing.assert_allclose(v @ y, dense @ y)
    np.testing.assert_allclose(np.asarray(np.transpose(v, (0, 2, 1))), dense.transpose(0, 2, 1))
    np.testing.assert_allclose(v * 2.0 + 1.0, dense * 2 + 1)  # everything else: dense
    s = LowRank(v.a, v.b, batched=False)
    np.testing.assert_allclose(np.asarray(s), dense.sum(0))
    np.testing.assert_allclose(np.asarray(s.T), dense.sum(0).T)
    one = LowRank(v.a[:1], v.b[:1], batched=False)  # one term: a broadcast product
    np.testing.assert_allclose(np.asarray(one), np.outer(v.a[0], v.b[0]))
    b4 = rng.standard_normal((3, 2, 3, 3))  # a conv weight's factors: a over O, b over the rest
    for r in (1, 3):
        t = LowRank(v.a[:r], b4[:r], batched=False)
        np.testing.assert_allclose(np.asarray(t), np.einsum("ko,kcij->ocij", v.a[:r], b4[:r]))
    np.testing.assert_allclose(np.asarray(LowRank(v.a, b4)), np.einsum("ko,kcij->kocij", v.a, b4))


def test_jvp_with_low_rank_tangent_equals_dense(lr):
    v, rng = lr
    w = rng.standard_normal((4, 5))
    x = rng.standard_normal((7, 5))
    f = lambda w: np.sum(np.tanh(x @ w.T) ** 2, axis=1)  # noqa: E731
    _, t_lr = dn.jvp(f, (w,), (v,), batched=True)
    _, t_dense = dn.jvp(f, (w,), (np.asarray(v),), batched=True)
    np.testing.assert_allclose(t_lr, t_dense, rtol=1e-12)


def test_outer_distribution_is_unbiased():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4))
    p = {"W": rng.standard_normal((3, 4)) * 0.5, "b": rng.standard_normal(3) * 0.1}
    f = lambda p: np.mean(np.tanh(x @ p["W"].T + p["b"]) ** 2)  # noqa: E731
    exact = dn.grad(f)(p)
    draws = [dn.forward_gradient(f, p, rng=rng, n_directions=50, distribution="outer")[1]
             for _ in range(200)]
    for key in p:
        s = np.stack([d[key] for d in draws])  # 200 means of 50 directions each
        se = s.std(0, ddof=1) / np.sqrt(len(s))
        assert np.all(np.abs(s.mean(0) - exact[key]) <= 5 * se + 1e-12), key


def test_fused_sgd_update_matches_dense():
    rng = np.random.default_rng(1)
    for dt in (np.float32, np.float64):
        w = rng.standard_normal((300, 200)).astype(dt)
        w0 = w.copy()
        g = LowRank(rng.standard_normal((2, 300)).astype(dt), rng.standard_normal((2, 200)).astype(dt),
                    batched=False)
        dn.optim.SGD({"w": w}, lr=0.1).step({"w": g})
        np.testing.assert_allclose(w, w0 - 0.1 * np.asarray(g), rtol=1e-5 if dt == np.float32 else 1e-12,
                                   atol=1e-5 if dt == np.float32 else 1e-12)
    w = rng.standard_normal((4, 3, 3, 3))  # a conv weight: a over axis 0, b over the rest
    w0 = w.copy()
    g = LowRank(rng.standard_normal((1, 4)), rng.standard_normal((1, 3, 3, 3)), batched=False)
    dn.optim.SGD({"w": w}, lr=0.1).step({"w": g})
    np.testing.assert_allclose(w, w0 - 0.1 * np.asarray(g), rtol=1e-12, atol=1e-12)
    # with momentum the estimate is materialised, and the result is the same update
    w = np.ones((3, 2))
    g = LowRank(np.ones((1, 3)), np.ones((1, 2)), batched=False)
    dn.optim.SGD({"w": w}, lr=0.5, momentum=0.9).step({"w": g})
    np.testing.assert_allclose(w, 0.5)


def test_dense_false_returns_factored_estimate():
    p = {"W": np.ones((3, 4))}
    f = lambda p: np.sum(p["W"] ** 2)  # noqa: E731
    v, g = dn.forward_gradient(f, p, rng=np.random.default_rng(0), distribution="outer", dense=False)
    assert isinstance(g["W"], LowRank) and g["W"].shape == (3, 4)
    v, g2 = dn.forward_gradient(f, p, rng=np.random.default_rng(0), distribution="outer")
    np.testing.assert_allclose(np.asarray(g["W"]), g2["W"])


def test_weighted_sum_update_matches_dense():
    from dualnum.fgrad.structured import WeightedSum

    rng = np.random.default_rng(4)
    for dt in (np.float32, np.float64):
        p = rng.standard_normal((70, 30)).astype(dt)
        p0 = p.copy()
        g = WeightedSum(rng.standard_normal(3), rng.standard_normal((3, 70, 30)).astype(dt))
        dn.optim.SGD({"p": p}, lr=0.2).step({"p": g})
        tol = 1e-5 if dt == np.float32 else 1e-12
        np.testing.assert_allclose(p, p0 - 0.2 * np.asarray(g), rtol=tol, atol=tol)
    _, g1 = dn.forward_gradient(lambda q: np.sum(q ** 2), np.ones(3), rng=np.random.default_rng(0),
                                n_directions=2, dense=False)
    _, g2 = dn.forward_gradient(lambda q: np.sum(q ** 2), np.ones(3), rng=np.random.default_rng(0),
                                n_directions=2)
    assert isinstance(g1, WeightedSum)
    np.testing.assert_allclose(np.asarray(g1), g2)


@pytest.mark.parametrize("c, batch, size", [(1, None, 7), (1, 2, 7), (16, None, 7), (16, 2, 7),
                                            (16, 2, 20)])
def test_conv_takes_rank_one_weight_tangents_unformed(c, batch, size):
    """conv(x, a ⊗ b) = a[o] conv(x, b) inside conv2d's kernel (im2col for c = 1, Winograd
    F(2×2, 3×3) for c = 16 and 7×6 images, F(4×4, 3×3) for 20×20), with an input and a
    bias tangent alongside: the same value and tangent as the dense weight tangent
    through the rule's NumPy path."""
    from dualnum.core import levels
    from dualnum.core.rules import by_name

    rng = np.random.default_rng(c)
    lead, r = ((), 2) if batch is None else ((batch,), batch)
    x, w, b = (rng.standard_normal((2, c, size, size - 1 if size < 20 else size)),
               rng.standard_normal((5, c, 3, 3)), np.ones(5))
    v = LowRank(rng.standard_normal((r, 5)), rng.standard_normal((r, c, 3, 3)),
                batched=batch is not None)
    tx, tb = rng.standard_normal(lead + x.shape), rng.standard_normal(lead + b.shape)
    lvl = levels.new_level("test")
    dual = lambda p, t: dn.Dual(p, t, batched=batch is not None, level=lvl)  # noqa: E731
    got = dn.conv2d(dual(x, tx), dual(w, v), dual(b, tb), padding=1)
    rule = by_name("conv2d")
    saved, rule.fused = rule.fused, None
    try:
        want = dn.conv2d(dual(x, tx), dual(w, np.asarray(v)), dual(b, tb), padding=1)
    finally:
        rule.fused = saved
    np.testing.assert_allclose(got.primal, want.primal, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.tangent, want.tangent, rtol=1e-11, atol=1e-11)
    # the first layer of a network: only the weight is perturbed
    got = dn.conv2d(x, dual(w, v), b, padding=1)
    want = dn.conv2d(x, np.asarray(v), padding=1) if batch is None else np.stack(
        [dn.conv2d(x, vk, padding=1) for vk in np.asarray(v)])
    np.testing.assert_allclose(got.tangent, want, rtol=1e-11, atol=1e-11)
