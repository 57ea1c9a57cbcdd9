"""dualnum.optim: update formulas against hand computations, schedules, checkpoints,
validation and directional-derivative clipping."""
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum.core.errors import ShapeError, TreeMismatchError

optim = dn.optim


def run(opt, params, grads_seq):
    out = []
    for g in grads_seq:
        opt.step(g)
        out.append({k: v.copy() for k, v in params.items()})
    return out


# ------------------------------------------------------------------ SGD
def test_sgd_plain():
    p = {"w": np.array([1.0, -2.0])}
    opt = optim.SGD(p, lr=0.1)
    steps = run(opt, p, [{"w": np.array([1.0, 2.0])}, {"w": np.array([-3.0, 0.5])}])
    np.testing.assert_allclose(steps[0]["w"], [0.9, -2.2])
    np.testing.assert_allclose(steps[1]["w"], [1.2, -2.25])


def test_sgd_update_kernel_rounds_as_numpy():
    # large float arrays take a one-pass kernel: bit for bit NumPy's `p -= lr * g`
    rng = np.random.default_rng(3)
    for dt in (np.float32, np.float64):
        p, g = rng.standard_normal(1 << 17).astype(dt), rng.standard_normal(1 << 17).astype(dt)
        want = p.copy()
        want -= 0.0137 * g
        dn.optim.SGD({"p": p}, lr=0.0137).step({"p": g})
        np.testing.assert_array_equal(p, want)


def test_sgd_momentum_by_hand():
    # g = 1 every step, lr 0.1, momentum 0.9: buffers 1, 1.9, 2.71.
    p = {"w": np.array([1.0])}
    opt = optim.SGD(p, lr=0.1, momentum=0.9)
    steps = run(opt, p, [{"w": np.array([1.0])}] * 3)
    np.testing.assert_allclose([s["w"][0] for s in steps], [0.9, 0.71, 0.439])
    np.testing.assert_allclose(opt.state["w"]["momentum_buffer"], [2.71])


def test_sgd_dampening_not_applied_on_first_step():
    # PyTorch starts the buffer at the raw gradient; dampening acts from step 2.
    p = {"w": np.array([0.0])}
    opt = optim.SGD(p, lr=1.0, momentum=0.5, dampening=0.5)
    steps = run(opt, p, [{"w": np.array([2.0])}, {"w": np.array([4.0])}, {"w": np.array([0.0])}])
    # buffers: 2; 0.5*2 + 0.5*4 = 3; 0.5*3 + 0 = 1.5
    np.testing.assert_allclose([s["w"][0] for s in steps], [-2.0, -5.0, -6.5])


def test_sgd_nesterov_by_hand():
    # g = 1, lr 0.1, momentum 0.9: buffers 1, 1.9, 2.71; steps use g + 0.9 * buffer.
    p = {"w": np.array([1.0])}
    opt = optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)
    steps = run(opt, p, [{"w": np.array([1.0])}] * 3)
    np.testing.assert_allclose([s["w"][0] for s in steps], [0.81, 0.539, 0.1951])


def test_sgd_weight_decay_by_hand():
    # g_eff = g + wd * p; with momentum the buffer holds g_eff.
    p = {"w": np.array([2.0])}
    opt = optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.25)
    steps = run(opt, p, [{"w": np.array([1.0])}, {"w": np.array([1.0])}])
    # step 1: g_eff = 1 + 0.5 = 1.5, buf 1.5, p = 2 - 0.15 = 1.85
    # step 2: g_eff = 1 + 0.4625 = 1.4625, buf = 0.75 + 1.4625 = 2.2125, p = 1.85 - 0.22125
    np.testing.assert_allclose([s["w"][0] for s in steps], [1.85, 1.62875])


