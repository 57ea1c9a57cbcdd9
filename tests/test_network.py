"""Network functions (dualnum/ops/network.py) beyond what the table-driven tests in
test_rules.py check: shapes, error messages, stability, conventions at kinks, and a
cross-check of every value and tangent against PyTorch (skipped without torch)."""
import math

import numpy as np
import pytest

import dualnum as dn
from dualnum.ops.network import erf, erfc


def _rng(seed=0):
    return np.random.default_rng(seed)


def _jvp(f, xs, ts):
    return dn.jvp(f, tuple(xs), tuple(ts))


# ------------------------------------------------------------------ shapes and types
@pytest.mark.parametrize("stride,padding,want", [
    (1, 0, (2, 4, 5, 3)), (2, 0, (2, 4, 3, 2)), (1, 1, (2, 4, 7, 5)),
    ((2, 1), (1, 0), (2, 4, 4, 3)), ((1, 2), (0, 2), (2, 4, 5, 4)),
])
def test_conv2d_shapes(stride, padding, want):
    x = _rng().standard_normal((2, 3, 7, 5))
    w = _rng(1).standard_normal((4, 3, 3, 3))
    b = _rng(2).standard_normal(4)
    y = dn.conv2d(x, w, b, stride=stride, padding=padding)
    assert type(y) is np.ndarray and y.shape == want
    d = dn.conv2d(dn.Dual(x, np.ones_like(x)), w, b, stride=stride, padding=padding)
    assert d.shape == want and d.tangent.shape == want


