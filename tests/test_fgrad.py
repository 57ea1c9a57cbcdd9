"""dualnum.fgrad: every estimator's defining property on tiny networks (float64), seeds,
local heads, and the one set of checks. Fixed seeds; each test is small."""
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum.fgrad.directions import sample_directions
from dualnum.fgrad.losses import cross_entropy_per_example

F64 = dict(dtype=np.float64)


def mlp(*widths, seed=0, tanh=True):
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(dn.nn.Linear(a, b, rng=seed + i, **F64))
        if i < len(widths) - 2:
            layers.append(dn.nn.Tanh() if tanh else dn.nn.ReLU())
    return dn.nn.Sequential(*layers)


def problem(model, batch=6, n_in=3, n_classes=3, seed=1, image=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + (image or (n_in,)))
    y = np.arange(batch) % n_classes
    params = dict(model.named_parameters())

    def per_example(p):
        return cross_entropy_per_example(dn.nn.functional_call(model, p, x), y)

    def mean(p):
        return dn.cross_entropy(dn.nn.functional_call(model, p, x), y)

    return params, per_example, mean, x, y


def flat(tree):
    return np.concatenate([np.ravel(np.asarray(v)) for v in tree.values()])


def local_ce(y):
    return lambda out: cross_entropy_per_example(out, y)


# ------------------------------------------------------------------ exactness
def test_projection_is_exact_once_the_directions_span():
    model = mlp(3, 4, 3)
    params, per_example, mean, _, _ = problem(model)
    exact = flat(dn.grad(mean)(params))
    n = exact.size  # 31
    _, g = dn.forward_gradient(mean, params, rng=np.random.default_rng(0), n_directions=n,
                               combination="projection")
    np.testing.assert_allclose(flat(g), exact, atol=1e-12)
    # activity: widths 4 and 3 per example, so K = 4 spans every layer's activations
    _, g = dn.forward_gradient(per_example, params, rng=np.random.default_rng(0),
                               n_directions=4, perturbation="activity",
                               combination="projection")
    np.testing.assert_allclose(flat(g), exact, atol=1e-12)
    # ... and fewer directions do not
    _, g = dn.forward_gradient(per_example, params, rng=np.random.default_rng(0),
                               n_directions=3, perturbation="activity",
                               combination="projection")
    assert np.abs(flat(g) - exact).max() > 1e-3


def test_activity_projection_is_exact_through_convolutions():
    model = dn.nn.Sequential(
        dn.nn.Conv2d(1, 2, 3, padding=1, rng=0, **F64), dn.nn.ReLU(), dn.nn.MaxPool2d(2),
        dn.nn.Conv2d(2, 2, 3, stride=2, padding=1, rng=1, **F64), dn.nn.ReLU(),
        dn.nn.Flatten(), dn.nn.Linear(8, 3, rng=2, **F64))
    params, per_example, mean, _, _ = problem(model, batch=3, image=(1, 6, 6))
    exact = flat(dn.grad(mean)(params))
    _, g = dn.forward_gradient(per_example, params, rng=np.random.default_rng(0),
                               n_directions=72, perturbation="activity",
                               combination="projection")
    np.testing.assert_allclose(flat(g), exact, atol=1e-12)


def test_projection_never_overshoots_and_shrinks_by_k_over_n():
    # For normal weight directions E[ĝ] = (K/n) ∇f, and ‖ĝ‖ <= ‖∇f‖ always.
    w = np.linspace(-1.0, 1.0, 12)

    def f(v):
        return np.sum(np.sin(v) * v)
    exact = dn.grad(f)(w)
    rng = np.random.default_rng(3)
    est = np.array([dn.forward_gradient(f, w, rng=rng, n_directions=3,
                                        combination="projection")[1] for _ in range(3000)])
    assert np.all(np.linalg.norm(est, axis=1) <= np.linalg.norm(exact) * (1 + 1e-12))
    scale = est.mean(axis=0) @ exact / (exact @ exact)
    assert scale == pytest.approx(3 / 12, abs=0.02)


# ------------------------------------------------------------------ unbiasedness
@pytest.mark.parametrize("settings", [
    dict(perturbation="weight", distribution="rademacher"),
    dict(perturbation="weight", distribution="outer"),
    dict(perturbation="activity", distribution="normal"),
], ids=["weight-rademacher", "weight-outer", "activity-normal"])
def test_mean_estimates_are_unbiased(settings):
    model = mlp(3, 4, 3)
    params, per_example, mean, _, _ = problem(model)
    exact = flat(dn.grad(mean)(params))
    f = per_example if settings["perturbation"] == "activity" else mean
    rng = np.random.default_rng(4)
    est = np.array([flat(dn.forward_gradient(f, params, rng=rng, n_directions=2,
                                             **settings)[1]) for _ in range(4000)])
    se = est.std(axis=0, ddof=1) / math.sqrt(len(est))
    z = np.abs(est.mean(axis=0) - exact) / np.where(se > 0, se, 1.0)
    assert z.max() < 5, z.max()
    assert np.abs(est.mean(axis=0) - exact).max() < 0.1 * np.abs(exact).max()


