"""Shapes, sorting, statistics and elementwise ops: the calls NumPy users (and autograd's
own test suite) make, checked against central finite differences, plus the conventions
at non-differentiable points, stated in docs/conventions.md.

The table-driven tests (tests/test_rules.py) draw calls from each rule's domain; this file
pins the argument forms users write and the edge points the domains stay away from.
"""
import operator
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import dualnum as dn
from dualnum.core import dual as D, rules as R
from dualnum.testing import check_jvp

RNG = np.random.default_rng(11)


def R_(*shape):
    return RNG.standard_normal(shape)


def _check(f, *args):
    """f's JVP against finite differences, and a batch of 2 tangents against 2 JVPs."""
    args = tuple(np.asarray(a, np.float64) for a in args)
    check_jvp(f, args, rtol=1e-5, atol=1e-7)
    tb = tuple(RNG.standard_normal((2,) + a.shape) for a in args)
    _, jb = dn.jvp(f, args, tb, batched=True)
    for k in range(2):
        _, j = dn.jvp(f, args, tuple(t[k] for t in tb))
        for a, b in zip(jb if isinstance(jb, (list, tuple)) else [jb],
                        j if isinstance(j, (list, tuple)) else [j]):
            np.testing.assert_allclose(np.asarray(a)[k], b, rtol=1e-10, atol=1e-12)


def _cases(fn, arrays, **options):
    """Every combination of one array and one value per option, as autograd's combo
    checks enumerate them."""
    import itertools

    keys = list(options)
    for a in arrays:
        for values in itertools.product(*(options[k] for k in keys)):
            yield fn, a, dict(zip(keys, values))


# ------------------------------------------------------------------ the calls users make
SHAPE_CASES = [
    *_cases(np.repeat, [R_(2, 3, 4), R_(3, 1)], repeats=[0, 1, 2], axis=[None, 0, 1]),
    *_cases(np.diff, [R_(5, 5), R_(5, 5, 5)], n=[1, 2], axis=[0, 1]),
    *_cases(np.diff, [R_(1), R_(1, 1)], axis=[0]),
    *_cases(np.diff, [R_(1, 1), R_(3, 1)], axis=[1]),
    *_cases(np.tile, [R_(2, 1, 3, 1)], reps=[(1, 4, 1, 2)]),
    *_cases(np.tile, [R_(1, 2)], reps=[(1, 2), (2, 3), (3, 2, 1)]),
    *_cases(np.tile, [R_(1)], reps=[(2,), 2]),
    *_cases(np.sort, [R_(1), R_(7)]),
    *_cases(np.partition, [R_(7), R_(14)], kth=[0, 3, 6]),
    *_cases(np.atleast_1d, [R_(), R_(1), R_(7), R_(1, 4), R_(2, 4), R_(2, 4, 5)]),
    *_cases(np.atleast_2d, [R_(), R_(1), R_(7), R_(1, 4), R_(2, 4), R_(2, 4, 5)]),
    *_cases(np.atleast_3d, [R_(), R_(1), R_(7), R_(2, 4), R_(2, 4, 5), R_(2, 4, 3, 5)]),
    *_cases(np.diag, [R_(5, 5), R_(5)], k=[-1, 0, 1]),
    *_cases(np.tril, [R_(5, 5), R_(5, 5, 4)], k=[-1, 0, 1, 2]),
    *_cases(np.triu, [R_(5, 5), R_(5, 5, 4)], k=[-1, 0, 1, 2]),
    *_cases(np.rollaxis, [R_(2, 3, 4)], axis=[0, 1, 2], start=[0, 1, 2, 3]),
    *_cases(np.vsplit, [R_(4, 8), R_(4, 4, 4)], indices_or_sections=[2, [1, 2]]),
    *_cases(np.hsplit, [R_(4, 8), R_(4, 4, 4)], indices_or_sections=[2, [1, 2]]),
    *_cases(np.dsplit, [R_(4, 4, 4)], indices_or_sections=[2, [1, 2]]),
    *_cases(np.flipud, [R_(10, 11)]), *_cases(np.fliplr, [R_(10, 11)]),
    *_cases(np.rot90, [R_(10, 11)]), *_cases(np.rot90, [R_(3, 4, 5)], k=[-1, 2],
                                             axes=[(0, 2), (2, 1)]),
    *_cases(np.column_stack, [R_(2), R_(2, 2)]),
    *_cases(np.vstack, [R_(2), R_(2, 3)]), *_cases(np.hstack, [R_(2), R_(2, 3)]),
    *_cases(np.dstack, [R_(2), R_(2, 3)]),
    *_cases(np.var, [R_(3), R_(2, 3), R_(1, 3)], axis=[None], keepdims=[True, False],
            ddof=[0, 1]),
    *_cases(np.std, [R_(3), R_(2, 3), R_(1, 3)], axis=[None, 0], keepdims=[True, False]),
    *_cases(np.std, [R_(3, 4), R_(1, 3)], axis=[None, 1], ddof=[2]),
    *_cases(np.std, [np.array(3.5), R_()]),
    *_cases(np.median, [R_(7), R_(3, 4)], axis=[None, 0, -1], keepdims=[False, True]),
    *_cases(np.ptp, [R_(3, 4)], axis=[None, 1]),
    *_cases(np.real, [R_(3, 2)]), *_cases(np.real_if_close, [R_(3, 2)]),
    *_cases(np.imag, [R_(3, 2)]), *_cases(np.conj, [R_(3, 2)]),
    *_cases(np.angle, [R_(3, 2)]), *_cases(np.radians, [R_(3, 2)]),
    *_cases(np.degrees, [R_(3, 2)]), *_cases(np.nan_to_num, [R_(4)]),
    *_cases(np.sinc, [10 * RNG.random(3), np.array(0.0), np.array([1e-4, -3e-4])]),
]