def test_conv2d_matches_direct_loops():
    rng = _rng(3)
    x, w, b = (rng.standard_normal(s) for s in ((2, 2, 5, 6), (3, 2, 2, 3), (3,)))
    sh, sw, ph, pw = 2, 1, 1, 2
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    ho, wo = (5 + 2 * ph - 2) // sh + 1, (6 + 2 * pw - 3) // sw + 1
    want = np.zeros((2, 3, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * sh:i * sh + 2, j * sw:j * sw + 3]
            want[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w) + b
    np.testing.assert_allclose(dn.conv2d(x, w, b, stride=(sh, sw), padding=(ph, pw)), want,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn", [dn.max_pool2d, dn.avg_pool2d])
@pytest.mark.parametrize("shape,k,s,want", [
    ((2, 3, 4, 4), 2, None, (2, 3, 2, 2)), ((3, 5, 5), 2, None, (3, 2, 2)),
    ((1, 1, 5, 7), (2, 3), (1, 2), (1, 1, 4, 3)), ((1, 2, 5, 5), 3, 1, (1, 2, 3, 3)),
])
def test_pool_shapes(fn, shape, k, s, want):
    x = _rng().standard_normal(shape)
    y = fn(x, k, s)
    assert type(y) is np.ndarray and y.shape == want
    assert fn(dn.Dual(x, np.ones_like(x)), k, stride=s).tangent.shape == want


def test_softmax_family_shapes():
    x = _rng().standard_normal((2, 3, 4))
    assert dn.softmax(x).shape == x.shape
    assert dn.log_softmax(x, axis=(0, 2)).shape == x.shape
    np.testing.assert_allclose(np.sum(dn.softmax(x, axis=1), axis=1), 1.0)
    np.testing.assert_allclose(np.sum(dn.softmax(x, axis=None)), 1.0)
    assert dn.logsumexp(x, axis=1).shape == (2, 4)
    assert dn.logsumexp(x, axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert dn.logsumexp(x).shape == ()


def test_plain_arrays_in_plain_arrays_out():
    rng = _rng()
    x = rng.standard_normal((2, 3, 4, 4))
    outs = [dn.relu(x), dn.leaky_relu(x), dn.elu(x), dn.gelu(x), dn.sigmoid(x),
            dn.softplus(x), dn.softmax(x), dn.log_softmax(x), dn.logsumexp(x, 1),
            dn.cross_entropy(x[0, 0], np.array([0, 1, 2, 3])), dn.mse(x, x + 1),
            dn.conv2d(x, rng.standard_normal((2, 3, 3, 3))), dn.max_pool2d(x, 2),
            dn.avg_pool2d(x, 2)]
    for y in outs:
        assert type(y) is np.ndarray
    assert dn.mse(x, x + 1).shape == () and float(dn.mse(x, x + 1)) == 1.0


@pytest.mark.parametrize("fn", [dn.relu, dn.leaky_relu, dn.elu, dn.gelu, dn.sigmoid,
                                dn.softplus, dn.softmax, dn.log_softmax, dn.logsumexp,
                                lambda x: dn.max_pool2d(x, 2), lambda x: dn.avg_pool2d(x, 2),
                                lambda x: dn.mse(x, np.zeros_like(x)),
                                lambda x: dn.conv2d(x, np.ones((2, 1, 2, 2), np.float32))])
def test_float32_stays_float32(fn):
    x = _rng().standard_normal((1, 1, 4, 4)).astype(np.float32)
    assert fn(x).dtype == np.float32
    d = fn(dn.Dual(x, np.ones_like(x)))
    assert d.primal.dtype == np.float32 and d.tangent.dtype == np.float32


# ------------------------------------------------------------------ error messages
def test_conv2d_errors():
    x, w = np.zeros((1, 3, 5, 5)), np.zeros((2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\), got shape \(3, 5, 5\)"):
        dn.conv2d(x[0], w)
    with pytest.raises(ValueError, match=r"weight must be 4-D .* got shape \(3, 3, 3\)"):
        dn.conv2d(x, w[0])
    with pytest.raises(ValueError, match=r"input shape \(1, 3, 5, 5\) has 3 channels but "
                                         r"weight shape \(2, 4, 3, 3\) expects 4"):
        dn.conv2d(x, np.zeros((2, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"bias shape \(3,\) does not match weight shape "
                                         r"\(2, 3, 3, 3\): expected \(2,\)"):
        dn.conv2d(x, w, np.zeros(3))
    with pytest.raises(ValueError, match=r"kernel size \(3, 3\) does not fit .*\(1, 3, 2, 5\)"):
        dn.conv2d(np.zeros((1, 3, 2, 5)), w)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        dn.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be an int or a pair"):
        dn.conv2d(x, w, padding=(1, 2, 3))
    # the same checks with Duals (the rule machinery passes them through unchanged)
    with pytest.raises(ValueError, match="has 3 channels"):
        dn.conv2d(dn.Dual(x, x), np.zeros((2, 4, 3, 3)))


@pytest.mark.parametrize("fn", [dn.max_pool2d, dn.avg_pool2d])
def test_pool_errors(fn):
    with pytest.raises(ValueError, match=r"kernel size \(3, 3\) does not fit .*\(1, 1, 2, 4\)"):
        fn(np.zeros((1, 1, 2, 4)), 3)
    with pytest.raises(ValueError, match=r"3-D \(C, H, W\) or 4-D .* got shape \(4, 4\)"):
        fn(np.zeros((4, 4)), 2)
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        fn(np.zeros((1, 4, 4)), 0)


def test_cross_entropy_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\) for logits shape "
                                         r"\(3, 4\), got \[-1, 4\]"):
        dn.cross_entropy(z, np.array([0, -1, 4]))
    with pytest.raises(ValueError, match=r"labels shape \(3, 1\) does not match logits shape "
                                         r"\(3, 4\): expected \(3,\)"):
        dn.cross_entropy(z, np.zeros((3, 1), int))
    with pytest.raises(ValueError, match=r"labels must be integer class indices, got dtype "
                                         r"float64"):
        dn.cross_entropy(z, np.zeros(3))
    with pytest.raises(ValueError, match=r"logits must be 2-D \(N, C\), got shape \(4,\)"):
        dn.cross_entropy(np.zeros(4), np.array(1))
    with pytest.raises(ValueError, match=r"got \[7\]"):
        dn.cross_entropy(dn.Dual(z, z), np.array([0, 7, 1]))


def test_mse_shape_mismatch():
    msg = r"pred shape \(3, 1\) and target shape \(3,\) differ; mse needs equal shapes"
    with pytest.raises(ValueError, match=msg):
        dn.mse(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=msg):
        dn.mse(dn.Dual(np.zeros((3, 1)), np.ones((3, 1))), np.zeros(3))


# ------------------------------------------------------------------ stability
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_stable_at_1e4(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]], dtype)
    labels = np.array([0, 0, 2])
    t = _rng().standard_normal(z.shape).astype(dtype)
    with np.errstate(all="raise", under="ignore"):
        y, ty = _jvp(lambda z: dn.cross_entropy(z, labels), (z,), (t,))
    # row 0: label is the max -> 0; row 1: 2e4 + log 2; row 2: three equal logits -> log 3
    want = (0.0 + (2e4 + math.log(2)) + math.log(3)) / 3
    assert y.dtype == dtype
    np.testing.assert_allclose(float(y), want, rtol=1e-6 if dtype == np.float32 else 1e-12)
    p = np.array([[1, 0, 0], [0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    want_t = np.mean(np.sum(p * t, 1) - t[np.arange(3), labels])
    np.testing.assert_allclose(float(ty), want_t, rtol=1e-5, atol=1e-6)


def test_softmax_family_stable():
    x = np.array([[1e4, 1e4 - 1.0, -1e4], [-np.inf, 0.0, -np.inf]])
    t = _rng().standard_normal(x.shape)
    with np.errstate(all="raise", under="ignore"):
        s = dn.softmax(dn.Dual(x, t))
        ls = dn.log_softmax(dn.Dual(x, t))
        lse = dn.logsumexp(dn.Dual(x, t), axis=1)
    e = 1 / (1 + math.exp(-1))
    np.testing.assert_allclose(s.primal, [[e, 1 - e, 0], [0, 1, 0]], atol=1e-15)
    np.testing.assert_allclose(ls.primal[0, :2], np.log([e, 1 - e]), rtol=1e-12)
    np.testing.assert_allclose(lse.primal, [1e4 + math.log1p(math.exp(-1)), 0.0], rtol=1e-15)
    assert np.all(np.isfinite(s.tangent)) and np.all(np.isfinite(lse.tangent))
    assert dn.softmax(np.array([1e3, 0.0], np.float32)).tolist() == [1.0, 0.0]


def test_activations_do_not_overflow():
    x = np.array([-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4])
    with np.errstate(all="raise", under="ignore"):
        for fn in (dn.relu, dn.leaky_relu, dn.elu, dn.gelu, dn.sigmoid, dn.softplus):
            d = fn(dn.Dual(x, np.ones_like(x)))
            assert np.all(np.isfinite(d.primal)) and np.all(np.isfinite(d.tangent)), fn
    np.testing.assert_allclose(dn.sigmoid(np.array([-800.0, 800.0])), [0.0, 1.0])
    np.testing.assert_allclose(dn.softplus(np.array([-800.0, 800.0])), [0.0, 800.0])
    np.testing.assert_allclose(dn.gelu(np.array([-40.0, 40.0])), [0.0, 40.0])


def test_erf_accuracy():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-12, 26, 2001),
                        -np.geomspace(1e-12, 26, 2001)])
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(erf(x), want, rtol=1e-15, atol=0)
    want_c = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc(x), want_c, rtol=2e-15, atol=0)
    np.testing.assert_array_equal(erf(np.array([np.inf, -np.inf])), [1.0, -1.0])
    assert np.isnan(erf(np.array(np.nan))) and np.isnan(erfc(np.array(np.nan)))
    assert erf(np.float32(0.5)).dtype == np.float32


def test_gelu_matches_definition():
    x = np.linspace(-10, 10, 2001)
    want = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x])
    # 1e-13, not 1e-15: the reference's own rounding of x / sqrt(2) grows like x^2
    np.testing.assert_allclose(dn.gelu(x), want, rtol=1e-13, atol=1e-300)