# ------------------------------------------------------------------ seeds
@pytest.mark.parametrize("settings", [
    dict(perturbation="weight", distribution="normal"),
    dict(perturbation="weight", distribution="outer"),
    dict(perturbation="weight", combination="projection"),
    dict(perturbation="activity", distribution="rademacher"),
    dict(perturbation="activity", combination="projection"),
], ids=lambda s: "-".join(s.values()))
def test_a_seed_reproduces_every_estimate(settings):
    model = mlp(3, 8, 3)
    params, per_example, mean, _, _ = problem(model)
    f = per_example if settings["perturbation"] == "activity" else mean
    runs = [dn.forward_gradient(f, params, rng=np.random.default_rng(7), n_directions=3,
                                **settings)[1] for _ in range(2)]
    for k in params:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])
    other = dn.forward_gradient(f, params, rng=np.random.default_rng(8), n_directions=3,
                                **settings)[1]
    assert not np.array_equal(flat(other), flat(runs[0]))


def test_clip_limits_every_directional_derivative():
    a = {"w": np.array([3.0, -1.0, 2.0]), "b": np.array([[0.5]])}

    def f(p):
        return np.sum(a["w"] * p["w"]) + np.sum(a["b"] * p["b"])
    params = {"w": np.zeros(3), "b": np.zeros((1, 1))}
    vw, vb = sample_directions(np.random.default_rng(5), [params["w"], params["b"]], 4,
                               "normal")
    d = vw @ a["w"] + vb.reshape(4) * 0.5
    dc = np.clip(d, -0.3, 0.3)
    assert np.any(np.abs(d) > 0.3)
    _, g = dn.forward_gradient(f, params, rng=np.random.default_rng(5), n_directions=4,
                               distribution="normal", clip=0.3)
    np.testing.assert_allclose(g["w"], dc @ vw / 4, rtol=1e-14)
    np.testing.assert_allclose(g["b"], np.tensordot(dc, vb, axes=1) / 4, rtol=1e-14)
    _, g_inf = dn.forward_gradient(f, params, rng=np.random.default_rng(5), n_directions=4,
                                   distribution="normal", clip=math.inf)
    np.testing.assert_allclose(g_inf["w"], d @ vw / 4, rtol=1e-14)
    for bad in (0, -1.0, math.nan, True):
        with pytest.raises(ValueError, match="clip"):
            dn.forward_gradient(f, params, rng=np.random.default_rng(5), clip=bad)


# ------------------------------------------------------------------ local losses
def blocks_with_heads():
    model = dn.nn.Sequential(
        dn.nn.Linear(3, 5, rng=0, **F64), dn.nn.Tanh(),
        dn.nn.LocalHead(dn.nn.Linear(5, 3, rng=1, **F64)),
        dn.nn.Linear(5, 4, rng=2, **F64), dn.nn.Tanh(), dn.nn.Linear(4, 3, rng=3, **F64))
    return model


def greedy_reference(params, x, y):
    """∇ of the sum of the block losses, each block's input held constant, by dn.grad."""

    def objective(p):
        h = np.tanh(x @ p["0.weight"].T + p["0.bias"])
        l1 = dn.cross_entropy(h @ p["2.head.weight"].T + p["2.head.bias"], y)
        h = h.primal if isinstance(h, dn.Dual) else h
        h2 = np.tanh(h @ p["3.weight"].T + p["3.bias"])
        return l1 + dn.cross_entropy(h2 @ p["5.weight"].T + p["5.bias"], y)
    return dn.grad(objective)(params)


@pytest.mark.parametrize("perturbation", ["weight", "activity"])
def test_local_losses_train_each_block_by_its_own_head(perturbation):
    model = blocks_with_heads()
    params, per_example, mean, x, y = problem(model)
    ref = flat(greedy_reference(params, x, y))
    f = per_example if perturbation == "activity" else mean
    k = 5 if perturbation == "activity" else 64  # every width, every block's parameter count
    local = local_ce(y) if perturbation == "activity" else lambda out: dn.cross_entropy(out, y)
    _, g = dn.forward_gradient(f, params, rng=np.random.default_rng(0), n_directions=k,
                               perturbation=perturbation, combination="projection",
                               local_loss=local)
    with pytest.raises(ValueError, match="scalar|one loss per example"):  # the wrong kind
        dn.forward_gradient(f, params, rng=np.random.default_rng(0), n_directions=k,
                            perturbation=perturbation, local_loss=local_ce(y) if
                            perturbation == "weight" else lambda out: dn.cross_entropy(out, y))
    np.testing.assert_allclose(flat(g), ref, atol=1e-12)
    # without local_loss the heads are inactive: the global gradient, head parameters left out
    free = {k: v for k, v in params.items() if "head" not in k}
    _, g = dn.forward_gradient(per_example, free, rng=np.random.default_rng(0),
                               n_directions=5, perturbation="activity",
                               combination="projection")
    np.testing.assert_allclose(flat(g), flat(dn.grad(mean)(free)), atol=1e-12)