@pytest.mark.parametrize("fn, a, kw", SHAPE_CASES,
                         ids=[f"{c[0].__name__}-{c[1].shape}-{c[2]}" for c in SHAPE_CASES])
def test_calls_users_make(fn, a, kw):
    _check(lambda x: fn(x, **kw), a)


def test_two_argument_calls():
    _check(np.append, np.array([1.0, 2.0, 3.0]), np.array(4.0))
    _check(lambda a, b: np.append(a, b, axis=0), R_(2, 3), R_(1, 3))
    conds = [R_(3, 4, 5) > 0, R_(3, 4, 5) > 0]
    _check(lambda c: np.select(conds, [c, 2 * c], 1.1), R_(3, 4, 5))
    _check(lambda a, b: np.select([a > 0, b > 0], [a, b], default=a * b), R_(3, 4), R_(4))
    _check(lambda x, w: np.average(x, axis=1, weights=w), R_(3, 4), RNG.random(4) + 0.5)
    _check(lambda x, w: np.average(x, weights=w, returned=True), R_(3, 4),
           RNG.random((3, 4)) + 0.5)
    _check(lambda a, p: np.diff(a, prepend=p, append=0.5), R_(3, 4), R_(3, 1))
    _check(lambda x, v: np.insert(x, [1, 3], v, axis=1), R_(2, 4), R_(2, 2))
    _check(lambda x, v: np.insert(x, 1, v, axis=0), R_(3, 2), R_(2))
    _check(lambda x, y: np.broadcast_arrays(x, y), R_(3, 1), R_(4))
    for indexing in ("xy", "ij"):
        for sparse in (False, True):
            _check(lambda x, y, z: np.meshgrid(x, y, z, indexing=indexing, sparse=sparse),
                   R_(2), R_(3), R_(4))


@pytest.mark.parametrize("num", [0, 1, 5])
def test_linspace_with_dual_endpoints(num):
    for start, stop in ((1.2, 3.4), (1.2, -3.4), (1.2, 1.2)):
        _check(lambda a, b: np.linspace(a, b, num), start, stop)
    _check(lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=1), R_(2), R_(3, 2))
    _check(lambda a, b: np.linspace(a, b, 3, retstep=True), R_(2), R_(2))
    _check(lambda a, b: np.geomspace(a, b, 4), 0.5 + RNG.random(3), 2.0 + RNG.random(3))
    _check(lambda a, b: np.logspace(a, b, 4, base=2.0), R_(3), R_(3))


def test_gradient_spacing_forms():
    f = R_(5, 4)
    _check(np.gradient, f)
    _check(lambda x: np.gradient(x, 0.5, axis=1, edge_order=2), f)
    coords = np.cumsum(RNG.random(5) + 0.2)
    _check(lambda x: np.gradient(x, coords.tolist(), axis=0), f)
    _check(lambda x: np.gradient(x, coords, [0.0, 0.5, 1.5, 1.7], edge_order=2), f)
    d = dn.Dual(f, np.ones_like(f))
    with pytest.raises(TypeError, match="spacing"):
        np.gradient(d, dn.Dual(coords, np.ones(5), level=d.level), axis=0)


