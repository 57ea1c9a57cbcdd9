"""jvp, jacfwd, grad, derivative and forward_gradient: results, pytrees and errors."""
import numpy as np
import pytest

import dualnum as dn
from dualnum import BatchMismatchError, ShapeError, TreeMismatchError


def f_tree(p, x):
    return {"out": np.tanh(x @ p["w"] + p["b"]), "sq": [np.sum(p["w"] ** 2)]}


@pytest.fixture
def tree():
    rng = np.random.default_rng(1)
    p = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    x = rng.standard_normal((4, 3))
    return p, x


class TestJvp:
    def test_pytrees_against_finite_differences(self, tree):
        p, x = tree
        dn.testing.check_jvp(f_tree, (p, x))

    def test_none_tangent_leaf_is_symbolic_zero(self, tree):
        p, x = tree
        t = {"w": np.ones((3, 2)), "b": None}
        _, a = dn.jvp(f_tree, (p, x), (t, None))
        _, b = dn.jvp(f_tree, (p, x), ({"w": np.ones((3, 2)), "b": np.zeros(2)}, np.zeros((4, 3))))
        np.testing.assert_allclose(a["out"], b["out"])

    def test_batched_matches_singles(self, tree):
        p, x = tree
        rng = np.random.default_rng(2)
        tb = {"w": rng.standard_normal((5, 3, 2)), "b": rng.standard_normal((5, 2))}
        _, jb = dn.jvp(f_tree, (p, x), (tb, None), batched=True)
        for k in range(5):
            _, j = dn.jvp(f_tree, (p, x), ({"w": tb["w"][k], "b": tb["b"][k]}, None))
            np.testing.assert_allclose(jb["out"][k], j["out"], rtol=1e-12)
            np.testing.assert_allclose(jb["sq"][0][k], j["sq"][0], rtol=1e-12)

    def test_constant_output_gets_zero_tangent(self):
        y, t = dn.jvp(lambda x: np.ones(3), (np.ones(2),), (np.ones(2),))
        np.testing.assert_array_equal(t, np.zeros(3))

    def test_structure_mismatch_names_the_path(self, tree):
        p, x = tree
        with pytest.raises(TreeMismatchError, match=r"\[0\].*keys"):
            dn.jvp(f_tree, (p, x), ({"w": np.ones((3, 2))}, None))
        with pytest.raises(TreeMismatchError, match="2 primals but 1 tangents"):
            dn.jvp(f_tree, (p, x), (p,))

    def test_tangent_shape_names_the_path(self, tree):
        p, x = tree
        with pytest.raises(ShapeError, match=r"tangents\[0\]\['b'\] has shape \(3,\).*\(2,\)"):
            dn.jvp(f_tree, (p, x), ({"w": np.ones((3, 2)), "b": np.ones(3)}, None))

    def test_batched_k_must_agree(self, tree):
        p, x = tree
        with pytest.raises(BatchMismatchError, match=r"K.*\['b'\]"):
            dn.jvp(f_tree, (p, x), ({"w": np.ones((2, 3, 2)), "b": np.ones((3, 2))}, None),
                   batched=True)

    def test_primals_must_be_a_tuple(self):
        with pytest.raises(TypeError, match="tuple"):
            dn.jvp(np.sin, np.ones(2), (np.ones(2),))

    def test_bad_dtype(self):
        with pytest.raises(TypeError, match="complex128"):
            dn.jvp(np.sin, (np.ones(2, complex),), (np.ones(2),))
        with pytest.raises(TypeError, match="object"):
            dn.jvp(np.sin, (np.ones(2),), (np.array([None, None]),))


