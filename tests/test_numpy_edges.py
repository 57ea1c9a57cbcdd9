"""NumPy at its edges: arrays built from Duals, reflected comparisons, foreign number
types, what f may return, and dtypes of gradients."""
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import dualnum as dn
from dualnum.ops import from_duals as arrays


class TestArraysFromDuals:
    def test_np_array_of_scalars_and_nested_lists(self):
        f1 = lambda x: np.array([x, x * 1.0, x + 2.5])  # noqa: E731
        y, t = dn.jvp(f1, (3.0,), (1.0,))
        np.testing.assert_array_equal(y, [3.0, 3.0, 5.5])
        np.testing.assert_array_equal(t, [1.0, 1.0, 1.0])
        f2 = lambda x: np.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]])  # noqa: E731
        np.testing.assert_allclose(dn.jacfwd(f2)(3.0), [[1, 1, 1], [6, 1, 0.5]])
        dn.testing.check_jvp(f2, (np.array(3.0),))

    def test_np_array_of_arrays_and_of_one_dual(self):
        A = np.random.default_rng(0).standard_normal((3, 2))
        dn.testing.check_jvp(lambda x: np.array([x, x]), (A,))
        dn.testing.check_jvp(lambda x: np.array([[2 * x, x + 1], [x, x]]), (A,))
        y = dn.jvp(lambda x: np.array(x), (A,), (np.ones((3, 2)),))
        np.testing.assert_array_equal(y[1], np.ones((3, 2)))
        y = dn.jvp(lambda x: np.array(x, dtype=np.float32, ndmin=3), (A,), (np.ones((3, 2)),))
        assert y[0].shape == (1, 3, 2) and y[1].dtype == np.float32
        with pytest.raises(dn.DTypeError, match="dtype=int64"):
            dn.jvp(lambda x: np.array([x, x], dtype=np.int64), (1.0,), (1.0,))

    def test_r_and_c(self):
        A = np.random.default_rng(1).standard_normal((3, 2))
        c = np.random.default_rng(2).standard_normal(10)
        for f, x in [(lambda x: np.r_[x], A), (lambda x: np.r_[x, x], A),
                     (lambda x: np.r_[x, A], A), (lambda x: np.r_[x, A, x], A),
                     (lambda x: np.r_[x, c, 1:10], c), (lambda x: np.c_[x, A, x], A)]:
            dn.testing.check_jvp(f, (x,))

    def test_reductions_of_lists_of_duals(self):
        def f(x):
            xs = [x[0], x[1], x[2] * 2]
            return (np.mean(xs) + np.std(xs) + np.var(xs, ddof=1) + np.linalg.norm(xs)
                    + np.sum(xs) * np.prod(xs) + np.max(xs) + np.dot(xs, xs))

        dn.testing.check_jvp(f, (np.array([0.5, -1.0, 2.0]),))

    def test_asarray_still_refuses_and_numpy_is_unchanged_for_plain_data(self):
        with pytest.raises(dn.ConversionError):
            np.asarray([dn.Dual(1.0, 1.0)])
        assert np.array([1, 2]).dtype.kind == "i" and np.mean([1.0, 3.0]) == 2.0
        assert np.r_[1:3, 5].tolist() == [1, 2, 5]
        assert np.array.__wrapped__ is arrays._originals[("numpy", "array")]


class TestComparisons:
    def test_reflected_comparisons(self):
        d = dn.Dual(np.array([1.0]), np.array([1.0]))
        assert (np.array([1.5]) < d).tolist() == [False]
        assert (np.float64(1.5) < d).tolist() == [False]
        assert (np.array([1.5]) >= d).tolist() == [True]
        assert np.less(d, 2).tolist() == [True]
        assert np.logical_and(d > 0, d < 2).tolist() == [True]
        assert np.equal(d, 1.0).tolist() == [True]


class TestForeignNumbers:
    @pytest.mark.parametrize("num", [Fraction(1, 2), Decimal("0.5")])
    def test_fraction_and_decimal_are_floats(self, num):
        d = dn.Dual(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
        for y in (d * num, num * d, d + num, d / num):
            assert isinstance(y, dn.Dual) and y.dtype == np.float64
        np.testing.assert_allclose((num * d).tangent, [0.5, 0.5])
        np.testing.assert_allclose((d ** Fraction(1, 2)).tangent, 0.5 / np.sqrt([1.0, 2.0]))

    def test_complex_is_refused_with_the_op_named(self):
        d = dn.Dual(np.array(1.0), np.array(1.0))
        with pytest.raises(dn.DTypeError, match="multiply.*complex"):
            d * 1j
        with pytest.raises(dn.DTypeError, match="complex"):
            np.add(d, np.array([1 + 1j]))


class TestWhatFMayReturn:
    @pytest.mark.parametrize("out,what", [(None, "None"), ("abc", "str"), ({1, 2}, "set"),
                                          ((i for i in range(2)), "generator")])
    def test_jvp_refuses_non_numbers(self, out, what):
        with pytest.raises(TypeError, match=what):
            dn.jvp(lambda x: out, (1.0,), (1.0,))

    def test_grad_of_a_boolean_function_raises(self):
        with pytest.raises(TypeError, match="boolean"):
            dn.grad(lambda x: np.sum(x) > 0)(np.ones(2))
        with pytest.raises(TypeError, match="int64"):
            dn.grad(lambda x: np.argmax(x))(np.ones(2))

    def test_gradient_dtype_follows_the_input(self):
        g = dn.grad(lambda x: np.sum(x.astype("float64") ** 2))(np.ones(2, np.float32))
        assert g.dtype == np.float32
        gs = dn.grad(lambda p: np.sum(p["a"].astype(np.float64) * p["b"]))(
            {"a": np.ones(2, np.float32), "b": np.ones(2)})
        assert gs["a"].dtype == np.float32 and gs["b"].dtype == np.float64