def test_block_nested_lists():
    a, b, c = R_(2, 2), R_(2, 3), R_(1, 5)
    _check(lambda a, b, c: np.block([[a, b], [c]]), a, b, c)
    _check(lambda x: np.block([[x, np.zeros((2, 1))], [np.ones((1, 2)), 2.0]]), a)
    _check(lambda x, s: np.block([x, s, np.array([1.0])]), R_(3), R_())
    _check(lambda x: np.block([[[x]], [[x]]]), R_(2))


def test_take_put_along_axis_and_indexing():
    x = R_(3, 4)
    idx = np.argsort(x, axis=1)[:, :2]
    _check(lambda x: np.take_along_axis(x, idx, axis=1), x)
    _check(lambda x, v: dn.put_along_axis(x, idx, v, axis=1), x, R_(3, 2))
    _check(lambda x: dn.put_along_axis(x, np.array([1, 1, 3]), 5.0, axis=None), x)
    _check(lambda x: x[np.ix_([0, 2], [1, 3, 0])], x)
    _check(lambda x: np.delete(x, [0, 2], axis=1), x)
    _check(lambda x: np.resize(x, (5, 3)), x)
    _check(lambda x: np.copy(x), x)


def test_put_along_axis_repeated_index_last_write_wins():
    x = dn.Dual(np.zeros(3), np.zeros(3))
    v = dn.Dual(np.array([1.0, 2.0]), np.array([10.0, 20.0]), level=x.level)
    y = dn.put_along_axis(x, np.array([1, 1]), v, axis=0)
    np.testing.assert_array_equal(y.primal, [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(y.tangent, [0.0, 20.0, 0.0])


def test_in_place_writers_refuse_duals_and_name_the_alternative():
    d = dn.Dual(np.zeros((2, 3)), np.ones((2, 3)))
    idx = np.zeros((2, 1), np.intp)
    with pytest.raises(TypeError, match=r"in place.*dn\.put_along_axis"):
        np.put_along_axis(d, idx, 1.0, axis=1)
    with pytest.raises(TypeError, match="cannot hold a tangent"):
        np.put_along_axis(np.zeros((2, 3)), idx, dn.Dual(np.ones((2, 1))), axis=1)
    with pytest.raises(TypeError, match="np.where"):
        np.putmask(np.zeros((2, 3)), np.ones((2, 3), bool), d)
    with pytest.raises(TypeError, match="np.eye"):
        np.fill_diagonal(d, 1.0)
    with pytest.raises(TypeError):
        np.copyto(np.zeros((2, 3)), d)
    with pytest.raises(TypeError, match=r"\.primal"):
        np.ascontiguousarray(d)  # would drop the tangent: refused by the Dual itself


def test_several_arguments_give_tuples_and_one_gives_an_array():
    x, y = dn.Dual(np.array(1.0), np.array(2.0)), dn.Dual(np.ones(3), np.ones(3))
    a = np.atleast_2d(x)
    assert isinstance(a, dn.Dual) and a.shape == (1, 1) and float(a.tangent[0, 0]) == 2.0
    both = np.atleast_3d(x, y)
    assert isinstance(both, tuple) and [b.shape for b in both] == [(1, 1, 1), (1, 3, 1)]
    g = np.gradient(dn.Dual(R_(4), np.ones(4)))
    assert isinstance(g, dn.Dual)
    assert isinstance(np.gradient(dn.Dual(R_(3, 4), np.ones((3, 4)))), tuple)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if hasattr(np, "row_stack"):
            r = np.row_stack([y, y])
            assert r.shape == (2, 3) and np.all(r.tangent == 1)


# ------------------------------------------------------------------ order statistics
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest",
                                    "inverted_cdf", "averaged_inverted_cdf", "hazen",
                                    "weibull", "median_unbiased", "normal_unbiased",
                                    "closest_observation", "interpolated_inverted_cdf"])