def test_sgd_against_reference_loop_on_arrays():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 2)) for _ in range(3)]
    p0 = rng.standard_normal((3, 2))
    for momentum, dampening, nesterov, wd in [(0.9, 0.1, False, 0.01), (0.8, 0.0, True, 0.1)]:
        p = {"w": p0.copy()}
        opt = optim.SGD(p, lr=0.05, momentum=momentum, dampening=dampening,
                        nesterov=nesterov, weight_decay=wd)
        w, buf = p0.copy(), None
        for g in grads:
            opt.step({"w": g})
            d = g + wd * w
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            w = w - 0.05 * (d + momentum * buf if nesterov else buf)
            np.testing.assert_allclose(p["w"], w, rtol=1e-13)


# ------------------------------------------------------------------ Adam / AdamW
def adam_reference(w, grads, lr, b1, b2, eps, wd=0.0, decoupled=False, amsgrad=False):
    """PyTorch's Adam/AdamW on one scalar, written out in Python floats."""
    m = v = vmax = 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = max(vmax, v)
        denom = math.sqrt(vmax if amsgrad else v) / math.sqrt(1 - b2 ** t) + eps
        w = w - lr / (1 - b1 ** t) * m / denom
        out.append(w)
    return out


def test_adam_constant_gradient_by_hand():
    # With a constant gradient c, bias correction makes m_hat = c and v_hat = c**2 exactly,
    # so every step moves by lr * c / (|c| + eps).
    p = {"w": np.array([1.0, 1.0])}
    opt = optim.Adam(p, lr=0.1, eps=0.5)
    steps = run(opt, p, [{"w": np.array([2.0, -0.5])}] * 3)
    for i, s in enumerate(steps, start=1):
        np.testing.assert_allclose(s["w"], [1 - i * 0.1 * 2 / 2.5, 1 + i * 0.1 * 0.5 / 1.0])


def test_adam_bias_correction_two_steps_by_hand():
    # lr 0.1, betas (0.5, 0.75), eps 0; gradients 1 then 3.
    # t=1: m=0.5, v=0.25; m_hat=1, v_hat=1; p = 1 - 0.1 = 0.9
    # t=2: m=0.25+1.5=1.75, v=0.1875+2.25=2.4375; m_hat=1.75/0.75, v_hat=2.4375/0.4375
    p = {"w": np.array([1.0])}
    opt = optim.Adam(p, lr=0.1, betas=(0.5, 0.75), eps=0.0)
    steps = run(opt, p, [{"w": np.array([1.0])}, {"w": np.array([3.0])}])
    np.testing.assert_allclose(steps[0]["w"], [0.9])
    want = 0.9 - 0.1 * (1.75 / 0.75) / math.sqrt(2.4375 / 0.4375)
    np.testing.assert_allclose(steps[1]["w"], [want], rtol=1e-14)
    assert opt.state["w"]["step"] == 2


@pytest.mark.parametrize("cls, wd, amsgrad", [(optim.Adam, 0.0, False), (optim.Adam, 0.1, False),
                                              (optim.AdamW, 0.1, False), (optim.Adam, 0.0, True),
                                              (optim.AdamW, 0.3, True)])
def test_adam_family_against_reference(cls, wd, amsgrad):
    grads = [0.5, -2.0, 0.1, 4.0]
    p = {"w": np.array([0.7])}
    opt = cls(p, lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=wd, amsgrad=amsgrad)
    steps = run(opt, p, [{"w": np.array([g])} for g in grads])
    want = adam_reference(0.7, grads, 0.01, 0.8, 0.9, 1e-6, wd,
                          decoupled=cls is optim.AdamW, amsgrad=amsgrad)
    np.testing.assert_allclose([s["w"][0] for s in steps], want, rtol=1e-13)


