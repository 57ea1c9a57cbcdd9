"""dualnum.nn: layers, Module bookkeeping, state dicts, functional_call, and derivatives
through whole models."""
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum.testing import check_jvp

nn = dn.nn
F64 = np.float64


def mlp(dtype=F64, act=None, seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(5, 8, rng=rng, dtype=dtype), act or nn.Tanh(),
                         nn.Linear(8, 3, rng=rng, dtype=dtype))


def cnn(dtype=F64, seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(2, 4, kernel_size=3, padding=1, rng=rng, dtype=dtype), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 3, kernel_size=(2, 3), stride=1, rng=rng, dtype=dtype), nn.GELU(),
        nn.AvgPool2d(kernel_size=2, stride=1),
        nn.Flatten(), nn.Linear(3 * 2 * 2, 4, rng=rng, dtype=dtype), nn.Sigmoid())


# ------------------------------------------------------------------ shapes
def test_linear_shapes_and_dtype():
    layer = nn.Linear(4, 3, rng=0)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer(np.ones((2, 4), np.float32)).shape == (2, 3)
    assert layer(np.ones((6, 2, 4), np.float32)).shape == (6, 2, 3)  # extra leading axes
    assert layer(np.ones(4, np.float32)).shape == (3,)
    assert layer(np.ones((2, 4), np.float32)).dtype == np.float32
    assert nn.Linear(4, 3, bias=False).bias is None
    assert nn.Linear(4, 3, dtype=F64).weight.dtype == F64


def test_linear_matches_formula():
    layer = nn.Linear(4, 3, rng=0, dtype=F64)
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(layer(x), x @ layer.weight.T + layer.bias)


def test_conv_and_pool_shapes():
    conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, rng=0)
    assert conv.weight.shape == (8, 3, 3, 3) and conv.bias.shape == (8,)
    assert conv.kernel_size == (3, 3) and conv.stride == (2, 2) and conv.padding == (1, 1)
    x = np.zeros((2, 3, 9, 9), np.float32)
    assert conv(x).shape == (2, 8, 5, 5)
    assert nn.Conv2d(3, 8, (3, 1), rng=0).weight.shape == (8, 3, 3, 1)
    assert nn.Conv2d(3, 8, 3, bias=False).bias is None
    assert nn.MaxPool2d(3)(x).shape == (2, 3, 3, 3)
    assert nn.MaxPool2d(3, stride=2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(2)(x).shape == (2, 3, 4, 4)
    assert cnn()(np.zeros((2, 2, 8, 10))).shape == (2, 4)


def test_conv_matches_direct_sum():
    conv = nn.Conv2d(2, 3, kernel_size=(2, 3), rng=0, dtype=F64)
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 5))
    out = conv(x)
    want = np.empty((1, 3, 3, 3))
    for o in range(3):
        for i in range(3):
            for j in range(3):
                want[0, o, i, j] = np.sum(x[0, :, i:i + 2, j:j + 3] * conv.weight[o]) + conv.bias[o]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


