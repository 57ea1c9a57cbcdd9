"""dualnum.train: forward-gradient and exact training loops, batching, evaluation,
errors and reproducibility. Fixed seeds throughout, no timing assertions."""
import math

import numpy as np
import pytest

import dualnum as dn

train = dn.train


# ------------------------------------------------------------------ data and models
def two_spirals(n, rng):
    """Two interleaved spirals in the plane, labels 0 and 1, float32 inputs."""
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    label = rng.integers(0, 2, n)
    angle = t + label * np.pi
    r = 2 * t / (3 * np.pi)
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1) + 0.02 * rng.standard_normal((n, 2))
    return x.astype(np.float32), label.astype(np.int64)


def blobs(n, rng):
    label = rng.integers(0, 2, n)
    x = np.array([[-1.0, -1.0], [1.0, 1.0]])[label] + 0.7 * rng.standard_normal((n, 2))
    return x.astype(np.float32), label.astype(np.int64)


def mlp(seed, hidden=16):
    return dn.nn.Sequential(dn.nn.Linear(2, hidden, rng=seed), dn.nn.Tanh(),
                            dn.nn.Linear(hidden, 2, rng=seed + 1))


def start_loss(model, x, y):
    return train.evaluate(model, dn.cross_entropy, (x, y))["loss"]


# ------------------------------------------------------------------ training works
def test_forward_gradient_training_on_two_spirals():
    rng = np.random.default_rng(0)
    x, y = two_spirals(512, rng)
    model = mlp(10)
    first = start_loss(model, x, y)
    steps = 800
    opt = dn.optim.SGD(dict(model.named_parameters()),
                       lr=dn.optim.ExponentialDecay(0.1, k=1 / steps), momentum=0.9)
    records = []
    result = train.fit(model, dn.cross_entropy, train.batches(x, y, 64, rng), steps=steps,
                       optimizer=opt, rng=rng, n_directions=8, clip=2.0, eval_data=(x, y),
                       eval_every=200, callback=records.append, log_every=100)
    assert result.eval_loss < 0.25 * first, (first, result.eval_loss)
    assert result.eval_accuracy > 0.9
    assert result.steps == steps and result.losses.shape == (steps,)
    assert np.all(np.isfinite(result.losses))
    # evaluations at 200, 400, 600, 800; callback every 100 steps
    assert [e["step"] for e in result.evals] == [200, 400, 600, 800]
    assert [r["step"] for r in records] == list(range(100, 801, 100))
    assert records == result.history
    for r in records:
        assert {"step", "loss", "lr", "seconds"} <= set(r)
        assert ("eval_loss" in r) == (r["step"] % 200 == 0)
    # the learning rate recorded is the schedule's value at that step
    assert records[0]["lr"] == pytest.approx(0.1 * math.exp(-99 / steps))
    np.testing.assert_allclose(result.lrs, 0.1 * np.exp(-np.arange(steps) / steps))
    # the model's own arrays were trained (the optimizer holds them)
    assert result.params["0.weight"] is model[0].weight


def test_forward_gradient_k1_plain_sgd_on_blobs():
    # The method of Baydin et al. exactly: one normal direction, θ ← θ − η (∇f·v) v.
    rng = np.random.default_rng(1)
    x, y = blobs(512, rng)
    model = mlp(3)
    first = start_loss(model, x, y)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.05, momentum=0.9)
    result = train.fit(model, dn.cross_entropy, train.batches(x, y, 64, rng), steps=300,
                       optimizer=opt, rng=rng, eval_data=(x, y))
    assert result.eval_loss < 0.5 * first
    assert result.eval_accuracy > 0.9


@pytest.mark.parametrize("distribution", ["rademacher"])
def test_other_distribution_and_chunked_directions(distribution):
    rng = np.random.default_rng(2)
    x, y = blobs(256, rng)
    model = mlp(5)
    first = start_loss(model, x, y)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.05, momentum=0.9)
    result = train.fit(model, dn.cross_entropy, train.batches(x, y, 64, rng), steps=200,
                       optimizer=opt, rng=rng, n_directions=6, chunk_size=4,
                       distribution=distribution, eval_data=(x, y))
    assert result.eval_loss < 0.5 * first