def test_quantile_every_method(method):
    x = RNG.permutation(12).reshape(3, 4) * 0.3 + 0.01
    q = np.array([0.0, 0.13, 0.5, 0.71, 1.0])
    _check(lambda x: np.quantile(x, q, axis=1, method=method, keepdims=True), x)
    _check(lambda x: np.percentile(x, 37.0, method=method), x)


def test_nan_statistics_with_different_nan_counts_per_slice():
    x = RNG.permutation(20).reshape(4, 5) * 0.3
    x[0, [1, 3]] = np.nan
    x[2, :4] = np.nan
    for f in (np.nanmedian, np.nanmean, np.nansum, np.nanmax, np.nanmin, np.nanvar,
              np.nanstd, np.nanprod):
        _check(lambda x: f(x, axis=1), x)
    _check(lambda x: np.nanquantile(x, [0.2, 0.9], axis=1), x)
    _check(lambda x: np.nanpercentile(x, 60.0, axis=1, method="nearest"), x)
    _check(lambda x: np.nancumsum(x, axis=1), x)
    _check(lambda x: np.nancumprod(x), x * 0.3)


def test_all_nan_slices_have_nan_tangents():
    x = np.array([[np.nan, np.nan], [1.0, 2.0]])
    for f in (np.nanmedian, np.nanmean, np.nanmax):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            y, t = dn.jvp(lambda x: f(x, axis=1), (x,), (np.ones_like(x),))
        assert np.isnan(y[0]) and np.isnan(t[0]) and np.isfinite(t[1])


def test_median_of_nan_data_has_nan_tangent():
    x = np.array([1.0, np.nan, 3.0])
    y, t = dn.jvp(np.median, (x,), (np.ones(3),))
    assert np.isnan(y) and np.isnan(t)