def test_flatten_and_activations():
    x = np.linspace(-2, 2, 24).reshape(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0)(x).shape == (24,)
    assert nn.Flatten(1, -2)(x).shape == (2, 3, 4)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    with pytest.raises(ValueError, match="start_dim=3"):
        nn.Flatten(3)(x)
    np.testing.assert_allclose(nn.ReLU()(x), np.maximum(x, 0))
    np.testing.assert_allclose(nn.Tanh()(x), np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(x), 1 / (1 + np.exp(-x)))
    from math import erf
    want = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / math.sqrt(2))))(x)
    np.testing.assert_allclose(nn.GELU()(x), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_layer_sizes(bad):
    with pytest.raises(ValueError, match=repr(bad)):
        nn.Linear(bad, 3)
    with pytest.raises(ValueError):
        nn.Conv2d(3, 2, kernel_size=bad)


def test_bad_dtype():
    with pytest.raises(TypeError, match="int64"):
        nn.Linear(2, 2, dtype=np.int64)


# ------------------------------------------------------------------ initialisation
@pytest.mark.parametrize("make, fan_in", [
    (lambda rng: nn.Linear(256, 200, rng=rng), 256),
    (lambda rng: nn.Conv2d(16, 64, kernel_size=3, rng=rng), 16 * 9),
    (lambda rng: nn.Conv2d(4, 32, kernel_size=(5, 2), rng=rng), 4 * 10),
])
def test_default_init_is_pytorchs(make, fan_in):
    # kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same.
    layer = make(np.random.default_rng(0))
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight, layer.bias
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # fills the interval, not a narrower one
    assert abs(w.mean()) < 0.02 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # std of U(-a, a) is a/sqrt(3)
    assert np.abs(b).max() <= bound
    assert np.abs(b).max() > 0.8 * bound
    assert len(np.unique(b)) == b.size


def test_init_determinism():
    a = nn.Linear(5, 4, rng=np.random.default_rng(7))
    b = nn.Linear(5, 4, rng=np.random.default_rng(7))
    c = nn.Linear(5, 4, rng=7)
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(a.weight, c.weight)
    np.testing.assert_array_equal(a.bias, c.bias)
    # The default generator: fixed for a seed, and successive layers differ.
    nn.manual_seed(3)
    d1, d2 = nn.Linear(5, 4), nn.Linear(5, 4)
    nn.manual_seed(3)
    e1 = nn.Linear(5, 4)
    np.testing.assert_array_equal(d1.weight, e1.weight)
    assert not np.array_equal(d1.weight, d2.weight)
    with pytest.raises(TypeError, match="Generator"):
        nn.Linear(2, 2, rng="seed")


def test_init_module():
    w = np.empty((64, 32))
    nn.init.kaiming_uniform_(w, nonlinearity="relu", rng=0)
    bound = math.sqrt(2) * math.sqrt(3 / 32)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert nn.init.calculate_fan_in_and_fan_out(np.empty((8, 3, 5, 5))) == (75, 200)
    with pytest.raises(ValueError, match="at least 2"):
        nn.init.calculate_fan_in_and_fan_out(np.empty(3))
    with pytest.raises(ValueError, match="fan_sideways"):
        nn.init.kaiming_normal_(w, mode="fan_sideways")


# ------------------------------------------------------------------ Module bookkeeping
def test_named_parameters_and_modules():
    net = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(),
                        nn.Sequential(nn.Linear(4, 4, bias=False, rng=1), nn.Tanh()),
                        nn.Linear(4, 1, rng=2))
    names = [k for k, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.0.weight", "3.weight", "3.bias"]
    assert sum(p.size for p in net.parameters()) == 12 + 4 + 16 + 4 + 1
    assert net.named_parameters().__next__()[1] is net[0].weight  # the module's own arrays
    assert [k for k, _ in net.named_modules()] == ["", "0", "1", "2", "2.0", "2.1", "3"]
    assert len(net) == 4 and isinstance(net[-1], nn.Linear)
    assert [type(m).__name__ for m in net[1:3]] == ["ReLU", "Sequential"]
    with pytest.raises(IndexError, match="out of range"):
        net[9]


def test_tied_parameters_listed_once():
    shared = nn.Linear(3, 3, rng=0)
    net = nn.Sequential(shared, nn.Tanh(), shared)
    assert [k for k, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert sorted(net.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]


def test_custom_module_and_attribute_rules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(2, 2, rng=0)
            self.register_parameter("scale", np.ones(2))
            self.register_parameter("shift", None)

        def forward(self, x):
            return self.body(x) * self.scale

    net = Net()
    # A module's own parameters come before its submodules' (as in PyTorch).
    assert [k for k, _ in net.named_parameters()] == ["scale", "body.weight", "body.bias"]
    net.scale = np.full(2, 2.0)  # rebinding a parameter keeps it registered
    assert dict(net.named_parameters())["scale"][0] == 2.0
    with pytest.raises(TypeError, match="'scale'"):
        net.scale = np.array([1, 2])  # ints cannot carry derivatives
    with pytest.raises(TypeError, match="scale"):
        net.scale = [1.0, 2.0]
    with pytest.raises(AttributeError, match="nope"):
        net.nope
    with pytest.raises(KeyError, match="body"):
        net.register_parameter("body", np.ones(1))
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.ReLU(), np.tanh)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1.0)


def test_train_eval_flags():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="'yes'"):
        net.train("yes")


def test_repr():
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Dropout(0.25), nn.Linear(8, 2, bias=False))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): ReLU()\n"
        "  (2): MaxPool2d(kernel_size=2, stride=2)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Dropout(p=0.25)\n"
        "  (5): Linear(in_features=8, out_features=2, bias=False)\n"
        ")")


