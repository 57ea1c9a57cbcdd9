"""Nested transforms: perturbation levels, Hessians and HVPs, user rules, and no tangent
ever dropped silently."""
import math
import operator
import threading

import numpy as np
import pytest

import dualnum as dn
from dualnum.core import levels

rng = np.random.default_rng(0)


# ---------------------------------------------------------------- perturbation confusion
class TestNoConfusion:
    def test_jvp_inside_jvp(self):
        # d/dx [d/dy (x y)] = d/dx x = 1, at x = 3: (3, 1), not (5, 0)
        out = dn.jvp(lambda x: dn.jvp(lambda y: x * y, (2.0,), (1.0,))[1], (3.0,), (1.0,))
        assert (float(out[0]), float(out[1])) == (3.0, 1.0)

    def test_siskind_pearlmutter(self):
        # d/dx [x · d/dy (x + y)] = d/dx x = 1; confusing the perturbations gives 2
        d = dn.derivative(lambda x: x * dn.derivative(lambda y: x + y)(0.0))(1.0)
        assert float(d) == 1.0

    def test_derivative_of_derivative(self):
        assert float(dn.derivative(dn.derivative(np.sin))(1.0)) == pytest.approx(-np.sin(1.0))
        for k, want in [(1, 4 * 8), (2, 12 * 4), (3, 24 * 2), (4, 24), (5, 0)]:
            assert float(dn.derivative(lambda x: x ** 4, order=k)(2.0)) == pytest.approx(want)

    def test_grad_inside_grad_with_closure(self):
        # f(x) = sum(x * grad(g)(x)) with g(y) = sum(x * y**2): grad g = 2 x y, so
        # f = sum(2 x³) and grad f = 6 x²; confusing the levels would add extra terms
        x0 = np.array([0.5, -1.0, 2.0])
        f = lambda x: np.sum(x * dn.grad(lambda y: np.sum(x * y ** 2))(x))  # noqa: E731
        np.testing.assert_allclose(dn.grad(f)(x0), 6 * x0 ** 2)

    def test_hand_built_duals_are_levels_of_their_own(self):
        # a hand-rolled derivative operator nests like the transforms do
        def D(f):
            return lambda x: f(dn.Dual(x, 1.0)).tangent

        assert float(D(lambda x: x * D(lambda y: x + y)(0.0))(1.0)) == 1.0
        x = dn.Dual(3.0, 1.0)
        y = dn.Dual(2.0, 0.0, level=x.level)  # the same perturbation, on purpose
        assert float((x * y).tangent) == 2.0

    def test_hyper_dual_by_hand(self):
        h = dn.Dual(dn.Dual(2.0, 1.0), 1.0)
        y = h ** 3
        assert float(y.tangent.tangent) == 12.0 and float(y.primal.primal) == 8.0

    def test_constants_add_no_level(self):
        c, x = dn.Dual(5.0), dn.Dual(3.0, 1.0)
        assert repr(c * x) == "Dual(15., tangent=5.)"

    def test_jacfwd_of_jacfwd_is_the_second_derivative(self):
        f = lambda x: np.sin(x) * x ** 2  # noqa: E731
        x = np.array([0.3, -1.2])
        h = dn.jacfwd(dn.jacfwd(f))(x)
        want = np.zeros((2, 2, 2))
        d2 = -np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x)
        want[[0, 1], [0, 1], [0, 1]] = d2
        np.testing.assert_allclose(h, want, rtol=1e-12)

    def test_batched_at_both_levels(self):
        f = lambda x: np.tanh(x) * np.sum(x ** 2)  # noqa: E731
        x = rng.standard_normal(3)
        U, V = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
        inner = lambda x: dn.jvp(f, (x,), (U,), batched=True)[1]  # noqa: E731
        _, both = dn.jvp(inner, (x,), (V,), batched=True)  # (5, 4, 3)
        for i in range(5):
            for j in range(4):
                single = dn.jvp(lambda x: dn.jvp(f, (x,), (U[j],))[1], (x,), (V[i],))[1]
                np.testing.assert_allclose(both[i, j], single, rtol=1e-12, atol=1e-14)

    def test_outer_dual_as_a_primal_of_an_inner_transform(self):
        # jvp's primals may be Duals of an enclosing transform
        g = dn.grad(lambda a: dn.jvp(lambda x: np.sum(a * x ** 3), (a,), (np.ones(2),))[1])
        a = np.array([1.0, 2.0])
        # d/da [ sum(3 a^2 * a) ] along ones = 9 a^2
        np.testing.assert_allclose(g(a), 9 * a ** 2)


