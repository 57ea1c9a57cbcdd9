"""Forward-gradient estimator: unbiasedness and 1/K variance as statistical tests, the
theory in dualnum.diagnostics checked against samples, and its API. Fixed seeds."""
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum.core.pytree import flatten

diag = dn.diagnostics


def small_problem():
    """An MLP 3 -> 4 -> 2 (26 parameters, float64) with its cross-entropy on 16 points."""
    rng = np.random.default_rng(0)
    model = dn.nn.Sequential(dn.nn.Linear(3, 4, rng=1, dtype=np.float64), dn.nn.Tanh(),
                             dn.nn.Linear(4, 2, rng=2, dtype=np.float64))
    x = rng.standard_normal((16, 3))
    y = rng.integers(0, 2, 16)
    params = {k: v.copy() for k, v in model.named_parameters()}

    def f(p):
        return dn.cross_entropy(dn.nn.functional_call(model, p, x), y)

    return f, params


def flat(tree):
    return np.concatenate([np.ravel(v) for v in flatten(tree)[0]])


@pytest.mark.parametrize("distribution", ["normal", "rademacher"])
def test_forward_gradient_is_unbiased(distribution):
    # The mean of many dn.forward_gradient samples lies within 5 standard errors of the
    # exact gradient in every coordinate.
    f, params = small_problem()
    exact = flat(dn.grad(f)(params))
    assert exact.size == 26
    rng = np.random.default_rng(42)
    s = 4000
    samples = np.stack([flat(dn.forward_gradient(f, params, rng=rng,
                                                 distribution=distribution)[1])
                        for _ in range(s)])
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(s)
    z = np.abs(mean - exact) / se
    assert np.all(z <= 5), (distribution, z.max(), np.argmax(z))
    # and the sample variance matches the per-coordinate theory
    theory = flat(diag.theoretical_variance(dn.grad(f)(params), distribution))
    np.testing.assert_allclose(samples.var(axis=0, ddof=1), theory, rtol=0.25)


def test_outer_directions_on_a_convolution_match_their_theory():
    # "outer" over a conv weight (O, C, kh, kw) is a[o] b[c, i, j]: unbiased, with the
    # variance of the matrix (O, C·kh·kw) formula
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 2, 5, 5))
    params = {"w": rng.standard_normal((3, 2, 3, 3)) * 0.3, "b": rng.standard_normal(3)}

    def f(p):
        return np.mean(np.tanh(dn.conv2d(x, p["w"], p["b"])) ** 2)

    exact = dn.grad(f)(params)
    s = 3000
    samples = np.stack([flat(dn.forward_gradient(f, params, rng=rng, distribution="outer")[1])
                        for _ in range(s)])
    z = np.abs(samples.mean(axis=0) - flat(exact)) / (samples.std(axis=0, ddof=1) / math.sqrt(s))
    assert np.all(z <= 5), z.max()
    theory = flat(diag.theoretical_variance(exact, "outer"))
    var = samples.var(axis=0, ddof=1)  # heavy-tailed per coordinate, tight in total
    np.testing.assert_allclose(var, theory, rtol=0.4)
    # (normal directions' total would be 28 % lower; the sample total's spread is ~5 %)
    assert var.sum() == pytest.approx(theory.sum(), rel=0.2)


def test_variance_falls_as_one_over_k():
    f, params = small_problem()
    stats = diag.forward_gradient_stats(f, params, rng=np.random.default_rng(1),
                                        n_directions=(1, 8), samples=4000)
    rows = {(r["distribution"], r["n_directions"]): r for r in stats["rows"]}
    for dist in ("normal", "rademacher"):
        ratio = rows[dist, 1]["total_variance"] / rows[dist, 8]["total_variance"]
        assert 6 <= ratio <= 10, (dist, ratio)
    # Rademacher directions have the lower variance: (n - 1) vs (n + 1) times |∇f|²
    assert rows["rademacher", 1]["total_variance"] < rows["normal", 1]["total_variance"]


def test_stats_agree_with_theory():
    f, params = small_problem()
    ks = (1, 2, 4, 16)
    stats = diag.forward_gradient_stats(f, params, rng=np.random.default_rng(2),
                                        n_directions=ks, samples=3000)
    n = stats["n_params"]
    assert n == 26 and len(stats["rows"]) == 2 * len(ks)
    exact = flat(dn.grad(f)(params))
    np.testing.assert_array_equal(stats["grad"], exact)
    assert stats["grad_norm"] == pytest.approx(np.linalg.norm(exact))
    assert stats["value"] == pytest.approx(float(f(params)))
    for r in stats["rows"]:
        k, dist = r["n_directions"], r["distribution"]
        rel = (n + 1) / k if dist == "normal" else (n - 1) / k
        assert r["relative_variance_theory"] == pytest.approx(rel)
        assert r["total_variance_theory"] == pytest.approx(rel * stats["grad_norm"] ** 2)
        assert r["total_variance"] == pytest.approx(r["total_variance_theory"], rel=0.15)
        assert r["mse"] == pytest.approx(r["total_variance_theory"], rel=0.15)
        assert r["max_abs_z"] < 5
        assert r["bias_norm"] < 0.1 * math.sqrt(r["total_variance"])
        assert r["mean"].shape == r["variance"].shape == r["variance_theory"].shape == (n,)
        if dist == "normal":
            assert abs(r["cosine_mean"] - r["cosine_theory"]) < 5 * r["cosine_se"]
            assert r["cosine_theory"] == pytest.approx(diag.theoretical_cosine(n, k))
        else:
            assert r["cosine_theory"] is None
    # the cosine similarity grows with K
    for dist in ("normal", "rademacher"):
        cos = [r["cosine_mean"] for r in stats["rows"] if r["distribution"] == dist]
        assert cos == sorted(cos)