# ------------------------------------------------------------------ state dicts
def test_state_dict_round_trip(tmp_path):
    a, b = mlp(np.float32, seed=0), mlp(np.float32, seed=1)
    sd = a.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(sd[k] is not p and np.array_equal(sd[k], p) for k, p in a.named_parameters())
    before = [id(p) for p in b.parameters()]
    np.savez(tmp_path / "ckpt.npz", **sd)
    with np.load(tmp_path / "ckpt.npz") as f:
        result = b.load_state_dict(f)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert [id(p) for p in b.parameters()] == before  # loaded in place
    for (k, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p, q)
        assert q.dtype == np.float32
    x = np.ones((2, 5), np.float32)
    np.testing.assert_array_equal(a(x), b(x))
    # A state dict is a snapshot: later in-place changes to the model do not reach it.
    a[0].weight += 1
    assert not np.array_equal(sd["0.weight"], a[0].weight)


def test_load_state_dict_shape_mismatch_names_both_shapes():
    a, b = mlp(), nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    keep = b[0].weight.copy()
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(a.state_dict())
    msg = str(e.value)
    assert "size mismatch for 0.weight" in msg and "(8, 5)" in msg and "(7, 5)" in msg
    assert "size mismatch for 2.weight" in msg and "(3, 8)" in msg and "(3, 7)" in msg
    np.testing.assert_array_equal(b[0].weight, keep)  # nothing copied


def test_load_state_dict_missing_and_unexpected():
    a = mlp()
    sd = a.state_dict()
    del sd["2.bias"]
    sd["2.gamma"] = np.ones(3)
    sd["9.weight"] = np.ones(3)
    b = mlp(seed=1)
    keep = b[0].weight.copy()
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(sd)
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "2.gamma", "9.weight"' in msg
    np.testing.assert_array_equal(b[0].weight, keep)
    missing, unexpected = b.load_state_dict(sd, strict=False)
    assert missing == ["2.bias"] and unexpected == ["2.gamma", "9.weight"]
    np.testing.assert_array_equal(b[0].weight, a[0].weight)
    # Shapes are checked even when not strict.
    sd["0.bias"] = np.ones(2)
    with pytest.raises(RuntimeError, match=r"0\.bias.*\(2,\).*\(8,\)"):
        b.load_state_dict(sd, strict=False)


# ------------------------------------------------------------------ functional_call
def test_functional_call_matches_module_and_does_not_mutate():
    model = mlp()
    x = np.random.default_rng(1).standard_normal((4, 5))
    params = dict(model.named_parameters())
    snapshot = {k: v.copy() for k, v in params.items()}
    np.testing.assert_array_equal(nn.functional_call(model, params, x), model(x))
    other = {k: v + 0.5 for k, v in params.items()}
    out = nn.functional_call(model, other, x)
    for k, v in model.named_parameters():  # the module is untouched
        np.testing.assert_array_equal(v, snapshot[k])
        assert v is params[k]
    ref = mlp()
    ref.load_state_dict(other)
    np.testing.assert_allclose(out, ref(x))
    np.testing.assert_array_equal(model(x), nn.functional_call(model, snapshot, x))


def test_functional_call_with_duals_leaves_module_alone():
    model = mlp()
    x = np.ones((2, 5))
    params = dict(model.named_parameters())
    tangents = {k: np.ones_like(v) for k, v in params.items()}
    out, t = dn.jvp(lambda p: nn.functional_call(model, p, x), (params,), (tangents,))
    assert all(isinstance(p, np.ndarray) for p in model.parameters())
    assert not isinstance(model(x), dn.Dual)
    np.testing.assert_array_equal(out, model(x))


def test_functional_call_errors_and_partial_params():
    model = mlp()
    x = np.ones((2, 5))
    params = dict(model.named_parameters())
    with pytest.raises(ValueError, match="0.wieght"):
        nn.functional_call(model, {"0.wieght": params["0.weight"]}, x)
    from dualnum.core.errors import ShapeError
    with pytest.raises(ShapeError, match=r"'2\.bias'.*\(4,\).*\(3,\)"):
        nn.functional_call(model, {"2.bias": np.zeros(4)}, x)
    with pytest.raises(TypeError, match="dict"):
        nn.functional_call(model, list(params.values()), x)
    partial = {"2.bias": params["2.bias"] + 1.0}
    np.testing.assert_allclose(nn.functional_call(model, partial, x), model(x) + 1.0)
    with pytest.raises(ValueError, match="missing"):
        nn.functional_call(model, partial, x, strict=True)
    # Only the last layer's bias is differentiated; the rest are constants.
    _, t = dn.jvp(lambda p: nn.functional_call(model, p, x), (partial,),
                  ({"2.bias": np.ones(3)},))
    np.testing.assert_allclose(t, np.ones((2, 3)))