# ---------------------------------------------------------------- the level stack
class TestLevels:
    def test_stack_is_restored_after_an_exception(self):
        def boom(x):
            assert levels.current() is not None
            raise RuntimeError("inside f")

        assert levels.current() is None
        with pytest.raises(RuntimeError):
            dn.grad(lambda x: dn.jvp(boom, (x,), (1.0,))[1])(1.0)
        assert levels.current() is None and levels.stack() == ()

    def test_levels_nest_in_order(self):
        seen = []

        def f(x):
            seen.append(levels.stack())
            return x

        dn.jvp(lambda x: dn.jvp(f, (x,), (1.0,))[1], (1.0,), (1.0,))
        outer, inner = seen[0]
        assert outer.name == "jvp" and inner.order > outer.order and not inner.active

    def test_threads_keep_their_own_stacks(self):
        results, errors = {}, []

        def work(i):
            try:
                for _ in range(30):
                    a = float(i + 1)
                    d = dn.derivative(lambda x: x * dn.derivative(lambda y: a * x * y)(0.0))
                    results[i] = float(d(2.0))  # d/dx (a x²) = 2 a x
                    assert levels.current() is None
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert results == {i: 4.0 * (i + 1) for i in range(4)}

    def test_leaked_dual_is_an_error(self):
        kept = []

        def f(x):
            kept.append(x)
            return x * 2

        dn.jvp(f, (1.0,), (1.0,))
        with pytest.raises(dn.LeakedDualError, match="jvp that has already returned"):
            kept[0] * 3.0
        with pytest.raises(dn.LeakedDualError):
            dn.jvp(lambda y: y * kept[0], (1.0,), (1.0,))

    def test_level_must_be_below(self):
        x = dn.Dual(1.0, 1.0)
        with pytest.raises(ValueError, match="lower levels"):
            dn.Dual(x, level=x.level)


# ---------------------------------------------------------------- Hessians and HVPs
def _compositions():
    """(name, f(x, xp)) pairs: random-looking compositions of the table's ops, written
    once for NumPy (on Duals) and for torch."""
    A = np.random.default_rng(1).standard_normal((5, 5)) / 2
    X = np.random.default_rng(2).standard_normal((7, 5))
    labels = np.array([0, 2, 1, 2, 0, 1, 1])
    W = np.random.default_rng(3).standard_normal((5, 3))

    def T(xp, a):
        return a if xp is np else xp.tensor(a)

    def ce(xp, z):
        if xp is np:
            return dn.cross_entropy(z, labels)
        import torch.nn.functional as F

        return F.cross_entropy(z, xp.tensor(labels))

    def lse(xp, v):
        return dn.logsumexp(v) if xp is np else xp.logsumexp(v, 0)

    def sig(xp, v):
        return dn.sigmoid(v) if xp is np else xp.sigmoid(v)

    def softplus(xp, v):
        if xp is np:
            return dn.softplus(v)
        import torch.nn.functional as F

        return F.softplus(v)

    def norm(xp, v):
        return np.linalg.norm(v) if xp is np else xp.linalg.norm(v)

    def mm(xp, a, b):
        return a @ b

    fs = [
        ("sum sin*cos", lambda x, xp: xp.sum(xp.sin(x) * xp.cos(2 * x))),
        ("tanh(A x) . x", lambda x, xp: xp.sum(xp.tanh(mm(xp, T(xp, A), x)) * x)),
        ("exp of quadratic", lambda x, xp: xp.exp(-xp.sum(x * mm(xp, T(xp, A), x)) / 10)),
        ("logsumexp", lambda x, xp: lse(xp, x * x - x)),
        ("cross_entropy(tanh(X @ w))",
         lambda x, xp: ce(xp, xp.tanh(mm(xp, T(xp, X), x)[:, None] * T(xp, W[0]) + x[:3]))),
        ("cross_entropy(X W)", lambda x, xp: ce(xp, mm(xp, T(xp, X) * x, T(xp, W)))),
        ("prod", lambda x, xp: xp.prod(1 + x ** 2 / 4)),
        ("norm", lambda x, xp: norm(xp, x + 3.0) ** 3),
        ("sigmoid softplus", lambda x, xp: xp.sum(sig(xp, x) * softplus(xp, -x))),
        ("mean var", lambda x, xp: xp.mean(x ** 3) + xp.var(x) if xp is np
         else xp.mean(x ** 3) + xp.var(x, unbiased=False)),
        ("rational", lambda x, xp: xp.sum(x / (1 + x ** 2)) * xp.sum(xp.arctan(x))),
        ("sqrt log", lambda x, xp: xp.sum(xp.sqrt(x ** 2 + 1) * xp.log(2 + xp.cos(x)))),
    ]
    return fs