@pytest.mark.parametrize("squash", [False, True], ids=["linear-head", "probed-head"])
def test_pooled_heads_make_a_convolution_exact_window_by_window(squash):
    # A head starting with a Linear gives ∇ at the pooled vector from its own basis
    # slots; any other head gets probe slots there. Both are exact.
    head = dn.nn.Linear(2 * 2 * 2, 3, rng=1, **F64)
    model = dn.nn.Sequential(
        dn.nn.Conv2d(1, 2, 3, padding=1, rng=0, **F64), dn.nn.ReLU(), dn.nn.MaxPool2d(2),
        dn.nn.LocalHead(dn.nn.Sequential(dn.nn.Tanh(), head) if squash else head, pool=2),
        dn.nn.Flatten(), dn.nn.Linear(2 * 4 * 4, 3, rng=2, **F64))
    params, per_example, _, x, y = problem(model, batch=4, image=(1, 9, 9))
    w_head = "3.head.1" if squash else "3.head"

    def objective(p):
        conv = dn.conv2d(x, p["0.weight"], p["0.bias"], padding=1)
        h = dn.max_pool2d(dn.relu(conv), 2)
        s = dn.avg_pool2d(h, 2).reshape(4, -1)
        s = np.tanh(s) if squash else s
        l1 = dn.cross_entropy(s @ p[w_head + ".weight"].T + p[w_head + ".bias"], y)
        h = (h.primal if isinstance(h, dn.Dual) else h).reshape(4, -1)
        return l1 + dn.cross_entropy(h @ p["5.weight"].T + p["5.bias"], y)

    ref = flat(dn.grad(objective)(params))
    # The window is 2x2x2 = 8 numbers, so K = 8 is exact although the conv output has 162.
    est = dn.fgrad.Estimator(perturbation="activity", n_directions=8,
                             combination="projection")
    names = list(params)

    def apply(ls, xb):
        return dn.nn.functional_call(model, dict(zip(names, ls)), xb)
    _, g = est.estimate(apply, list(params.values()), x, y, dn.cross_entropy,
                        np.random.default_rng(0))
    np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in g]), ref, atol=1e-12)
    assert len(est.local_values) == 1
    # Fewer directions per window: an estimate, not the gradient, but close in direction.
    cos = []
    for seed in range(5):
        _, g = dn.forward_gradient(per_example, params, rng=np.random.default_rng(seed),
                                   n_directions=4, perturbation="activity",
                                   combination="projection", local_loss=local_ce(y))
        a, b = flat(g)[:20], ref[:20]
        cos.append(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    assert 0.3 < np.mean(cos) < 1 - 1e-6


def test_local_head_is_the_identity_outside_an_estimate():
    head = dn.nn.LocalHead(dn.nn.Linear(8, 2, rng=0), pool=2)
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 4)).astype(np.float32)
    assert head(x) is x
    assert head.head_input(x).shape == (3, 8)
    assert "pool=2" in repr(head)
    with pytest.raises(TypeError, match="Module"):
        dn.nn.LocalHead(lambda v: v)
    with pytest.raises(ValueError, match="pool"):
        dn.nn.LocalHead(dn.nn.ReLU(), pool=0)
    with pytest.raises(ValueError, match=r"pools images \(B, C, H, W\)"):
        head.head_input(np.ones((3, 8)))


# ------------------------------------------------------------------ the estimator object
def test_estimator_recipe_round_trip_and_problem_protocol():
    est = dn.fgrad.Estimator(perturbation="activity", n_directions=8,
                             combination="projection", local_losses=False)
    d = est.describe()
    assert d["gradient"] == "forward" and d["local_losses"] is False
    assert any("Ren" in r for r in d["references"]) and any("Flügel" in r
                                                            for r in d["references"])
    again = dn.fgrad.Estimator.from_recipe(d)
    assert again.describe() == d
    with pytest.raises(ValueError, match="unknown forward-gradient recipe key 'lr'"):
        dn.fgrad.Estimator.from_recipe({"lr": 0.1})

    model = mlp(3, 4, 3)
    params, _, mean, x, y = problem(model)
    names = list(params)

    class Problem:  # what dualnum.train hands a gradient estimator
        leaves = list(params.values())
        loss_fn = staticmethod(dn.cross_entropy)

        @staticmethod
        def apply(ls, xb):
            return dn.nn.functional_call(model, dict(zip(names, ls)), xb)

    Problem.x, Problem.y = x, y
    loss, g = est(Problem, np.random.default_rng(0))
    assert float(loss) == pytest.approx(float(mean(params)))
    np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in g]),
                               flat(dn.grad(mean)(params)), atol=1e-12)