def test_functional_call_tied_weights():
    shared = nn.Linear(3, 3, rng=0, dtype=F64)
    net = nn.Sequential(shared, nn.Tanh(), shared)
    x = np.ones((1, 3))
    new = {k: v * 2 for k, v in net.named_parameters()}
    out = nn.functional_call(net, new, x)
    w, b = new["0.weight"], new["0.bias"]
    np.testing.assert_allclose(out, np.tanh(x @ w.T + b) @ w.T + b)
    with pytest.raises(ValueError, match="tied"):
        nn.functional_call(net, {"0.bias": b, "2.bias": b.copy()}, x)


def test_functional_call_is_local_to_the_call():
    import threading

    model = mlp()
    x = np.ones((1, 5))
    own = model(x)
    zeros = {"body." + k: np.zeros_like(v) for k, v in model.named_parameters()}
    seen = {}

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = model

        def forward(self, x):
            t = threading.Thread(target=lambda: seen.update(thread=model(x)))
            t.start()
            t.join()
            # A nested call overrides one more parameter and keeps the outer ones.
            seen["nested"] = nn.functional_call(model, {"2.bias": np.ones(3)}, x)
            return self.body(x)

    out = nn.functional_call(Probe(), zeros, x)
    np.testing.assert_array_equal(out, np.zeros((1, 3)))
    np.testing.assert_array_equal(seen["nested"], np.ones((1, 3)))
    np.testing.assert_array_equal(seen["thread"], own)  # other threads see the module's own
    np.testing.assert_array_equal(model(x), own)


# ------------------------------------------------------------------ derivatives through models
def _loss(model, y):
    return lambda p, x: dn.cross_entropy(nn.functional_call(model, p, x), y)


@pytest.mark.parametrize("act", [nn.Tanh(), nn.ReLU(), nn.GELU(), nn.Sigmoid()],
                         ids=lambda m: type(m).__name__)
def test_check_jvp_through_mlp(act):
    model = mlp(F64, act)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5))
    params = dict(model.named_parameters())
    check_jvp(lambda p, x: nn.functional_call(model, p, x), (params, x))
    y = rng.integers(0, 3, size=6)
    check_jvp(_loss(model, y), (params, x))


def test_check_jvp_through_cnn():
    model = cnn(F64)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 8, 10))
    params = dict(model.named_parameters())
    check_jvp(lambda p, x: nn.functional_call(model, p, x), (params, x))
    check_jvp(lambda p: dn.mse(nn.functional_call(model, p, x), np.zeros((2, 4))), (params,))


def test_grad_and_batched_jvp_through_model_agree():
    model = mlp(F64, nn.GELU())
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((4, 5)), rng.integers(0, 3, size=4)
    params = dict(model.named_parameters())
    loss = lambda p: dn.cross_entropy(nn.functional_call(model, p, x), y)
    g = dn.grad(loss)(params)
    assert sorted(g) == sorted(params)
    # ∇f·v from a batched jvp equals <grad, v> for each direction.
    k = 3
    vs = {name: rng.standard_normal((k,) + p.shape) for name, p in params.items()}
    _, d = dn.jvp(loss, (params,), (vs,), batched=True)
    want = sum(np.tensordot(vs[n], g[n], axes=g[n].ndim) for n in params)
    np.testing.assert_allclose(d, want, rtol=1e-10)
    value, fg = dn.forward_gradient(loss, params, rng=np.random.default_rng(0), n_directions=2)
    np.testing.assert_allclose(value, loss(params))
    assert {k: v.shape for k, v in fg.items()} == {k: v.shape for k, v in params.items()}


def test_float32_model_forward_gradient_stays_float32():
    model = cnn(np.float32)
    x = np.random.default_rng(0).standard_normal((2, 2, 8, 10)).astype(np.float32)
    y = np.array([0, 3])
    params = dict(model.named_parameters())
    value, g = dn.forward_gradient(lambda p: dn.cross_entropy(nn.functional_call(model, p, x), y),
                                   params, rng=np.random.default_rng(0), n_directions=4)
    assert all(v.dtype == np.float32 for v in g.values())
    assert np.isfinite(value)