def test_exact_gradient_training_decreases_the_loss():
    rng = np.random.default_rng(3)
    x, y = two_spirals(256, rng)
    model = mlp(7)
    first = start_loss(model, x, y)
    opt = dn.optim.Adam(dict(model.named_parameters()), lr=0.05)
    result = train.fit(model, dn.cross_entropy, train.batches(x, y, 64, rng), steps=150,
                       optimizer=opt, gradient="exact", chunk_size=32, eval_data=(x, y))
    assert result.eval_loss < 0.7 * first
    assert result.losses[-20:].mean() < result.losses[:20].mean()


def test_exact_gradient_step_is_the_exact_gradient():
    # One plain SGD step with gradient="exact" moves the parameters by -lr * dn.grad.
    rng = np.random.default_rng(4)
    x, y = blobs(32, rng)
    model = dn.nn.Sequential(dn.nn.Linear(2, 3, rng=0, dtype=np.float64), dn.nn.Tanh(),
                             dn.nn.Linear(3, 2, rng=1, dtype=np.float64))
    params = dict(model.named_parameters())
    before = {k: v.copy() for k, v in params.items()}
    g = dn.grad(lambda p: dn.cross_entropy(dn.nn.functional_call(model, p, x), y))(before)
    loss0 = float(dn.cross_entropy(model(x), y))
    result = train.fit(model, dn.cross_entropy, [(x, y)], steps=1, gradient="exact",
                       optimizer=dn.optim.SGD(params, lr=0.5))
    for k in params:
        np.testing.assert_allclose(params[k], before[k] - 0.5 * g[k], rtol=1e-12, atol=1e-14)
    assert result.losses[0] == loss0


def test_forward_step_is_dn_forward_gradient():
    # fit's forward step is exactly dn.forward_gradient with the same generator state.
    rng_data = np.random.default_rng(5)
    x, y = blobs(32, rng_data)
    model = mlp(0)
    params = dict(model.named_parameters())
    before = {k: v.copy() for k, v in params.items()}
    f = lambda p: dn.cross_entropy(dn.nn.functional_call(model, p, x), y)  # noqa: E731
    _, g = dn.forward_gradient(f, before, rng=np.random.default_rng(9), n_directions=3)
    train.fit(model, dn.cross_entropy, [(x, y)], steps=1, optimizer=dn.optim.SGD(params, lr=0.1),
              rng=np.random.default_rng(9), n_directions=3)
    for k in params:
        # the fused update rounds differently from forming g first: equal to float32 ulps
        np.testing.assert_allclose(params[k], before[k] - np.float32(0.1) * g[k],
                                   rtol=1e-6, atol=1e-7)


def test_clipped_step_is_dn_forward_gradient_with_clip():
    rng_data = np.random.default_rng(5)
    x, y = blobs(32, rng_data)
    model = mlp(0)
    params = dict(model.named_parameters())
    before = {k: v.copy() for k, v in params.items()}
    f = lambda p: dn.cross_entropy(dn.nn.functional_call(model, p, x), y)  # noqa: E731
    _, g = dn.forward_gradient(f, before, rng=np.random.default_rng(9), n_directions=4,
                               clip=1e-3)
    train.fit(model, dn.cross_entropy, [(x, y)], steps=1, optimizer=dn.optim.SGD(params, lr=0.1),
              rng=np.random.default_rng(9), n_directions=4, clip=1e-3)
    for k in params:
        np.testing.assert_allclose(params[k], before[k] - np.float32(0.1) * g[k], rtol=1e-6,
                                   atol=1e-7)
    # every |∇f·v_k| was clipped to 1e-3, so the step is tiny
    assert max(np.abs(params[k] - before[k]).max() for k in params) < 0.1 * 1e-3 * 20


def test_outer_distribution_with_plain_sgd():
    import dualnum.fg as fg

    if "outer" not in fg.DISTRIBUTIONS:
        pytest.skip("this engine has no 'outer' distribution")
    rng = np.random.default_rng(11)
    x, y = blobs(256, rng)
    model = mlp(4)
    first = start_loss(model, x, y)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.02)  # fused rank-K updates
    result = train.fit(model, dn.cross_entropy, train.batches(x, y, 64, rng), steps=300,
                       optimizer=opt, rng=rng, n_directions=4, distribution="outer",
                       eval_data=(x, y))
    assert result.eval_loss < 0.5 * first


