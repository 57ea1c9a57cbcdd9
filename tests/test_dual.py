"""The Dual tensor: construction, dtypes, operators, methods, dispatch and its errors."""
import operator

import numpy as np
import pytest

import dualnum as dn
from dualnum import BatchMismatchError, DTypeError, ShapeError


def d(p, t=None, **kw):
    return dn.Dual(np.asarray(p, dtype=kw.pop("dtype", None)), t, **kw)


class TestConstruction:
    def test_dtypes(self):
        assert dn.Dual(np.ones(2, np.float32)).dtype == np.float32
        assert dn.Dual(np.ones(2)).dtype == np.float64
        assert dn.Dual(np.arange(3)).dtype == np.float64
        assert dn.Dual(np.array([True, False])).dtype == np.float64
        assert dn.Dual(3).shape == ()

    @pytest.mark.parametrize("bad", [np.array([1 + 2j]), np.array(["a"]), np.array([None], object)])
    def test_bad_dtypes_name_the_dtype(self, bad):
        with pytest.raises(DTypeError, match=str(bad.dtype)):
            dn.Dual(bad)

    def test_tangent_shape_mismatch_names_both_shapes(self):
        with pytest.raises(ShapeError, match=r"tangent shape \(2, 3\).*primal shape \(3, 2\)"):
            dn.Dual(np.zeros((3, 2)), np.zeros((2, 3)))
        with pytest.raises(ValueError):  # ShapeError is a ValueError
            dn.Dual(np.zeros(3), np.zeros(4))

    def test_batched_tangent_needs_leading_axis(self):
        x = dn.Dual(np.zeros(3), np.zeros((5, 3)), batched=True)
        assert x.batch_size == 5 and x.tangent.shape == (5, 3)
        with pytest.raises(ShapeError, match=r"\(K,\) \+ primal shape"):
            dn.Dual(np.zeros(3), np.zeros((5, 4)), batched=True)

    def test_symbolic_zero(self):
        x = dn.Dual(np.ones(3))
        assert x.is_symbolic_zero
        np.testing.assert_array_equal(x.tangent, np.zeros(3))
        y = np.sin(x) * 2 + x
        assert y.is_symbolic_zero  # no tangent arithmetic was done

    def test_tangent_cast_to_primal_dtype(self):
        x = dn.Dual(np.ones(2, np.float32), np.ones(2))
        assert x.tangent.dtype == np.float32


class TestOperators:
    @pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                    operator.pow])
    @pytest.mark.parametrize("other", [2.5, np.array([1.5, 2.0, 3.0]), np.array(2.0)])
    def test_both_orders_match_numpy(self, op, other):
        p, t = np.array([0.5, 1.0, 2.0]), np.array([1.0, -1.0, 0.5])
        x = dn.Dual(p, t)
        for args, pargs in (((x, other), (p, other)), ((other, x), (other, p))):
            y = op(*args)
            assert isinstance(y, dn.Dual)
            np.testing.assert_allclose(y.primal, op(*pargs))
            dn.testing.check_jvp(lambda v: op(*[v if a is x else a for a in args]), (p,), (t,))

    def test_broadcasting_both_ways(self):
        a = dn.Dual(np.ones((2, 1)), np.ones((2, 1)))
        b = dn.Dual(np.arange(3.0), np.ones(3))
        for y in (a * b, b * a, a + np.ones(3), np.ones(3) + a):
            assert y.shape == (2, 3) and y.tangent.shape == (2, 3)

    def test_operands_that_do_not_broadcast(self):
        with pytest.raises(ShapeError, match=r"\(3,\).*\(4,\)"):
            dn.Dual(np.ones(3), np.ones(3)) + np.ones(4)

    def test_float32_end_to_end(self):
        x = dn.Dual(np.ones(300, np.float32), np.ones(300, np.float32))
        y = np.tanh(x * 2.0 + 1) ** 2 / 3.0 - np.exp(-x)
        z = (y @ np.ones(300, np.float32)).sum()
        assert y.dtype == y.tangent.dtype == np.float32
        assert z.dtype == z.tangent.dtype == np.float32

    def test_unary_and_matmul(self):
        x = dn.Dual(np.array([-1.0, 2.0]), np.array([1.0, 1.0]))
        np.testing.assert_array_equal((-x).tangent, [-1, -1])
        np.testing.assert_array_equal(abs(x).tangent, [-1, 1])
        np.testing.assert_array_equal((+x).tangent, [1, 1])
        m = np.array([[1.0, 2.0], [3.0, 4.0]])
        np.testing.assert_allclose((m @ x).tangent, m @ [1, 1])
        np.testing.assert_allclose((x @ m).tangent, np.array([1, 1]) @ m)

    def test_comparisons_are_plain_booleans(self):
        x = dn.Dual(np.array([1.0, 2.0]), np.ones(2))
        for r in (x < 1.5, x <= x, x > np.array([0, 3]), x >= 2, x == 2, x != x):
            assert type(r) is np.ndarray and r.dtype == bool
        with pytest.raises(TypeError, match="ambiguous"):
            bool(x)