# ------------------------------------------------------------------ one set of checks
def test_bad_settings_fail_at_the_entry_point():
    def f(w):
        return np.sum(w ** 2)
    rng = np.random.default_rng(0)
    cases = [
        (dict(distribution="uniform"), ValueError, "unknown distribution 'uniform'"),
        (dict(perturbation="activity", distribution="outer"), ValueError, "activity"),
        (dict(combination="median"), ValueError, "unknown combination"),
        (dict(perturbation="nodes"), ValueError, "unknown perturbation"),
        (dict(n_directions=0), ValueError, "n_directions"),
        (dict(combination="projection", distribution="outer"), ValueError, "dense"),
        (dict(n_directions=4, chunk_size=2, combination="projection"), ValueError,
         "chunk_size"),
    ]
    for kwargs, err, match in cases:
        with pytest.raises(err, match=match):
            dn.forward_gradient(f, np.ones(3), rng=rng, **kwargs)
        with pytest.raises(err, match=match):
            dn.fgrad.Estimator(**kwargs)
    with pytest.raises(TypeError, match="Generator"):
        dn.forward_gradient(f, np.ones(3), rng=0)


def test_activity_perturbation_explains_what_it_needs():
    model = mlp(3, 4, 3)
    params, per_example, mean, _, _ = problem(model)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="one loss per example"):
        dn.forward_gradient(mean, params, rng=rng, perturbation="activity")
    x, y = problem(model)[3:]
    names = list(params)

    def scaled(p):  # "scale" belongs to no Linear or Conv2d layer
        out = dn.nn.functional_call(model, {k: p[k] for k in names}, x)
        return cross_entropy_per_example(out * p["scale"], y)

    with pytest.raises(ValueError, match=r"leaves \[4\] are not one of those"):
        dn.forward_gradient(scaled, dict(params, scale=np.ones(3)), rng=rng,
                            perturbation="activity")
    with pytest.raises(ValueError, match="no layer to perturb"):
        dn.forward_gradient(lambda w: w ** 2, np.ones(3), rng=rng, perturbation="activity")


# ------------------------------------------------------------------ diagnostics, models
def test_estimator_stats_against_theory_and_exactness():
    model = mlp(3, 4, 3)
    params, per_example, _, x, y = problem(model)
    n = sum(p.size for p in params.values())
    stats = dn.diagnostics.estimator_stats(
        per_example, params, rng=np.random.default_rng(0), n_directions=(4, 16),
        samples=300, estimators=[{"combination": "projection"},
                                 {"perturbation": "activity", "combination": "projection"}])
    weight, activity = stats["rows"][:2], stats["rows"][2:]
    for r in weight:  # E‖ĝ − ∇f‖²/‖∇f‖² = 1 − K/n for a random K-dim projection
        assert r["relative_mse"] == pytest.approx(1 - r["n_directions"] / n, abs=0.05)
        assert r["relative_mse_theory"] == pytest.approx(1 - r["n_directions"] / n)
        assert r["scale"] == pytest.approx(r["n_directions"] / n, abs=0.05)
    assert activity[0]["cosine_mean"] == pytest.approx(1.0)  # widths 4 and 3 <= K
    assert activity[0]["relative_mse"] < 1e-20 and activity[0]["cosine_theory"] is None
    assert len(activity[0]["cosine_by_leaf"]) == len(params)
    with pytest.raises(ValueError, match="reference="):
        dn.diagnostics.estimator_stats(per_example, params, rng=np.random.default_rng(0),
                                       estimators=[{}], local_loss=local_ce(y))
    with pytest.raises(ValueError, match="unknown settings"):
        dn.diagnostics.estimator_stats(per_example, params, rng=np.random.default_rng(0),
                                       estimators=[{"directions": 3}])


def test_models_with_local_heads_predict_with_the_same_network():
    from dualnum.models import build_model

    for name, shape in (("mlp", (1, 8, 8)), ("cnn", (1, 8, 8))):
        plain = build_model(name, shape, 10, rng=3)
        headed = build_model(name, shape, 10, rng=3, local_heads=True)
        x = np.random.default_rng(0).standard_normal((2,) + shape).astype(np.float32)
        np.testing.assert_array_equal(plain(x), headed(x))
        heads = [m for m in headed.modules() if isinstance(m, dn.nn.LocalHead)]
        assert len(heads) == (1 if name == "mlp" else 2)