def test_functional_model_and_frozen_parameters():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((128, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3

    def apply(p, xb):
        return xb @ p["w"] + p["b"]

    params = {"w": np.zeros((3, 1)), "b": np.zeros(1)}
    opt = dn.optim.SGD(params, lr=0.05)
    res = train.fit(apply, dn.mse, train.batches(x, y, 32, rng), steps=400, optimizer=opt,
                    rng=rng, n_directions=4, eval_data=(x, y))
    assert res.eval_loss < 1e-3 and res.eval_accuracy is None
    np.testing.assert_allclose(params["w"].ravel(), [1.0, -2.0, 0.5], atol=0.05)

    # A Module with only the last layer in the optimizer: the first stays as it was.
    model = mlp(2)
    first_w = model[0].weight.copy()
    xb, yb = blobs(64, rng)
    opt = dn.optim.SGD({"w": model[2].weight, "b": model[2].bias}, lr=0.1)
    train.fit(model, dn.cross_entropy, [(xb, yb)], steps=5, optimizer=opt, rng=rng)
    np.testing.assert_array_equal(model[0].weight, first_w)


# ------------------------------------------------------------------ reproducibility
def run_once(seed, steps=60):
    rng = np.random.default_rng(seed)
    x, y = two_spirals(256, rng)
    model = mlp(1)
    opt = dn.optim.Adam(dict(model.named_parameters()), lr=0.01)
    res = train.fit(model, dn.cross_entropy, train.batches(x, y, 32, rng), steps=steps,
                    optimizer=opt, rng=rng, n_directions=2, eval_data=(x, y), eval_every=20)
    return model.state_dict(), res


def test_same_seed_reproduces_the_run_bit_for_bit():
    a, ra = run_once(123)
    b, rb = run_once(123)
    c, _ = run_once(124)
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    np.testing.assert_array_equal(ra.losses, rb.losses)
    assert [e["eval_loss"] for e in ra.evals] == [e["eval_loss"] for e in rb.evals]
    assert any(not np.array_equal(a[k], c[k]) for k in a)


# ------------------------------------------------------------------ non-finite loss
def test_nan_batch_raises_naming_the_step():
    rng = np.random.default_rng(7)
    x, y = blobs(64, rng)
    bad = x[:16].copy()
    bad[3, 0] = np.nan
    data = [(x[:16], y[:16]), (x[16:32], y[16:32]), (bad, y[:16]), (x[32:48], y[32:48])]
    model = mlp(0)
    params = dict(model.named_parameters())
    opt = dn.optim.SGD(params, lr=0.01)
    seen = []
    with pytest.raises(train.NonFiniteLossError, match=r"nan at step 3 \(of 10\)") as info:
        train.fit(model, dn.cross_entropy, data, steps=10, optimizer=opt, rng=rng,
                  callback=seen.append)
    err = info.value
    assert err.step == 3 and math.isnan(err.loss)
    assert isinstance(err, FloatingPointError)
    assert err.result.steps == 2 and len(err.result.losses) == 2
    assert [r["step"] for r in seen] == [1, 2]
    assert "parameters are finite" in str(err)
    assert all(np.all(np.isfinite(p)) for p in params.values())  # no garbage update


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_divergence_raises_naming_the_step():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((64, 2))
    y = rng.standard_normal((64, 1)) * 1e3

    def apply(p, xb):
        return xb @ p["w"]

    opt = dn.optim.SGD({"w": np.ones((2, 1))}, lr=1e3)
    with pytest.raises(train.NonFiniteLossError, match=r"at step \d+") as info:
        train.fit(apply, dn.mse, [(x, y)], steps=200, optimizer=opt, gradient="exact")
    assert 1 < info.value.step <= 200


def test_nan_loss_with_exact_gradient():
    x, y = np.ones((4, 2)), np.array([0, 1, 0, 1])
    model = dn.nn.Linear(2, 2, rng=0, dtype=np.float64)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1)
    calls = []

    def loss(out, yb):
        calls.append(1)
        return dn.cross_entropy(out, yb) * (np.nan if len(calls) > 3 else 1.0)

    # one dn.grad pass per step (6 parameters < default chunk) plus nothing else
    with pytest.raises(train.NonFiniteLossError, match="at step 4"):
        train.fit(model, loss, [(x, y)], steps=5, optimizer=opt, gradient="exact")


# ------------------------------------------------------------------ arguments
def small_setup():
    model = dn.nn.Linear(2, 2, rng=0)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1)
    data = [(np.ones((4, 2), np.float32), np.array([0, 1, 0, 1]))]
    return model, opt, data