class TestMethods:
    def setup_method(self):
        self.p = np.arange(6.0).reshape(2, 3)
        self.x = dn.Dual(self.p, np.ones((2, 3)))

    def test_shape_facts(self):
        x = self.x
        assert (x.shape, x.ndim, x.size, len(x), x.dtype) == ((2, 3), 2, 6, 2, np.float64)
        assert x.T.shape == (3, 2) and x.reshape(3, 2).shape == (3, 2)
        assert x.reshape((6,)).shape == (6,) and x.transpose(1, 0).shape == (3, 2)
        assert float(x[1, 2].primal) == 5.0

    def test_reductions(self):
        x = self.x
        np.testing.assert_allclose(x.sum(axis=0).tangent, [2, 2, 2])
        np.testing.assert_allclose(x.mean().tangent, 1)
        np.testing.assert_allclose(x.max(axis=1).primal, [2, 5])
        np.testing.assert_allclose(x.min(axis=1, keepdims=True).tangent, [[1], [1]])

    def test_indexing(self):
        x = self.x
        assert x[0].shape == (3,) and x[:, [0, 2]].shape == (2, 2)
        assert x[x.primal > 2].shape == (3,) and x[..., None].shape == (2, 3, 1)

    def test_item_assignment_is_functional(self):
        x = dn.Dual(self.x.primal, self.x.tangent)
        keep = x.primal
        x[0, 1:] = dn.Dual(np.array([7.0, 8.0]), np.array([2.0, 3.0]), level=x.level)
        np.testing.assert_array_equal(x.primal, [[0, 7, 8], [3, 4, 5]])
        np.testing.assert_array_equal(x.tangent, [[1, 2, 3], [1, 1, 1]])
        x[x.primal > 4] = 0.0  # a plain value carries a zero tangent
        np.testing.assert_array_equal(x.tangent, [[1, 0, 0], [1, 1, 0]])
        np.testing.assert_array_equal(keep, [[0, 1, 2], [3, 4, 5]])  # no buffer written

    def test_conversion_to_ndarray_refuses(self):
        with pytest.raises(TypeError, match="drop its tangent"):
            np.asarray(self.x)


class TestDispatchErrors:
    def setup_method(self):
        self.x = dn.Dual(np.ones(3), np.ones(3))

    def test_unsupported_function_is_named(self):
        with pytest.raises(TypeError, match="numpy.fft.fft"):
            np.fft.fft(self.x)
        with pytest.raises(TypeError, match="numpy.sort_complex"):
            np.sort_complex(self.x)

    def test_non_differentiable_ufunc_is_named(self):
        with pytest.raises(TypeError, match="numpy.bitwise_and"):
            np.bitwise_and(self.x, self.x)

    def test_out_is_refused(self):
        with pytest.raises(TypeError, match="out="):
            np.sin(self.x, out=np.empty(3))
        with pytest.raises(TypeError, match="out="):
            np.sum(self.x, out=np.empty(()))

    def test_ufunc_methods_refused(self):
        with pytest.raises(TypeError, match="add.reduce"):
            np.add.reduce(self.x)

    def test_batch_mismatch(self):
        # Duals of one perturbation (one level) must agree on their batch of directions.
        a = dn.Dual(np.ones(3), np.ones((2, 3)), batched=True)
        b = dn.Dual(np.ones(3), np.ones((4, 3)), batched=True, level=a.level)
        with pytest.raises(BatchMismatchError, match="K=2.*K=4"):
            a + b
        with pytest.raises(BatchMismatchError, match="unbatched"):
            a * dn.Dual(np.ones(3), np.ones(3), level=a.level)

    def test_query_functions_pass_through(self):
        assert np.shape(self.x) == (3,) and np.ndim(self.x) == 1
        assert np.argmax(dn.Dual(np.array([1.0, 3.0, 2.0]))) == 1
        np.testing.assert_array_equal(np.isfinite(self.x), [True] * 3)

    def test_where_with_condition_only_refuses(self):
        with pytest.raises(TypeError, match="indices"):
            np.where(self.x)


def test_repr_says_symbolic_and_batched():
    assert "symbolic zero" in repr(dn.Dual(np.ones(2)))
    assert "K=3" in repr(dn.Dual(np.ones(2), np.ones((3, 2)), batched=True))
    assert "float32" in repr(dn.Dual(np.ones(2, np.float32)))