def test_adam_weight_decay_is_l2_and_adamw_is_decoupled():
    # A zero gradient: Adam's L2 term still makes a full-size Adam step (sign of p), while
    # AdamW only shrinks p by lr * wd.
    pa, pw = {"w": np.array([1.0])}, {"w": np.array([1.0])}
    optim.Adam(pa, lr=0.1, weight_decay=0.5).step({"w": np.zeros(1)})
    optim.AdamW(pw, lr=0.1, weight_decay=0.5).step({"w": np.zeros(1)})
    np.testing.assert_allclose(pa["w"], [0.9], rtol=1e-6)
    np.testing.assert_allclose(pw["w"], [0.95])
    assert optim.AdamW({"w": np.ones(1)}).weight_decay == 1e-2
    assert optim.Adam({"w": np.ones(1)}).weight_decay == 0.0


# ------------------------------------------------------------------ mechanics
def test_in_place_updates_reach_the_module_and_keep_float32():
    model = dn.nn.Linear(3, 2, rng=0)
    params = dict(model.named_parameters())
    w_before = model.weight.copy()
    for cls in (optim.SGD, optim.Adam, optim.AdamW):
        opt = cls(params, lr=0.01)
        opt.step({k: np.ones(v.shape) for k, v in params.items()})  # float64 grads
    assert model.weight is params["weight"]
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    assert np.all(model.weight < w_before)


def test_parameter_containers():
    a, b = np.ones(2), np.ones(3)
    opt = optim.SGD([a, {"x": b}], lr=0.5)
    opt.step([np.ones(2), {"x": np.full(3, 2.0)}])
    np.testing.assert_allclose(a, 0.5)
    np.testing.assert_allclose(b, 0.0)
    # model.parameters() (a generator) works as in PyTorch.
    model = dn.nn.Linear(2, 1, rng=0)
    opt = optim.SGD(model.parameters(), lr=1.0)
    bias = model.bias.copy()
    opt.step(iter([np.zeros((1, 2)), np.ones(1)]))
    np.testing.assert_allclose(model.bias, bias - 1)


def test_none_gradients_are_skipped():
    p = {"a": np.ones(2), "b": np.ones(2)}
    opt = optim.Adam(p, lr=0.1)
    opt.step({"a": np.ones(2), "b": None})
    np.testing.assert_array_equal(p["b"], 1.0)
    assert opt.state["b"] == {} and opt.state["a"]["step"] == 1
    opt.step({"a": None, "b": np.ones(2)})
    assert opt.state["b"]["step"] == 1 and opt.step_count == 2


def test_step_errors_change_nothing():
    p = {"a": np.ones(2), "b": np.ones(3)}
    opt = optim.SGD(p, lr=0.1)
    with pytest.raises(ShapeError, match=r"grads\['b'\].*\(2,\).*\(3,\)"):
        opt.step({"a": np.ones(2), "b": np.ones(2)})
    np.testing.assert_array_equal(p["a"], 1.0)
    assert opt.step_count == 0
    with pytest.raises(TreeMismatchError):
        opt.step({"a": np.ones(2)})
    with pytest.raises(TypeError, match="Dual"):
        opt.step({"a": dn.Dual(np.ones(2)), "b": np.ones(3)})


def test_bad_parameters():
    with pytest.raises(TypeError, match="'w'.*floating ndarray"):
        optim.SGD({"w": 1.0}, lr=0.1)
    with pytest.raises(TypeError, match="int64"):
        optim.SGD({"w": np.arange(3)}, lr=0.1)
    a = np.ones(2)
    with pytest.raises(ValueError, match="same array"):
        optim.SGD({"x": a, "y": a}, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD({}, lr=0.1)


@pytest.mark.parametrize("make, value", [
    (lambda p: optim.SGD(p, lr=0.0), "0.0"),
    (lambda p: optim.SGD(p, lr=-0.1), "-0.1"),
    (lambda p: optim.Adam(p, lr=-1e-3), "-0.001"),
    (lambda p: optim.SGD(p, lr=math.nan), "nan"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "-0.5"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1e-4), "-0.0001"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "momentum=0.0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "dampening=0.1"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "-0.1"),
    (lambda p: optim.Adam(p, betas=0.9), "0.9"),
    (lambda p: optim.Adam(p, eps=-1e-8), "-1e-08"),
    (lambda p: optim.Adam(p, weight_decay=-0.01), "-0.01"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), "-0.01"),
])
def test_hyperparameter_validation(make, value):
    with pytest.raises(ValueError) as e:
        make({"w": np.ones(2)})
    assert value in str(e.value)