class TestJacobians:
    def test_jacfwd_matches_analytic_for_all_chunk_sizes(self):
        a = np.random.default_rng(0).standard_normal((4, 5))
        x = np.linspace(-1, 1, 5)
        want = a * (1 - np.tanh(x) ** 2)
        for c in (None, 1, 2, 5, 7):
            np.testing.assert_allclose(dn.jacfwd(lambda v: a @ np.tanh(v), chunk_size=c)(x), want)

    def test_jacfwd_shapes_and_argnums(self):
        f = lambda a, b: a[:, None] * b  # noqa: E731
        a, b = np.ones(2), np.ones((2, 3))
        ja, jb = dn.jacfwd(f, argnums=(0, 1))(a, b)
        assert ja.shape == (2, 3, 2) and jb.shape == (2, 3, 2, 3)
        np.testing.assert_allclose(dn.jacfwd(f, argnums=1)(a, b), jb)

    def test_grad_pytree_and_chunks(self, tree):
        p, x = tree
        loss = lambda p: np.sum(f_tree(p, x)["out"] ** 2)  # noqa: E731
        g1 = dn.grad(loss)(p)
        g2 = dn.grad(loss, chunk_size=3)(p)
        assert set(g1) == {"w", "b"} and g1["w"].shape == (3, 2)
        for k in g1:
            np.testing.assert_allclose(g1[k], g2[k], rtol=1e-12)
        eps = 1e-6
        e = np.zeros((3, 2)); e[1, 0] = eps
        fd = (loss({"w": p["w"] + e, "b": p["b"]}) - loss({"w": p["w"] - e, "b": p["b"]})) / (2 * eps)
        np.testing.assert_allclose(g1["w"][1, 0], fd, rtol=1e-6)

    def test_grad_needs_scalar_output(self):
        with pytest.raises(ShapeError, match=r"scalar.*\(3,\)"):
            dn.grad(np.sin)(np.ones(3))

    def test_bad_chunk_size_and_argnums(self):
        with pytest.raises(ValueError, match="chunk_size"):
            dn.jacfwd(np.sin, chunk_size=0)(np.ones(3))
        with pytest.raises(ValueError, match="argnums"):
            dn.grad(np.sum, argnums=2)(np.ones(3))

    def test_derivative(self):
        assert float(dn.derivative(lambda x: x ** 3)(2.0)) == pytest.approx(12.0)
        with pytest.raises(ShapeError, match="scalar"):
            dn.derivative(np.sin)(np.ones(2))


class TestForwardGradient:
    def test_shapes_and_validation(self):
        p = {"w": np.ones((2, 2), np.float32)}
        f = lambda p: np.sum(p["w"] ** 2)  # noqa: E731
        v, g = dn.forward_gradient(f, p, rng=np.random.default_rng(0), n_directions=3)
        assert g["w"].shape == (2, 2) and g["w"].dtype == np.float32 and float(v) == 4.0
        with pytest.raises(TypeError, match="Generator"):
            dn.forward_gradient(f, p, rng=0)
        with pytest.raises(ValueError, match="n_directions"):
            dn.forward_gradient(f, p, rng=np.random.default_rng(0), n_directions=0)
        with pytest.raises(ValueError, match="distribution"):
            dn.forward_gradient(f, p, rng=np.random.default_rng(0), distribution="cauchy")
        with pytest.raises(ShapeError, match="scalar"):
            dn.forward_gradient(lambda p: p["w"], p, rng=np.random.default_rng(0))

    def test_same_seed_same_estimate(self):
        p = {"w": np.linspace(-1, 1, 7)}
        f = lambda p: np.sum(np.sin(p["w"]))  # noqa: E731
        a = dn.forward_gradient(f, p, rng=np.random.default_rng(5), n_directions=4)[1]["w"]
        b = dn.forward_gradient(f, p, rng=np.random.default_rng(5), n_directions=4)[1]["w"]
        np.testing.assert_array_equal(a, b)


class TestCheckJvp:
    def test_catches_a_wrong_derivative_and_names_the_element(self):
        def wrong(x):  # value x**2, but a tangent of 3x instead of 2x at index 1
            if isinstance(x, dn.Dual):
                t = x.tangent * 2 * x.primal
                t[1] *= 1.5
                return dn.Dual(x.primal ** 2, t, level=x.level)
            return x ** 2

        with pytest.raises(AssertionError, match=r"out\[1\].*forward mode.*finite difference"):
            dn.testing.check_jvp(wrong, (np.array([1.0, 2.0, 3.0]),), (np.ones(3),))

    def test_passes_a_right_one(self):
        dn.testing.check_jvp(lambda x: np.exp(np.sin(x)), (np.linspace(0, 1, 4),))


def test_namedtuple_pytrees_round_trip():
    from collections import namedtuple

    P = namedtuple("P", "w b")
    p = P(np.ones(2), np.zeros(2))
    y, t = dn.jvp(lambda p: P(p.w * 2, p.b + p.w), (p,), (P(np.ones(2), np.ones(2)),))
    assert isinstance(y, P) and isinstance(t, P)
    np.testing.assert_array_equal(t.b, [2.0, 2.0])