def test_sort_ties_follow_the_stable_order():
    x = np.array([2.0, 1.0, 2.0, 1.0])
    y, t = dn.jvp(np.sort, (x,), (np.array([10.0, 20.0, 30.0, 40.0]),))
    np.testing.assert_array_equal(y, [1.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(t, [20.0, 40.0, 10.0, 30.0])
    xs = RNG.integers(0, 3, 30).astype(float)  # many ties: still NumPy's values
    for kth in (0, 7, [3, 20]):
        y, _ = dn.jvp(lambda v: np.partition(v, kth), (xs,), (np.ones(30),))
        np.testing.assert_array_equal(y, np.partition(xs, kth))


def test_unique_takes_the_tangent_of_the_first_occurrence():
    x = dn.Dual(np.array([3.0, 1.0, 3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    u, index, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                          return_counts=True)
    np.testing.assert_array_equal(u.primal, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(u.tangent, [2.0, 4.0, 1.0])
    assert not any(isinstance(p, dn.Dual) for p in (index, inverse, counts))
    np.testing.assert_array_equal(counts, [2, 1, 2])
    rows = dn.Dual(np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]]), np.arange(6.0).reshape(3, 2))
    ur = np.unique(rows, axis=0)
    np.testing.assert_array_equal(ur.tangent, [[2.0, 3.0], [0.0, 1.0]])


def test_histogram_edges_counts_and_weights():
    data = np.array([0.0, 0.3, 1.2, 1.9, 2.6, 3.0])
    _check(lambda a: np.histogram_bin_edges(a, bins=3), data)
    _check(lambda a: np.histogram(a, bins=3, density=True), data)
    _check(lambda a, w: np.histogram(a, bins=[-1.0, 0.5, 1.0, 2.5, 4.0], weights=w,
                                     density=True), data, RNG.random(6) + 0.5)
    _check(lambda w: np.histogram(data, bins=3, weights=w), RNG.random(6) + 0.5)
    counts, edges = np.histogram(dn.Dual(data, np.ones(6)), bins=3)
    assert not isinstance(counts, dn.Dual) and counts.dtype.kind == "i"
    np.testing.assert_allclose(edges.tangent, np.ones(4))  # min and max move by 1
    lo = dn.Dual(np.array(-1.0), np.array(1.0))
    hi = dn.Dual(np.array(4.0), np.array(0.0), level=lo.level)  # one perturbation
    e = np.histogram_bin_edges(data, bins=5, range=(lo, hi))
    np.testing.assert_allclose(e.tangent, np.linspace(1.0, 0.0, 6))


def test_bincount_and_queries():
    x = np.array([0, 3, 3, 1, 0, 3])
    _check(lambda w: np.bincount(x, w, minlength=6), R_(6))
    # a large index range takes the sorted cumulative-sum path
    big = RNG.integers(0, 3000, 2000)
    _check(lambda w: np.bincount(big, weights=w), R_(2000))
    d = dn.Dual(R_(5), np.ones(5))
    for q in (np.argsort(d), np.argpartition(d, 2), np.searchsorted(np.sort(d.primal), d),
              np.digitize(d, [0.0, 1.0]), np.iscomplex(d), np.isreal(d), np.iscomplexobj(d),
              np.nanargmax(d)):
        assert not isinstance(q, dn.Dual)
    with pytest.raises(TypeError):
        np.bincount(d)  # float bin numbers: NumPy refuses, no tangent is dropped


# ------------------------------------------------------------------ elementwise edges
def _nested(fn, x, *consts):
    """(f'(x), f''(x)): the rule's tangent along 1, differentiated once more by running
    the rule on Duals (how nested duals work)."""
    rule = R.lookup(fn)

    def h(x):
        args = (x,) + consts
        y = D.apply(rule, args, {})
        return R.tangent_of(rule, y, list(args), [np.ones(np.shape(x))] + [None] * len(consts), {})

    return dn.jvp(h, (np.asarray(x, float),), (np.ones(np.shape(x)),))


def test_power_at_zero():
    grad = dn.grad(lambda x: np.sum(x ** np.arange(3)))
    assert float(grad(np.array(0.0))) == 1.0  # d/dx (1 + x + x^2) at 0
    for b, want in ((0, 0.0), (0.0, 0.0), (1, 1.0), (1.0, 1.0), (2, 0.0), (2.0, 0.0)):
        assert float(dn.derivative(lambda x: x ** b)(0.0)) == want
    assert float(dn.derivative(lambda x: x ** 3)(-2.0)) == 12.0
    assert float(dn.derivative(lambda x: np.power(x, -1))(-2.0)) == -0.25
    assert float(dn.derivative(lambda b: np.power(0.0, b))(0.7)) == 0.0
    for b, second in ((0.0, 0.0), (1.0, 0.0), (2.0, 2.0)):
        first, d2 = _nested(np.power, 0.0, b)
        assert float(d2) == second and np.isfinite(first)


def test_power_mixed_partial_is_exact_at_zero_exponent():
    # d/db (d/da a^b) at b = 0 is 1/a: the a == b == 0 guard must not touch a != 0
    rule = R.lookup(np.power)

    def h(a, b):
        y = D.apply(rule, (a, b), {})
        return R.tangent_of(rule, y, [a, b], [np.ones(()), None], {})

    _, t = dn.jvp(h, (np.array(0.5), np.array(0.0)), (np.zeros(()), np.ones(())))
    assert float(t) == pytest.approx(2.0)


def test_std_at_zero():
    for x, kw in ((np.array([3.5]), {}), (np.ones((1, 3)), {"axis": 0}),
                  (np.array(2.0), {}), (np.full(4, 0.5), {})):
        y, t = dn.jvp(lambda v: np.std(v, **kw), (x,), (RNG.standard_normal(x.shape),))
        assert np.all(y == 0) and np.all(t == 0)
    y, t = dn.jvp(lambda v: np.nanstd(v), (np.array([1.0, np.nan]),), (np.ones(2),))
    assert float(t) == 0.0
    # second order: the std rule on Duals at a length-1 axis has no nan either
    rule = R.lookup(np.std)

    def h(x):
        y = D.apply(rule, (x,), {"axis": 0})
        return R.tangent_of(rule, y, [x], [np.ones((1, 2))], {"axis": 0})

    _, t2 = dn.jvp(h, (np.ones((1, 2)),), (np.ones((1, 2)),))
    np.testing.assert_array_equal(t2, [0.0, 0.0])


def test_sinc_at_zero():
    first, second = _nested(np.sinc, 0.0)
    assert float(first) == 0.0
    assert float(second) == pytest.approx(-np.pi ** 2 / 3, rel=1e-12)
    for x in (1e-3, 0.999e-3, 0.2):  # both sides of the switch to the Taylor polynomial
        check_jvp(np.sinc, (np.array(x),), (np.array(1.0),), rtol=1e-6)


def test_nan_to_num_replaced_points_have_zero_derivative():
    y = np.array([0.0, np.nan, np.inf, -np.inf])
    _check(lambda x: np.sum(np.sin(np.nan_to_num(x + y))), R_(4))
    out, t = dn.jvp(lambda x: np.nan_to_num(x, nan=1.0, posinf=9.0), (y,), (np.ones(4),))
    np.testing.assert_array_equal(t, [1.0, 0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="copy=False"):
        np.nan_to_num(dn.Dual(y), copy=False)


def test_angle_imag_heaviside_copysign_at_their_edges():
    x = np.array([-2.0, 0.0, 3.0])
    y, t = dn.jvp(np.angle, (x,), (np.ones(3),))
    np.testing.assert_array_equal(y, [np.pi, 0.0, 0.0])
    np.testing.assert_array_equal(t, 0.0)
    _, t = dn.jvp(np.imag, (x,), (np.ones(3),))
    np.testing.assert_array_equal(t, 0.0)
    _, t = dn.jvp(lambda a, b: np.heaviside(a, b), (x, np.full(3, 0.5)), (np.ones(3), np.ones(3)))
    np.testing.assert_array_equal(t, [0.0, 1.0, 0.0])
    _, t = dn.jvp(lambda a: np.copysign(a, -1.0), (x,), (np.ones(3),))
    np.testing.assert_array_equal(t, [1.0, 0.0, -1.0])


def test_round_fix_floor_divide_have_zero_derivative():
    x = np.array([-1.26, 0.5, 2.71])
    for f in (lambda v: np.round(v, 1), np.around, np.fix, lambda v: v // 0.7,
              lambda v: np.floor_divide(2.0, v)):
        y, t = dn.jvp(f, (x,), (np.ones(3),))
        np.testing.assert_array_equal(t, 0.0)


@settings(max_examples=60)
@given(a=st.floats(-20, 20), b=st.floats(0.3, 5).flatmap(
    lambda m: st.sampled_from([m, -m])), seed=st.integers(0, 2**32 - 1))
def test_remainder_fmod_divmod_both_signs(a, b, seed):
    q = a / b
    assume(abs(q - round(q)) > 1e-3 * max(1.0, abs(q)))  # away from the jumps
    a, b = np.array(a), np.array(b)
    for f in (np.remainder, np.fmod, operator.mod, lambda x, y: divmod(x, y)[1],
              lambda x, y: np.divmod(x, y)[0]):
        check_jvp(f, (a, b), rng=np.random.default_rng(seed), rtol=1e-6, atol=1e-8)
    for f, x in ((lambda x: x % b, a), (lambda y: a % y, b), (lambda y: divmod(a, y)[1], b),
                 (lambda x: divmod(x, b)[1], a), (lambda x: x // b, a)):
        check_jvp(f, (x,), rng=np.random.default_rng(seed), rtol=1e-6, atol=1e-8)


def test_mod_operators_in_both_orders():
    d = dn.Dual(np.array([5.0, -3.0]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal((d % 2.0).tangent, [1.0, 1.0])
    np.testing.assert_array_equal((7.0 % d).tangent, [-1.0, 3.0])  # -floor(7 / d)
    q, r = divmod(d, 2.0)
    assert q.is_symbolic_zero and np.array_equal(r.tangent, [1.0, 1.0])
    q, r = divmod(7.0, d)
    np.testing.assert_array_equal(q.primal, [1.0, -3.0])
    m, e = np.frexp(d)
    assert isinstance(m, dn.Dual) and not isinstance(e, dn.Dual)
    np.testing.assert_array_equal(m.tangent, [0.125, 0.25])


def test_nanquantile_with_a_2d_q_over_several_axes_is_refused():
    # NumPy puts q's axes last there (np.quantile puts them first): no layout to follow
    x = dn.Dual(R_(2, 3, 4), np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match="ravel q"):
        np.nanquantile(x, [[0.2, 0.5]], axis=(0, 1))
    assert np.nanquantile(x, [0.2, 0.5], axis=(0, 1)).shape == (2, 4)


def test_empty_data():
    e = dn.Dual(np.zeros((2, 0)), np.zeros((2, 0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = np.median(e, axis=1)
        assert np.all(np.isnan(m.primal)) and np.all(np.isnan(m.tangent))
        assert np.quantile(e, 0.3, axis=0).shape == (0,)
    counts, edges = np.histogram(dn.Dual(np.zeros(0), np.zeros(0)))
    assert edges.is_symbolic_zero and counts.sum() == 0