def test_lr_can_be_changed_and_is_validated():
    p = {"w": np.zeros(1)}
    opt = optim.SGD(p, lr=0.1)
    opt.lr = 0.5
    opt.step({"w": np.ones(1)})
    np.testing.assert_allclose(p["w"], [-0.5])
    with pytest.raises(ValueError, match="-2"):
        opt.lr = -2
    assert "lr=0.5" in repr(opt) and "momentum=0.0" in repr(opt)


# ------------------------------------------------------------------ schedules
def test_schedule_values():
    s = optim.ExponentialDecay(0.1, k=0.01)
    for i in (0, 1, 10, 500):
        assert s(i) == pytest.approx(0.1 * math.exp(-0.01 * i), rel=1e-15)
    s = optim.StepDecay(2.0, step_size=3, gamma=0.5)
    assert [s(i) for i in range(8)] == [2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 0.5, 0.5]
    s = optim.CosineAnnealing(1.0, T_max=4, eta_min=0.2)
    want = [0.2 + 0.8 * (1 + math.cos(math.pi * i / 4)) / 2 for i in range(9)]
    np.testing.assert_allclose([s(i) for i in range(9)], want)
    assert s(0) == 1.0 and s(4) == pytest.approx(0.2) and s(2) == pytest.approx(0.6)
    assert s(8) == pytest.approx(1.0)  # periodic, like PyTorch's closed form
    with pytest.raises(ValueError, match="-1"):
        s(-1)


@pytest.mark.parametrize("make, value", [
    (lambda: optim.ExponentialDecay(0.0, 0.1), "0.0"),
    (lambda: optim.ExponentialDecay(0.1, -0.1), "-0.1"),
    (lambda: optim.StepDecay(0.1, 0), "0"),
    (lambda: optim.StepDecay(0.1, 2, gamma=-1.0), "-1.0"),
    (lambda: optim.CosineAnnealing(0.1, T_max=0), "0"),
    (lambda: optim.CosineAnnealing(0.1, T_max=10, eta_min=0.5), "0.5"),
])
def test_schedule_validation(make, value):
    with pytest.raises(ValueError) as e:
        make()
    assert value in str(e.value)


def test_optimizer_follows_its_schedule():
    sched = optim.ExponentialDecay(0.5, k=0.1)
    p = {"w": np.zeros(1)}
    opt = optim.SGD(p, lr=sched)
    w = 0.0
    for i in range(4):
        assert opt.current_lr == sched(i)
        opt.step({"w": np.ones(1)})
        w -= 0.5 * math.exp(-0.1 * i)
        np.testing.assert_allclose(p["w"], [w], rtol=1e-14)
    # Any callable works; negative values from it are refused at step time.
    opt = optim.SGD(p, lr=lambda i: 0.1 - 0.1 * i)
    opt.step({"w": np.ones(1)})
    opt.step({"w": np.ones(1)})  # lr 0 is allowed (end of a schedule)
    with pytest.raises(ValueError, match="-0.1"):
        opt.step({"w": np.ones(1)})


def test_adamw_decay_uses_the_scheduled_lr():
    sched = optim.StepDecay(0.1, step_size=1, gamma=0.5)
    p = {"w": np.array([1.0])}
    opt = optim.AdamW(p, lr=sched, weight_decay=1.0)
    opt.step({"w": np.zeros(1)})
    opt.step({"w": np.zeros(1)})
    np.testing.assert_allclose(p["w"], [(1 - 0.1) * (1 - 0.05)])