COMPOSITIONS = _compositions()


@pytest.mark.parametrize("name,f", COMPOSITIONS, ids=[n for n, _ in COMPOSITIONS])
def test_hessian_against_finite_differences_of_grad(name, f):
    x = np.random.default_rng(4).standard_normal(5)
    H = dn.hessian(lambda v: f(v, np))(x)
    g = dn.grad(lambda v: f(v, np))
    eps = 1e-6
    fd = np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(5).standard_normal(5)
    val, (hv,) = dn.hvp(lambda v: f(v, np), (x,), (v,))
    np.testing.assert_allclose(hv, H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(val, f(x, np), rtol=1e-14)


@pytest.mark.parametrize("name,f", COMPOSITIONS, ids=[n for n, _ in COMPOSITIONS])
def test_hessian_and_hvp_against_torch(name, f):
    torch = pytest.importorskip("torch")
    from torch.autograd.functional import hvp
    from torch.func import hessian

    x = np.random.default_rng(6).standard_normal(5)
    H = dn.hessian(lambda v: f(v, np))(x)
    Ht = hessian(lambda v: f(v, torch))(torch.tensor(x)).numpy()
    np.testing.assert_allclose(H, Ht, rtol=1e-9, atol=1e-11)
    v = np.random.default_rng(7).standard_normal(5)
    _, (hv,) = dn.hvp(lambda v: f(v, np), (x,), (v,))
    _, hvt = hvp(lambda v: f(v, torch), torch.tensor(x), torch.tensor(v))
    np.testing.assert_allclose(hv, hvt.numpy(), rtol=1e-9, atol=1e-11)


def test_hessian_shapes_and_pytrees():
    x = np.arange(6.0).reshape(2, 3) / 10
    H = dn.hessian(lambda x: np.sum(x ** 3))(x)
    assert H.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(H.reshape(6, 6), np.diag(6 * x.ravel()))
    Ha = dn.hessian(lambda a, b: np.sum(a * b ** 2), argnums=1)(x, x)
    np.testing.assert_allclose(Ha.reshape(6, 6), np.diag(2 * x.ravel()))
    # chunked at both levels (7 inputs, chunks of 3)
    y = np.linspace(-1, 1, 7)
    f = lambda v: np.sum(np.sin(v) * np.roll(v, 1))  # noqa: E731
    np.testing.assert_allclose(dn.hessian(f, chunk_size=3)(y), dn.hessian(f)(y), rtol=1e-13)


def test_hessian_needs_a_scalar():
    with pytest.raises(dn.ShapeError, match="scalar"):
        dn.hessian(lambda x: x ** 2)(np.ones(2))


def test_hvp_of_several_arguments():
    f = lambda a, b: np.sum(a ** 2 * b)  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    va, vb = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    val, (ha, hb) = dn.hvp(f, (a, b), (va, vb))
    # H = [[2 diag(b), 2 diag(a)], [2 diag(a), 0]]
    np.testing.assert_allclose(ha, 2 * b * va + 2 * a * vb)
    np.testing.assert_allclose(hb, 2 * a * va)
    assert float(val) == 3 + 16


# ---------------------------------------------------------------- no silent drops
class TestNoSilentDrops:
    x = dn.Dual(np.array(2.0), np.array(1.0))

    @pytest.mark.parametrize("convert", [float, int, complex, math.exp, math.sqrt,
                                         np.float64, np.float32, operator.index, round],
                             ids=["float", "int", "complex", "math.exp", "math.sqrt",
                                  "np.float64", "np.float32", "index", "round"])
    def test_conversions_raise_and_name_primal(self, convert):
        with pytest.raises(dn.ConversionError, match=r"\.primal"):
            convert(self.x)
        assert issubclass(dn.ConversionError, TypeError)

    def test_asarray_item_and_tolist_raise(self):
        for f in (np.asarray, np.ascontiguousarray, lambda d: d.item(), lambda d: d.tolist()):
            with pytest.raises(dn.ConversionError, match=r"\.primal"):
                f(self.x)

    def test_assignment_into_a_plain_array_raises(self):
        x = dn.Dual(np.arange(3.0), np.ones(3))
        out = np.zeros(3)
        # NumPy reports a failed element assignment as a ValueError caused by ours
        with pytest.raises((dn.ConversionError, ValueError)) as e:
            out[1] = x[1] ** 2
        assert isinstance(e.value, dn.ConversionError) or \
            isinstance(e.value.__cause__, dn.ConversionError)
        with pytest.raises(dn.ConversionError):
            out[:] = x

    def test_grad_through_slot_assignment_raises_instead_of_zeros(self):
        def f(x):
            out = np.zeros(3)
            for i in range(3):
                out[i] = x[i] ** 2
            return np.sum(out)

        with pytest.raises((dn.ConversionError, ValueError)):
            dn.grad(f)(np.ones(3))
        rng_ = np.random.default_rng(0)
        with pytest.raises((dn.ConversionError, ValueError)):
            dn.forward_gradient(f, np.ones(3), rng=rng_)

    def test_printing_and_comparing_keep_working(self):
        loss = self.x * 3
        assert repr(loss) == "Dual(6., tangent=3.)" and str(loss) == repr(loss)
        assert f"{loss:.2f}" == "6.00"
        assert (loss < 10) and not (loss > 10) and loss == 6.0
        assert type(loss < 10) is np.bool_
        assert 10 > loss and np.float64(10.0) > loss.primal

    def test_complex_operands_raise(self):
        with pytest.raises(dn.DTypeError, match="complex"):
            self.x * 1j
        with pytest.raises(dn.DTypeError, match="complex"):
            dn.grad(lambda x: x * (1 + 0.2j))(1.0)


# ---------------------------------------------------------------- user rules
class TestCustomRules:
    def test_defjvp_with_partials_runs_on_duals_and_nests(self):
        def log1pexp(x):
            return np.logaddexp(0.0, x)

        f = dn.defjvp(log1pexp, "exp(x - y)", domain=(dn.testing.Interval(-6, 6),))
        assert f(np.array(0.0)) == pytest.approx(np.log(2))
        x = np.array([-3.0, 0.0, 800.0])
        np.testing.assert_allclose(dn.grad(lambda v: np.sum(f(v)))(x), 1 / (1 + np.exp(-x)))
        # second derivative sigmoid' = s (1 - s)
        s = 1 / (1 + np.exp(-0.3))
        assert float(dn.derivative(f, order=2)(0.3)) == pytest.approx(s * (1 - s))
        dn.testing.check_rule(f, max_examples=15)

    def test_defjvp_with_functions(self):
        def tanh_product(x, w):
            return np.tanh(x * w)

        f = dn.defjvp(tanh_product, lambda g, y, x, w: (1 - y * y) * w * g,
                      lambda g, y, x, w: (1 - y * y) * x * g,
                      domain=lambda s: s.intervals_call((dn.testing.Interval(),) * 2,
                                                        same_shape=True))
        dn.testing.check_rule(f, max_examples=15)
        rule = dn.testing.rules.resolve(f)
        assert rule.kind == "custom" and rule in dn.rules_table()
        assert rule.rule_text == ""  # lambdas carry no docstring to show

    def test_re_registering_replaces(self):
        def sq(x):
            return x * x

        a = dn.defjvp(sq, "3 * x")  # wrong on purpose
        b = dn.defjvp(sq, "2 * x")
        assert float(dn.derivative(b)(1.5)) == 3.0
        names = [r.name for r in dn.rules_table()]
        assert names.count("test_nesting.sq") == 1 and a is not b

    def test_wrong_rule_is_caught_by_check_rule(self):
        def cube(x):
            return x ** 3

        bad = dn.defjvp(cube, "2 * x * x", name="cube_wrong")
        with pytest.raises(AssertionError, match="finite difference"):
            dn.testing.check_rule(bad, max_examples=10, second_order=False)

    def test_custom_jvp(self):
        calls = []

        @dn.custom_jvp
        def f(x):
            return np.log1p(np.exp(x))

        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            calls.append(1)
            return np.logaddexp(0.0, x), t * dn.sigmoid(x)

        assert f(1.0) == pytest.approx(np.log1p(np.e))  # the body runs plainly
        assert float(dn.derivative(f)(1000.0)) == 1.0
        assert float(dn.derivative(f, order=2)(0.0)) == pytest.approx(0.25)
        _, t = dn.jvp(f, (np.array([0.0, 1.0]),), (np.eye(2),), batched=True)
        s = dn.sigmoid(np.array([0.0, 1.0]))
        np.testing.assert_allclose(t, np.diag(s))
        H = dn.hessian(lambda v: np.sum(f(v)))(np.array([0.0, 1.0]))
        np.testing.assert_allclose(H, np.diag(s * (1 - s)))
        assert calls

    def test_custom_jvp_checked_like_a_builtin(self):
        @dn.custom_jvp(domain=(dn.testing.Interval(-3, 3, avoid=(0.0,)),))
        def softsign(x):
            return x / (1 + np.abs(x))

        @softsign.defjvp
        def _(primals, tangents):
            (x,), (t,) = primals, tangents
            return softsign(x), t / (1 + np.abs(x)) ** 2

        dn.testing.check_rule(softsign, max_examples=15)

    def test_custom_jvp_without_rule_says_so(self):
        @dn.custom_jvp
        def g(x):
            return x

        assert g(2.0) == 2.0
        with pytest.raises(TypeError, match="without a rule"):
            dn.derivative(g)(1.0)


# ---------------------------------------------------------------- trace shows levels
def test_trace_shows_each_entry_level():
    t = dn.trace(lambda x: x * dn.derivative(lambda y: x * y)(2.0), 3.0)
    names = {e.level.name for e in t.entries}
    assert {"trace", "derivative"} <= names
    text = str(t)
    assert "level" in text.splitlines()[1] and "(derivative)" in text
    assert float(t.tangent_out) == 6.0  # d/dx x·x


def test_nested_arrays_large_enough_for_the_kernels():
    # Arrays of at least FUSE_MIN elements take the fused kernels at each level; a
    # Dual among an op's primals (a lower level) must not reach a kernel.
    from dualnum.kernels import FUSE_MIN

    n = 4 * FUSE_MIN
    x = np.linspace(-1.5, 1.5, n)
    v = np.cos(np.arange(n))
    f = lambda x: np.sum(np.tanh(x) * x * x + 1.0 / (2.0 + x))  # noqa: E731
    _, (hv,) = dn.hvp(f, (x,), (v,))
    t = np.tanh(x)
    d2 = (-2 * t * (1 - t * t)) * x * x + 4 * x * (1 - t * t) + 2 * t + 2 / (2 + x) ** 3
    np.testing.assert_allclose(hv, d2 * v, rtol=1e-10, atol=1e-12)
    # unbatched at both levels: tanh's kernel (value by NumPy) meets a Dual value
    _, d2v = dn.jvp(lambda x: dn.jvp(np.tanh, (x,), (v,))[1], (x,), (v,))
    np.testing.assert_allclose(d2v, -2 * t * (1 - t * t) * v * v, rtol=1e-10, atol=1e-12)
    a = dn.Dual(np.ones(n), np.ones(n))
    b = dn.Dual(2 * np.ones(n), np.ones(n))  # another level
    np.testing.assert_array_equal((a * b).tangent.tangent, np.ones(n))
    np.testing.assert_array_equal((a + b).primal.primal, 3 * np.ones(n))
    y = np.arctan2(a, b)  # a kernel that takes NumPy's value, meeting a Dual value
    # the mixed second derivative of atan2(a, b): (a² - b²) / (a² + b²)² at (1, 2)
    np.testing.assert_allclose(y.tangent.tangent, np.full(n, -3 / 25), rtol=1e-12)