@pytest.mark.parametrize("steps", [0, -3, 2.5, True, "10"])
def test_bad_steps(steps):
    model, opt, data = small_setup()
    with pytest.raises(ValueError, match=f"steps must be a positive integer, got {steps!r}"):
        train.fit(model, dn.cross_entropy, data, steps=steps, optimizer=opt,
                  rng=np.random.default_rng(0))


@pytest.mark.parametrize("kwargs, match", [
    (dict(gradient="backprop"), "unknown gradient 'backprop'"),
    (dict(n_directions=0), "n_directions must be a positive integer, got 0"),
    (dict(n_directions=-2), "n_directions must be a positive integer, got -2"),
    (dict(distribution="uniform"), "unknown distribution 'uniform'"),
    (dict(clip=0.0), "clip must be a positive number .* got 0.0"),
    (dict(clip=1.0, gradient="exact"), "clip=1.0 .* gradient='exact'"),
    (dict(chunk_size=0), "chunk_size must be a positive integer, got 0"),
    (dict(eval_every=0, eval_data=None), "eval_every must be a positive integer, got 0"),
    (dict(eval_every=5), "eval_every=5 needs eval_data"),
    (dict(log_every=0), "log_every must be a positive integer, got 0"),
])
def test_bad_arguments(kwargs, match):
    model, opt, data = small_setup()
    with pytest.raises(ValueError, match=match):
        train.fit(model, dn.cross_entropy, data, steps=3, optimizer=opt,
                  rng=np.random.default_rng(0), **kwargs)


def test_bad_types():
    model, opt, data = small_setup()
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        train.fit(model, dn.cross_entropy, data, steps=1, optimizer=opt, rng=0)
    with pytest.raises(TypeError, match="optimizer must be a dn.optim.Optimizer"):
        train.fit(model, dn.cross_entropy, data, steps=1, optimizer="sgd",
                  rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"train_data must yield \(x, y\) pairs"):
        train.fit(model, dn.cross_entropy, [np.ones((4, 2))] * 2, steps=1, optimizer=opt,
                  rng=np.random.default_rng(0))
    other = dn.nn.Linear(2, 2, rng=1)
    with pytest.raises(ValueError, match="not one of the model's parameter arrays"):
        train.fit(other, dn.cross_entropy, data, steps=1, optimizer=opt,
                  rng=np.random.default_rng(0))


def test_one_shot_iterator_running_out_names_the_step():
    model, opt, data = small_setup()
    with pytest.raises(ValueError, match="ran out of batches at step 3 of 5"):
        train.fit(model, dn.cross_entropy, iter(data * 2), steps=5, optimizer=opt,
                  rng=np.random.default_rng(0))
    # a re-iterable list runs epoch after epoch
    res = train.fit(model, dn.cross_entropy, data, steps=5, optimizer=opt,
                    rng=np.random.default_rng(0))
    assert res.steps == 5


def test_modes_are_restored_and_dropout_runs_in_training_mode():
    rng = np.random.default_rng(0)
    x, y = blobs(64, rng)
    model = dn.nn.Sequential(dn.nn.Linear(2, 8, rng=0), dn.nn.Dropout(0.5, rng=0),
                             dn.nn.Linear(8, 2, rng=1))
    model.eval()
    seen = []
    real_forward = model[1].forward

    def spy(v):
        seen.append(model[1].training)
        return real_forward(v)

    model[1].forward = spy
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.01)
    train.fit(model, dn.cross_entropy, [(x, y)], steps=3, optimizer=opt, rng=rng,
              eval_data=(x, y))
    assert seen == [True, True, True, False]  # three steps, then the final evaluation
    assert not any(m.training for m in model.modules())