# ------------------------------------------------------------------ conventions at kinks
def test_derivatives_at_zero():
    x = dn.Dual(np.zeros(1), np.ones(1))
    assert dn.relu(x).tangent.tolist() == [0.0]
    assert dn.leaky_relu(x, 0.2).tangent.tolist() == [0.2]
    assert dn.elu(x, 1.5).tangent.tolist() == [1.5]


def test_max_pool2d_ties_take_the_first_maximum():
    x = np.ones((1, 1, 2, 2))
    t = np.arange(4.0).reshape(1, 1, 2, 2) + 1
    assert dn.max_pool2d(dn.Dual(x, t), 2).tangent.ravel().tolist() == [1.0]
    x = np.array([[[[0.0, 3.0], [3.0, 3.0]]]])
    assert dn.max_pool2d(dn.Dual(x, t), 2).tangent.ravel().tolist() == [2.0]


def test_parameters_are_differentiable():
    x = np.array([-2.0, 3.0])
    _, t = _jvp(lambda a: dn.leaky_relu(x, a), (np.array(0.1),), (np.array(1.0),))
    np.testing.assert_allclose(t, [-2.0, 0.0])
    _, t = _jvp(lambda a: dn.elu(x, a), (np.array(1.0),), (np.array(1.0),))
    np.testing.assert_allclose(t, [math.expm1(-2.0), 0.0])


# ------------------------------------------------------------------ batched tangents
def test_conv2d_batched_equals_singles():
    rng = _rng(5)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 6, 5), (4, 3, 3, 2), (4,)))
    k = 5
    tx, tw, tb = (rng.standard_normal((k,) + a.shape) for a in (x, w, b))
    f = lambda x, w, b: dn.conv2d(x, w, b, stride=(2, 1), padding=1)  # noqa: E731
    _, batched = dn.jvp(f, (x, w, b), (tx, tw, tb), batched=True)
    assert batched.shape == (k, 2, 4, 3, 6)
    for i in range(k):
        _, single = dn.jvp(f, (x, w, b), (tx[i], tw[i], tb[i]))
        np.testing.assert_allclose(batched[i], single, rtol=1e-12, atol=1e-12)
    dn.testing.check_jvp(f, (x, w, b))