@pytest.mark.parametrize("distribution, dtype", [("outer", np.float32), ("normal", F64)])
def test_sequential_fuses_conv_and_relu_without_changing_results(monkeypatch, distribution,
                                                                 dtype):
    """A Conv2d followed by a ReLU (and a MaxPool2d) runs as one dn.conv2d_relu (im2col
    for the first layer, Winograd with 16 channels, padding 1 and 0); the output and the
    forward gradient (K = 2, rank-one directions included) are the unfused ones bit for
    bit."""
    from dualnum.nn import layers

    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=rng, dtype=dtype), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, rng=rng, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, rng=rng, dtype=dtype), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 2 * 2, 3, rng=rng, dtype=dtype))
    x = rng.standard_normal((4, 1, 8, 8)).astype(dtype)
    y = np.array([0, 1, 2, 1])
    params = dict(model.named_parameters())
    calls = []
    real = layers.conv2d_relu
    monkeypatch.setattr(layers, "conv2d_relu",
                        lambda *a, **k: calls.append(k["pool"]) or real(*a, **k))

    def run():
        out = model(x)
        loss = lambda p: dn.cross_entropy(nn.functional_call(model, p, x), y)  # noqa: E731
        return out, dn.forward_gradient(loss, params, rng=np.random.default_rng(1),
                                        distribution=distribution, n_directions=2)

    (out, (value, g)) = run()
    assert calls == [None, 2, None] * 2  # the max-pool fused into the second layer
    monkeypatch.setattr(nn.Conv2d, "_fuse", lambda self, following: None)
    (out0, (value0, g0)) = run()
    assert len(calls) == 6
    np.testing.assert_array_equal(out, out0)
    assert value == value0
    for k in g0:
        np.testing.assert_array_equal(np.asarray(g[k]), np.asarray(g0[k]))


# ------------------------------------------------------------------ dropout
def test_dropout_is_deterministic_for_a_seed():
    x = np.ones((50, 40))
    a = nn.Dropout(0.3, rng=np.random.default_rng(5))
    b = nn.Dropout(0.3, rng=np.random.default_rng(5))
    ya, yb = a(x), b(x)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a(x), ya)  # a new mask per call
    assert set(np.unique(ya)) == {0.0, 1 / 0.7}
    assert abs((ya == 0).mean() - 0.3) < 0.03
    assert abs(ya.mean() - 1.0) < 0.05  # inverted dropout keeps the expectation
    nn.manual_seed(11)
    c = nn.Dropout(0.3)
    nn.manual_seed(11)
    d = nn.Dropout(0.3)
    np.testing.assert_array_equal(c(x), d(x))


def test_dropout_eval_identity_and_edge_cases():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    drop = nn.Dropout(0.5, rng=0).eval()
    assert drop(x) is x
    d = dn.Dual(x, np.ones_like(x))
    assert drop(d) is d
    drop.train()
    assert drop(x).dtype == np.float32
    assert nn.Dropout(0.0, rng=0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0, rng=0)(x), np.zeros_like(x))
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match=repr(bad).replace(".", r"\.")):
            nn.Dropout(bad)
    net = nn.Sequential(nn.Linear(4, 4, rng=0), nn.Dropout(0.5, rng=1)).eval()
    np.testing.assert_array_equal(net(x), net[0](x))


def test_dropout_applies_one_mask_to_primal_and_tangents():
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.random.default_rng(1).standard_normal((5, 3, 4))
    y = nn.Dropout(0.5, rng=3)(dn.Dual(x, t, batched=True))
    mask = nn.Dropout(0.5, rng=3)(np.ones((3, 4)))
    np.testing.assert_array_equal(y.primal, x * mask)
    np.testing.assert_array_equal(y.tangent, t * mask)

    model = nn.Sequential(nn.Linear(4, 6, rng=0, dtype=F64), nn.Tanh(), nn.Dropout(0.5),
                          nn.Linear(6, 2, rng=1, dtype=F64))

    def f(p, x):
        model[2].rng = np.random.default_rng(9)  # the same mask on every evaluation
        return nn.functional_call(model, p, x)

    check_jvp(f, (dict(model.named_parameters()), x))