def test_theoretical_cosine_is_the_beta_mean():
    # cos² ~ Beta(K/2, (n-1)/2): check E[cos] by simulation of the chi-squares
    rng = np.random.default_rng(3)
    for n, k in [(2, 1), (10, 1), (10, 4), (50, 8)]:
        a = rng.chisquare(k, 200_000)
        b = rng.chisquare(n - 1, 200_000)
        assert diag.theoretical_cosine(n, k) == pytest.approx(np.sqrt(a / (a + b)).mean(),
                                                              abs=3e-3)
    assert diag.theoretical_cosine(1000) == pytest.approx(math.sqrt(2 / (math.pi * 1000)),
                                                          rel=1e-3)


def test_outer_distribution_theory():
    f, params = small_problem()
    stats = diag.forward_gradient_stats(f, params, rng=np.random.default_rng(4),
                                        n_directions=2, distributions="outer", samples=4000)
    r = stats["rows"][0]
    assert r["max_abs_z"] < 5
    assert r["total_variance"] == pytest.approx(r["total_variance_theory"], rel=0.2)
    np.testing.assert_allclose(r["variance"], r["variance_theory"], rtol=0.3)


def test_one_sample_matches_dn_forward_gradient():
    # The diagnostics' estimates are dn.forward_gradient's, draw for draw.
    f, params = small_problem()
    for dist in ("normal", "rademacher"):
        stats = diag.forward_gradient_stats(f, params, rng=np.random.default_rng(5),
                                            n_directions=3, distributions=dist, samples=2,
                                            max_batch=3)
        rng = np.random.default_rng(5)
        g1 = flat(dn.forward_gradient(f, params, rng=rng, n_directions=3, distribution=dist)[1])
        g2 = flat(dn.forward_gradient(f, params, rng=rng, n_directions=3, distribution=dist)[1])
        np.testing.assert_allclose(stats["rows"][0]["mean"], (g1 + g2) / 2, rtol=1e-12,
                                   atol=1e-15)


def test_theoretical_variance_by_hand():
    g = {"a": np.array([1.0, 2.0]), "m": np.array([[1.0, 0.0], [0.0, 2.0]])}  # |g|² = 10
    normal = diag.theoretical_variance(g, "normal", 2)
    np.testing.assert_allclose(normal["a"], [5.5, 7.0])
    np.testing.assert_allclose(normal["m"], [[5.5, 5.0], [5.0, 7.0]])
    rad = diag.theoretical_variance(g, "rademacher")
    np.testing.assert_allclose(rad["a"], [9.0, 6.0])
    outer = diag.theoretical_variance(g, "outer")
    np.testing.assert_allclose(outer["a"], [11.0, 14.0])  # normal for vectors
    # |g|² + 2 row_i + 2 col_j + 3 G_ij²; rows (1, 4), cols (1, 4)
    np.testing.assert_allclose(outer["m"], [[17.0, 20.0], [20.0, 38.0]])
    assert diag.theoretical_variance(g, "no-such-thing") is None


def test_format_table():
    f, params = small_problem()
    stats = diag.forward_gradient_stats(f, params, rng=np.random.default_rng(6),
                                        n_directions=(1, 4), samples=50)
    text = diag.format_table(stats)
    lines = text.splitlines()
    assert lines[0].startswith("forward-gradient estimator: n = 26 parameters")
    assert len(lines) == 2 + 4
    assert lines[2].split()[:2] == ["normal", "1"]
    assert lines[5].split()[:2] == ["rademacher", "4"]
    assert "(-)" in lines[5]  # no closed-form cosine for Rademacher


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(samples=1), ValueError, "samples must be an integer >= 2"),
    (dict(n_directions=0), ValueError, "n_directions must be a positive integer, got 0"),
    (dict(n_directions=()), ValueError, "n_directions is empty"),
    (dict(distributions="gaussian"), ValueError, "unknown distribution 'gaussian'"),
    (dict(max_batch=0), ValueError, "max_batch must be a positive integer, got 0"),
    (dict(rng=0), TypeError, "rng must be a numpy.random.Generator"),
])
def test_bad_arguments(kwargs, err, match):
    args = dict(rng=np.random.default_rng(0), samples=10)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        diag.forward_gradient_stats(lambda w: np.sum(w ** 2), np.ones(3), **args)


def test_non_scalar_function_is_rejected():
    with pytest.raises(ValueError, match="scalar"):
        diag.forward_gradient_stats(lambda w: w ** 2, np.ones(3), rng=np.random.default_rng(0))