def test_small_cnn_forward_gradient():
    rng = _rng(6)
    params = {"w": rng.standard_normal((2, 1, 3, 3)) * 0.5, "b": np.zeros(2),
              "v": rng.standard_normal((8, 3)) * 0.5}
    x = rng.standard_normal((4, 1, 6, 6))
    labels = np.array([0, 1, 2, 1])

    def loss(p):
        h = dn.max_pool2d(dn.gelu(dn.conv2d(x, p["w"], p["b"], padding=1)), 3)
        return dn.cross_entropy(np.reshape(h, (4, 8)) @ p["v"], labels)

    g = dn.grad(loss)(params)
    dn.testing.check_jvp(loss, (params,))
    value, fg = dn.forward_gradient(loss, params, rng=rng, n_directions=3)
    assert float(value) == pytest.approx(float(loss(params)))
    assert sorted(fg) == sorted(g) == ["b", "v", "w"]


# ------------------------------------------------------------------ PyTorch cross-check
def _torch_cases():
    rng = _rng(7)
    x = rng.standard_normal((2, 3, 5, 6))
    z = rng.standard_normal((4, 5)) * 3
    labels = np.array([0, 4, 2, 2])
    w, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    v = rng.standard_normal((3, 7)) * 4

    def F():
        import torch.nn.functional as F

        return F

    return [
        ("relu", dn.relu, lambda t: F().relu(t), (v,)),
        ("leaky_relu", lambda a: dn.leaky_relu(a, 0.1),
         lambda t: F().leaky_relu(t, 0.1), (v,)),
        ("elu", lambda a: dn.elu(a, 1.3), lambda t: F().elu(t, alpha=1.3), (v,)),
        ("gelu", dn.gelu, lambda t: F().gelu(t), (v,)),
        ("sigmoid", dn.sigmoid, lambda t: F().sigmoid(t), (v,)),
        ("softplus", dn.softplus, lambda t: F().softplus(t), (v,)),
        ("logsumexp", lambda a: dn.logsumexp(a, axis=1),
         lambda t: __import__("torch").logsumexp(t, dim=1), (z,)),
        ("softmax", lambda a: dn.softmax(a, axis=0), lambda t: F().softmax(t, dim=0), (z,)),
        ("log_softmax", dn.log_softmax, lambda t: F().log_softmax(t, dim=-1), (z,)),
        ("cross_entropy", lambda a: dn.cross_entropy(a, labels),
         lambda t: F().cross_entropy(t, __import__("torch").from_numpy(labels)), (z,)),
        ("mse", dn.mse, lambda p, q: F().mse_loss(p, q), (z, z[::-1].copy())),
        ("conv2d", lambda a, c, d: dn.conv2d(a, c, d, stride=(2, 1), padding=(1, 0)),
         lambda a, c, d: F().conv2d(a, c, d, stride=(2, 1), padding=(1, 0)), (x, w, b)),
        ("conv2d_nobias", lambda a, c: dn.conv2d(a, c, padding=1),
         lambda a, c: F().conv2d(a, c, padding=1), (x, w)),
        ("max_pool2d", lambda a: dn.max_pool2d(a, 2, 1),
         lambda t: F().max_pool2d(t, 2, 1), (x,)),
        ("max_pool2d_rect", lambda a: dn.max_pool2d(a, (2, 3), (2, 2)),
         lambda t: F().max_pool2d(t, (2, 3), (2, 2)), (x,)),
        ("avg_pool2d", lambda a: dn.avg_pool2d(a, (2, 3), (1, 2)),
         lambda t: F().avg_pool2d(t, (2, 3), (1, 2)), (x,)),
    ]


@pytest.mark.parametrize("case", _torch_cases(), ids=lambda c: c[0])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit, on import
def test_against_pytorch(case):
    torch = pytest.importorskip("torch")
    import torch.func

    name, f_dn, f_torch, xs = case
    ts = tuple(_rng(11).standard_normal(a.shape) for a in xs)
    y, t = dn.jvp(f_dn, xs, ts)
    ty, tt = torch.func.jvp(f_torch, tuple(torch.from_numpy(a) for a in xs),
                            tuple(torch.from_numpy(a) for a in ts))
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(t, tt.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    # plain arrays give the same value
    np.testing.assert_allclose(f_dn(*xs), ty.numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
