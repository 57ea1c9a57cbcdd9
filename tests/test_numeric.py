"""Numeric rules (kron, cross, einsum's sublist form, cov, corrcoef, polynomials,
convolution, interp, trapezoid): the argument forms a NumPy derivative suite uses, and
the conventions at the points the table's domains avoid."""
import itertools

import numpy as np
import pytest

import dualnum as dn
from dualnum.testing import check_jvp


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def tangent(f, xs, vs):
    return dn.jvp(f, xs, vs)[1]


# ------------------------------------------------------------------ einsum
E = Ellipsis
EINSUM_PAIRS = [  # the sublist form and the string it means
    (lambda a: np.einsum(a, (0, 1), (1, 0)), lambda a: np.einsum("ij->ji", a), [(3, 4)]),
    (lambda a, b: np.einsum(a, [0, 1], b, [1, 2]), lambda a, b: np.einsum("ij,jk", a, b),
     [(2, 3), (3, 4)]),
    (lambda a, b: np.einsum(a, (E, 0, 1), b, (E, 1, 2), (E, 0, 2)),
     lambda a, b: np.einsum("...ij,...jk->...ik", a, b), [(2, 2, 3), (3, 4)]),
    (lambda a, b: np.einsum(a, (0, 1, 2), b, (3, 1, 0), (3, 2, 0)),
     lambda a, b: np.einsum("ijk,lji->lki", a, b), [(3, 4, 4), (4, 4, 3)]),
    (lambda a, b, c: np.einsum(a, (0, 1, 2), b, (3, 1, 0), c, (3, 3, 0), (3, 2, 0)),
     lambda a, b, c: np.einsum("ijk,lji,lli->lki", a, b, c), [(3, 4, 4), (4, 4, 3), (4, 4, 3)]),
    # labels above 25 sort after the capitals in an implicit output, as in NumPy
    (lambda a, b: np.einsum(a, [27, 0], b, [0, 1]), lambda a, b: np.einsum("ji,ik->kj", a, b),
     [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("sub,string,shapes", EINSUM_PAIRS)
def test_einsum_sublist_form_equals_the_string_form(sub, string, shapes, rng):
    xs = tuple(rng.standard_normal(s) for s in shapes)
    vs = tuple(rng.standard_normal(s) for s in shapes)
    check_jvp(sub, xs, vs)
    (y1, t1), (y2, t2) = dn.jvp(sub, xs, vs), dn.jvp(string, xs, vs)
    np.testing.assert_allclose(y1, y2)
    np.testing.assert_allclose(t1, t2)


@pytest.mark.parametrize("spec,shapes", [
    ("jk...,lj...->lk...", [(3, 2, 4), (2, 3, 4)]), ("j...k,lj...->lk...", [(2, 2, 2), (2, 2)]),
    ("...,...->...", [(4, 4), (3, 4, 4)]), ("...jk,...lj->...lk", [(4, 4), (3, 4, 4)]),
])
def test_einsum_ellipsis_anywhere(spec, shapes, rng):
    check_jvp(lambda *ops: np.einsum(spec, *ops), tuple(rng.standard_normal(s) for s in shapes))


# ------------------------------------------------------------------ kron, cross
@pytest.mark.parametrize("sa,sb", [((5, 5), (3, 3)), ((4, 4), (2, 2)), ((3,), (2, 2)),
                                   ((2, 1, 3), (2,)), ((), (3,))])
def test_kron(sa, sb, rng):
    check_jvp(np.kron, (rng.standard_normal(sa), rng.standard_normal(sb)))


AXES = [dict(axisa=a, axisb=b, axisc=c)
        for a, b, c in itertools.product([-1, 0, 1], repeat=3)] + \
       [dict(axis=a) for a in (None, -1, 0, 1)]


@pytest.mark.parametrize("kw", AXES, ids=str)
def test_cross_every_axis_form(kw, rng):
    check_jvp(lambda a, b: np.cross(a, b, **kw),
              (rng.standard_normal((3, 3)), rng.standard_normal((3, 3))))


def test_cross_broadcasts_with_batched_tangents(rng):
    a, b = rng.standard_normal(3), rng.standard_normal((4, 2, 3))
    ta, tb = rng.standard_normal((5, 3)), rng.standard_normal((5, 4, 2, 3))
    _, batched = dn.jvp(np.cross, (a, b), (ta, tb), batched=True)
    for k in range(5):
        np.testing.assert_allclose(batched[k], np.cross(ta[k], b) + np.cross(a, tb[k]))


# ------------------------------------------------------------------ statistics
@pytest.mark.parametrize("kw", [{}, {"rowvar": False}, {"bias": True}, {"ddof": 2},
                                {"fweights": np.array([1, 2, 1, 3, 1])},
                                {"aweights": np.array([0.5, 1, 2, 1, 1.5]), "ddof": 1}])
def test_cov_options(kw, rng):
    x = rng.standard_normal((3, 5) if kw.get("rowvar", True) else (5, 3))
    check_jvp(lambda m: np.cov(m, **kw), (x,))
    check_jvp(lambda m, y: np.cov(m, y, **kw), (x, rng.standard_normal(5)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_corrcoef_with_zero_variance_is_nan_as_numpys_value(rng):
    x = np.stack([rng.standard_normal(4), np.full(4, 2.0)])
    r, t = dn.jvp(np.corrcoef, (x,), (rng.standard_normal((2, 4)),))
    assert np.isnan(r[1, 0]) and np.isnan(t[1, 0])
    check_jvp(np.corrcoef, (rng.standard_normal((3, 6)),))


def test_weights_are_constants(rng):
    w = dn.Dual(np.ones(4), np.ones(4))
    with pytest.raises(TypeError, match="aweights"):
        np.cov(dn.Dual(rng.standard_normal((2, 4))), aweights=w)


# ------------------------------------------------------------------ polynomials, signals
def test_vander_is_exact_at_zero(rng):
    x = np.array([0.0, 1.0, -2.0])
    t = tangent(lambda a: np.vander(a, 4), (x,), (np.ones(3),))
    np.testing.assert_allclose(t[0], [0, 0, 1, 0])  # d/dx (x³, x², x, 1) at 0
    check_jvp(lambda a: np.vander(a, 4, increasing=True), (x,))


def test_polyval(rng):
    check_jvp(np.polyval, (rng.standard_normal(4), rng.standard_normal((3, 2))))
    check_jvp(np.polyval, (rng.standard_normal(1), rng.standard_normal(3)))


@pytest.mark.parametrize("fn", [np.convolve, np.correlate])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("na,nv", [(6, 3), (3, 6), (4, 4)])
def test_convolve_and_correlate(fn, mode, na, nv, rng):
    a, v = rng.standard_normal(na), rng.standard_normal(nv)
    check_jvp(lambda a, v: fn(a, v, mode=mode), (a, v))
    ta, tv = rng.standard_normal((3, na)), rng.standard_normal((3, nv))
    _, batched = dn.jvp(lambda a, v: fn(a, v, mode), (a, v), (ta, tv), batched=True)
    for k in range(3):
        np.testing.assert_allclose(batched[k], fn(ta[k], v, mode) + fn(a, tv[k], mode))


# ------------------------------------------------------------------ interp
XP = np.arange(6) * 1.0
FP = np.array([0.0, 2.0, 1.0, 4.0, -1.0, 3.0])


def test_interp_on_a_fine_grid_matches_finite_differences(rng):
    x = np.arange(-3, 9, 0.1) + 0.013  # off the nodes
    check_jvp(lambda fp: np.interp(x, XP, fp), (FP,))
    check_jvp(lambda fp: np.interp(x, XP, fp, left=-1, right=-1), (FP,))
    check_jvp(lambda x: np.interp(x, XP, FP), (x,))
    check_jvp(lambda x, fp: np.interp(x, XP, fp, period=7.5), (x, FP))


def test_interp_conventions_at_nodes_and_outside():
    x = np.array([-1.0, 0.0, 2.0, 5.0, 6.0])
    dx = tangent(lambda x: np.interp(x, XP, FP), (x,), (np.ones(5),))
    # outside: 0; at a node: the segment on its right; the last node: the last segment
    np.testing.assert_allclose(dx, [0.0, 2.0, 3.0, 4.0, 0.0])
    eye = np.eye(6)
    _, dfp = dn.jvp(lambda fp: np.interp(x, XP, fp), (FP,), (eye,), batched=True)
    # a node takes exactly its own value; outside, the end values (no left/right given)
    np.testing.assert_allclose(dfp[:, [1, 2, 3]], eye[:, [0, 2, 5]])
    np.testing.assert_allclose(dfp[:, 0], eye[:, 0])
    np.testing.assert_allclose(dfp[:, 4], eye[:, 5])
    _, dfp = dn.jvp(lambda fp: np.interp(x, XP, fp, left=0.0, right=9.0), (FP,), (eye,),
                    batched=True)
    assert not np.any(dfp[:, [0, 4]])
    # left/right are differentiable when NumPy dispatches the call to dualnum, which it
    # does when x or fp is a Dual
    _, (dl, dr) = dn.jvp(lambda l, r, fp: (np.interp(x, XP, fp, left=l),
                                           np.interp(x, XP, fp, right=r)),
                         (np.array(1.0), np.array(2.0), FP), (np.array(1.0), np.array(1.0), None))
    np.testing.assert_allclose(dl, [1, 0, 0, 0, 0])
    np.testing.assert_allclose(dr, [0, 0, 0, 0, 1])


def test_interp_nodes_are_constants():
    with pytest.raises(TypeError, match="xp"):
        np.interp(0.5, dn.Dual(XP, np.ones(6)), FP)


# ------------------------------------------------------------------ trapezoid
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_trapezoid(axis, rng):
    y = rng.standard_normal((4, 5))
    check_jvp(lambda y: np.trapezoid(y, axis=axis), (y,))
    check_jvp(lambda y, x: np.trapezoid(y, x, axis=axis), (y, rng.standard_normal(y.shape[axis])))
    check_jvp(lambda y, x: np.trapezoid(y, x, axis=axis), (y, rng.standard_normal(y.shape)))
    check_jvp(lambda y, dx: np.trapezoid(y, dx=dx, axis=axis), (y, np.array(0.3)))