# ------------------------------------------------------------------ checkpoints
@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1),
    lambda p: optim.SGD(p, lr=optim.ExponentialDecay(0.1, 0.2), momentum=0.9, nesterov=True),
    lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1),
    lambda p: optim.AdamW(p, lr=optim.CosineAnnealing(0.01, 5), amsgrad=True),
])
def test_state_dict_round_trip_through_npz(make, tmp_path):
    rng = np.random.default_rng(0)
    grads = [{"0.weight": rng.standard_normal((3, 2)), "0.bias": rng.standard_normal(3)}
             for _ in range(5)]
    pa = {"0.weight": rng.standard_normal((3, 2)).astype(np.float32),
          "0.bias": rng.standard_normal(3).astype(np.float32)}
    a = make(pa)
    for g in grads[:3]:
        a.step(g)
    np.savez(tmp_path / "opt.npz", **a.state_dict())
    pb = {k: v.copy() for k, v in pa.items()}  # the model checkpoint saved alongside
    b = make(pb)
    with np.load(tmp_path / "opt.npz") as f:
        b.load_state_dict(f)
    assert b.step_count == 3
    sd_a, sd_b = a.state_dict(), b.state_dict()
    assert sorted(sd_a) == sorted(sd_b)
    for k in sd_a:
        np.testing.assert_array_equal(sd_a[k], sd_b[k])
    for g in grads[3:]:
        a.step(g)
        b.step(g)
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])


def test_state_dict_is_a_copy_and_plain_arrays():
    p = {"w": np.ones(2)}
    opt = optim.Adam(p, lr=0.1)
    opt.step({"w": np.ones(2)})
    sd = opt.state_dict()
    assert all(type(v) is np.ndarray for v in sd.values())
    assert sorted(sd) == ["exp_avg.w", "exp_avg_sq.w", "step.w", "step_count"]
    opt.step({"w": np.ones(2)})
    assert int(sd["step.w"]) == 1 and sd["exp_avg.w"][0] == pytest.approx(0.1)


def test_load_state_dict_errors():
    p = {"w": np.ones(2), "b": np.ones(1)}
    a = optim.Adam(p, lr=0.1)
    a.step({"w": np.ones(2), "b": np.ones(1)})
    sd = a.state_dict()
    b = optim.Adam({"w": np.ones(3), "b": np.ones(1)}, lr=0.1)
    with pytest.raises(ValueError, match=r"exp_avg\.w.*\(2,\).*\(3,\)"):
        b.load_state_dict(sd)
    assert b.step_count == 0 and b.state["b"] == {}  # nothing loaded
    with pytest.raises(ValueError, match="unexpected key 'exp_avg.w'"):
        optim.SGD(p, lr=0.1).load_state_dict(sd)
    partial = dict(sd)
    del partial["exp_avg_sq.b"]
    with pytest.raises(ValueError, match=r"'b' has state \['exp_avg', 'step'\]"):
        optim.Adam(p, lr=0.1).load_state_dict(partial)
    with pytest.raises(ValueError, match="step_count"):
        optim.Adam(p, lr=0.1).load_state_dict({})
    with pytest.raises(ValueError, match="max_exp_avg_sq"):
        optim.Adam(p, lr=0.1, amsgrad=True).load_state_dict(sd)


def test_training_a_model_with_adam_and_exact_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3))
    y = np.sin(x @ np.array([1.0, -2.0, 0.5]))[:, None]
    model = dn.nn.Sequential(dn.nn.Linear(3, 16, rng=1, dtype=np.float64), dn.nn.Tanh(),
                             dn.nn.Linear(16, 1, rng=2, dtype=np.float64))
    params = dict(model.named_parameters())
    loss = lambda p: np.mean((dn.nn.functional_call(model, p, x) - y) ** 2)
    opt = optim.Adam(params, lr=optim.CosineAnnealing(0.05, T_max=150))
    first = loss(params)
    for _ in range(150):
        opt.step(dn.grad(loss)(params))
    assert loss(params) < 0.1 * first
    np.testing.assert_allclose(model(x), dn.nn.functional_call(model, params, x))