# ------------------------------------------------------------------ batches, evaluate
def test_batches_cover_every_example_each_epoch_and_reshuffle():
    x, y = np.arange(10.0)[:, None], np.arange(10)
    b = train.batches(x, y, 4, np.random.default_rng(0))
    assert len(b) == 3
    e1 = [yb.tolist() for _, yb in b]
    e2 = [yb.tolist() for _, yb in b]
    assert [len(v) for v in e1] == [4, 4, 2]
    assert sorted(sum(e1, [])) == list(range(10)) == sorted(sum(e2, []))
    assert e1 != e2
    for xb, yb in b:
        np.testing.assert_array_equal(xb[:, 0], yb)
    again = train.batches(x, y, 4, np.random.default_rng(0))
    assert [yb.tolist() for _, yb in again] == e1
    fixed = train.batches(x, y, 4, shuffle=False, drop_last=True)
    assert len(fixed) == 2 and [yb.tolist() for _, yb in fixed] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_batches_errors():
    with pytest.raises(ValueError, match="same first axis"):
        train.batches(np.ones((3, 2)), np.ones(4), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        train.batches(np.ones((3, 2)), np.ones(3), 0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="needs rng"):
        train.batches(np.ones((3, 2)), np.ones(3), 2)


def test_evaluate_weights_batches_by_size():
    x = np.array([[0.0], [1.0], [2.0]])
    y = np.zeros((3, 1))

    def apply(p, xb):
        return xb * p["s"]

    full = train.evaluate(apply, dn.mse, (x, y), params={"s": np.ones(1)})
    chunked = train.evaluate(apply, dn.mse, (x, y), params={"s": np.ones(1)}, batch_size=2)
    assert full["loss"] == pytest.approx(5 / 3) == chunked["loss"]
    assert "accuracy" not in full
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 5.0]])
    res = train.evaluate(lambda p, xb: xb, dn.cross_entropy,
                         [(logits[:3], np.array([0, 1, 1])), (logits[3:], np.array([1]))],
                         params={})
    assert res["accuracy"] == 0.75


# ------------------------------------------------------------------ memory, stopping, estimators
def test_memory_does_not_depend_on_the_step_budget():
    """A budget of 10**18 steps allocates nothing up front (the old loop asked for 16 bytes
    per step before the first one)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x, y = blobs(256, rng)
    model = mlp(0)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1)
    seen = []

    def stop_after_20(rec):
        seen.append(rec["step"])
        if rec["step"] == 20:
            raise train.StopTraining

    batches = train.batches(x, y, 32, rng)
    train.fit(model, dn.cross_entropy, batches, steps=2, optimizer=opt, rng=rng,
              n_directions=4)  # compiles kernels and imports lazily-loaded modules
    tracemalloc.start()
    try:
        res = train.fit(model, dn.cross_entropy, batches, steps=10**18, optimizer=opt,
                        rng=rng, n_directions=4, callback=stop_after_20, record=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.steps == 20 and seen == list(range(1, 21)) and res.losses.size == 0
    assert peak < 4 << 20, peak
    kept = train.fit(model, dn.cross_entropy, batches, steps=10**18, optimizer=opt, rng=rng,
                     callback=stop_after_20)
    assert kept.steps == 20 and kept.losses.shape == (20,) and len(kept.history) == 20


def test_a_custom_gradient_estimator_plugs_in():
    """An estimator is one object: fit hands it the step's problem and applies what it
    returns; here, exact gradients scaled by 2 with half the learning rate match plain
    exact gradients."""
    class Doubled(train.GradientEstimator):
        name = "doubled"
        needs_rng = False

        def __call__(self, problem, rng):
            value, g = train.ExactGradient()(problem, rng)
            assert problem.x.shape == (32, 2) and problem.model is model
            return value, [2 * gi for gi in g]

    rng = np.random.default_rng(1)
    x, y = blobs(128, rng)
    runs = []
    for gradient, lr in ((Doubled(), 0.05), ("exact", 0.1)):
        model = mlp(3)
        opt = dn.optim.SGD(dict(model.named_parameters()), lr=lr)
        train.fit(model, dn.cross_entropy, train.batches(x, y, 32, np.random.default_rng(2)),
                  steps=10, optimizer=opt, gradient=gradient)
        runs.append([p.copy() for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert Doubled().settings() == {"gradient": "doubled"}
    with pytest.raises(ValueError, match="pass a dn.train.GradientEstimator"):
        train.fit(mlp(0), dn.cross_entropy, [(x, y)], steps=1,
                  optimizer=dn.optim.SGD(dict(mlp(0).named_parameters()), lr=0.1), gradient="magic")
