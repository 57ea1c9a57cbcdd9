"""np.linalg rules: the conventions at degenerate points (each rule's note), the errors,
and the calls a NumPy derivative suite makes (stacked matrices, one-triangle routines
fed non-symmetric input, norms of every ord, thin SVDs of every shape).

The table-driven tests (tests/test_rules.py) draw from each rule's domain, which stays
away from these points; here each point is visited on purpose.
"""
import numpy as np
import pytest

import dualnum as dn
from dualnum.core.errors import DTypeError
from dualnum.testing import check_jvp

RNG_SEED = 20240611


@pytest.fixture
def rng():
    return np.random.default_rng(RNG_SEED)


def T(a):
    return np.swapaxes(a, -1, -2)


def lower_sym(a):
    """The symmetric matrix built from a's lower triangle, with operators only (so it
    runs on Duals): what a one-triangle routine reads."""
    n = a.shape[-1]
    low = a * np.tril(np.ones((n, n)))
    return (low + T(low)) / 2


def tangent(f, x, v):
    return dn.jvp(f, (x,), (v,))[1]


# ------------------------------------------------------------------ a suite's calls
def _suite_cases():
    r = np.random.default_rng(42)
    n = r.standard_normal
    psd = [(lambda m: m @ m.T)(n((6, 6))) for _ in range(3)]
    b87, b8, b56 = n((8, 7)), n(8), n((5, 4, 6))
    a6 = n((6, 6)) + np.eye(6)
    m6 = n((6, 6))
    hb = (lambda m: np.einsum("...ij,...kj->...ik", m, m))(n((2, 3, 6, 6)) + 10 * np.eye(6))
    z = np.random.default_rng(0).standard_normal(6)
    svd_thin = lambda x: tuple(np.linalg.svd(x, full_matrices=False))  # noqa: E731
    cases = [
        ("inv", np.linalg.inv, (lambda m: m @ m + np.eye(8))(n((8, 8)))),
        ("inv_3d", np.linalg.inv, n((4, 4, 4)) + 5 * np.eye(4)),
        ("inv_4d", np.linalg.inv, n((4, 4, 4, 4)) + 5 * np.eye(4)),
        ("solve_a", lambda a: np.linalg.solve(a, b87), n((8, 8)) + 10 * np.eye(8)),
        ("solve_a_vector_b", lambda a: np.linalg.solve(a, b8), n((8, 8)) + 10 * np.eye(8)),
        ("solve_b", lambda b: np.linalg.solve(a6, b), n((6, 5))),
        ("solve_stacked_column",
         lambda a: np.linalg.solve(a, b56[..., :1])[..., 0], n((5, 4, 4)) + 5 * np.eye(4)),
        ("solve_stacked", lambda a: np.linalg.solve(a, b56), n((5, 4, 4)) + 5 * np.eye(4)),
        ("det", np.linalg.det, n((6, 6))),
        ("det_3d", np.linalg.det, n((3, 3, 3))),
        ("slogdet", lambda x: np.linalg.slogdet(x)[1], m6),
        ("slogdet_negative_det", lambda x: np.linalg.slogdet(x)[1], -m6),
        ("slogdet_3d", lambda x: np.sum(np.linalg.slogdet(x)[1]),
         np.stack([p + 5 * np.eye(6) for p in psd])),
        ("norm_vector", np.linalg.norm, n(6)),
        ("norm_frobenius", np.linalg.norm, n((6, 5))),
        ("norm_frobenius_axes", lambda x: np.linalg.norm(x, axis=(0, 1)), n((6, 5, 4))),
        ("norm_ord3", lambda x: np.linalg.norm(x, ord=3), n(6)),
        ("norm_ord4", lambda x: np.linalg.norm(x, ord=4), n(6)),
        ("norm_axis1", lambda x: np.linalg.norm(x, axis=1), n((6, 5, 4))),
        ("norm_nuclear", lambda x: np.linalg.norm(x, ord="nuc"), n((6, 5))),
        ("norm_nuclear_axes", lambda x: np.linalg.norm(x, ord="nuc", axis=(0, 1)),
         n((6, 5, 4))),
        # eigh reads one triangle: a non-symmetric input is differentiated as NumPy
        # reads it
        ("eigh_nonsymmetric_L", lambda x: tuple(np.linalg.eigh(x)), n((6, 6))),
        ("eigh_nonsymmetric_U", lambda x: tuple(np.linalg.eigh(x, "U")), n((6, 6))),
        ("eigh_stacked", lambda x: tuple(np.linalg.eigh(x)), hb),
        ("eigh_stacked_U", lambda x: tuple(np.linalg.eigh(x, UPLO="U")), hb),
        ("cholesky", lambda a: np.linalg.cholesky(lower_sym(a)), psd[0]),
        ("cholesky_stacked", lambda a: np.linalg.cholesky(lower_sym(a)), np.stack(psd)),
        ("cholesky_reparameterisation",
         lambda a: np.linalg.norm(np.dot(np.linalg.cholesky(lower_sym(a)), z)), psd[1]),
        ("svd_wide", svd_thin, n((3, 5))), ("svd_wide_3d", svd_thin, n((4, 3, 5))),
        ("svd_square", svd_thin, n((4, 4))), ("svd_square_3d", svd_thin, n((3, 4, 4))),
        ("svd_tall", svd_thin, n((5, 3))), ("svd_tall_3d", svd_thin, n((4, 5, 3))),
        ("svd_values", lambda x: np.linalg.svd(x, full_matrices=False, compute_uv=False),
         n((4, 5, 3))),
    ]
    for m in (2, 5, 7):  # pinv of full rank, and of fixed low rank (XᵀX, X 5 x m)
        cases.append((f"pinv_{m}", np.linalg.pinv, n((2, 5, m))))
        cases.append((f"pinv_low_rank_{m}", lambda x: np.linalg.pinv(T(x) @ x), n((2, 5, m))))
    return cases


@pytest.mark.parametrize("name,f,x", _suite_cases(), ids=[c[0] for c in _suite_cases()])
def test_suite_call_matches_finite_differences(name, f, x):
    check_jvp(f, (x,), rtol=1e-5, atol=1e-6)


def test_eig_with_complex_eigenvalues_raises_a_clear_error(rng):
    x = np.array([[0.0, -1.0], [1.0, 0.0]])  # a rotation: eigenvalues ±i
    d = dn.Dual(x, rng.standard_normal((2, 2)))
    with pytest.raises(DTypeError, match="complex eigenvalues.*eigh"):
        np.linalg.eig(d)
    with pytest.raises(DTypeError, match="complex eigenvalues"):
        np.linalg.eigvals(d)


def test_eig_with_real_eigenvalues(rng):
    p = np.eye(3) + 0.3 * rng.standard_normal((3, 3))
    x = p @ np.diag([3.0, -1.0, 0.5]) @ np.linalg.inv(p)
    check_jvp(lambda a: tuple(np.linalg.eig(a)), (x,))
    w, v = np.linalg.eig(dn.Dual(x, rng.standard_normal((3, 3))))
    assert isinstance(w, dn.Dual) and w.dtype == np.float64


# ------------------------------------------------------------------ determinants
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_det_is_exact_at_singular_matrices(n, rng):
    """adj(A) ≠ 0 at rank n - 1, so det's derivative there is not 0 (det · A⁻¹ would
    give nan; PyTorch's jvp gives 0)."""
    u, _, vt = np.linalg.svd(rng.standard_normal((n, n)))
    s = np.linspace(2.0, 1.0, n)
    s[-1] = 0.0
    a = (u * s) @ vt
    v = rng.standard_normal((n, n))
    # d/dt det(A + tV) at 0, from the polynomial's own coefficients
    ts = np.linspace(-1, 1, n + 1)
    coef = np.polyfit(ts, [np.linalg.det(a + t * v) for t in ts], n)
    t = tangent(np.linalg.det, a, v)
    assert np.isfinite(t)
    np.testing.assert_allclose(t, coef[-2], rtol=1e-7, atol=1e-9)
    if n > 1:
        assert abs(coef[-2]) > 1e-3  # the case is not trivially 0


def test_det_of_rank_deficient_by_two_has_zero_derivative(rng):
    a = rng.standard_normal((5, 3)) @ rng.standard_normal((3, 5))
    assert tangent(np.linalg.det, a, rng.standard_normal((5, 5))) == pytest.approx(0, abs=1e-9)


def test_det_stack_mixes_singular_and_invertible(rng):
    a = np.stack([np.diag([1.0, 2.0, 3.0, 0.0]), rng.standard_normal((4, 4))])
    v = rng.standard_normal((2, 4, 4))
    t = tangent(np.linalg.det, a, v)
    assert t[0] == pytest.approx(6.0 * v[0, 3, 3])  # adj = diag(0, 0, 0, 6)
    check_jvp(np.linalg.det, (a,), (v,))


def test_slogdet_at_a_singular_matrix_is_nan_and_the_sign_constant(rng):
    a = np.stack([np.diag([1.0, 2.0, 0.0]), np.eye(3) * 2])
    v = rng.standard_normal((2, 3, 3))
    (sign, logdet), (dsign, dlogdet) = dn.jvp(np.linalg.slogdet, (a,), (v,))
    assert sign[0] == 0 and logdet[0] == -np.inf
    assert np.isnan(dlogdet[0])
    assert dlogdet[1] == pytest.approx(np.trace(v[1]) / 2)
    assert not np.any(dsign)
    assert type(np.linalg.slogdet(dn.Dual(a[1], v[1]))).__name__ == "SlogdetResult"


@pytest.mark.parametrize("fn", [np.linalg.inv, lambda a: np.linalg.solve(a, np.ones(2))])
def test_singular_inverse_raises_as_numpy_does(fn):
    with pytest.raises(np.linalg.LinAlgError):
        fn(dn.Dual(np.ones((2, 2)), np.eye(2)))


# ------------------------------------------------------------------ eigh, cholesky
def test_one_triangle_routines_ignore_the_other_triangle(rng):
    a = rng.standard_normal((4, 4))
    a = a @ a.T + 4 * np.eye(4)
    upper_only = np.triu(rng.standard_normal((4, 4)), 1)
    for f in (lambda x: tuple(np.linalg.eigh(x)), np.linalg.eigvalsh, np.linalg.cholesky,
              lambda x: np.linalg.pinv(x, hermitian=True)):
        for leaf in dn.core.pytree.flatten(tangent(f, a, upper_only))[0]:
            assert not np.any(leaf)
    lower_only = np.tril(rng.standard_normal((4, 4)), -1)
    for f in (lambda x: tuple(np.linalg.eigh(x, UPLO="U")),
              lambda x: np.linalg.cholesky(x, upper=True)):
        for leaf in dn.core.pytree.flatten(tangent(f, a, lower_only))[0]:
            assert not np.any(leaf)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_eigh_at_repeated_eigenvalues_values_finite_vectors_not(rng):
    """JAX's convention (PyTorch gives nan for the vectors too)."""
    a = np.diag([1.0, 1.0, 2.0])
    v = rng.standard_normal((3, 3))
    v = v + v.T
    dw, dvec = tangent(lambda x: tuple(np.linalg.eigh(x)), a, v)
    np.testing.assert_allclose(dw[2], v[2, 2])
    assert np.all(np.isfinite(dw))
    assert not np.all(np.isfinite(dvec))
    # eigvalsh alone stays finite
    assert np.all(np.isfinite(tangent(np.linalg.eigvalsh, a, v)))


def test_cholesky_of_an_indefinite_matrix_raises():
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(dn.Dual(np.diag([1.0, -1.0]), np.eye(2)))


# ------------------------------------------------------------------ svd
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_svd_at_repeated_singular_values_values_finite_vectors_not(rng):
    v = rng.standard_normal((3, 3))
    du, ds, dvh = tangent(lambda x: tuple(np.linalg.svd(x)), np.eye(3), v)
    np.testing.assert_allclose(np.sort(ds), np.sort(np.diag(v)))
    assert not np.all(np.isfinite(du)) and not np.all(np.isfinite(dvh))
    assert np.all(np.isfinite(tangent(np.linalg.svdvals, np.eye(3), v)))


def test_svd_zero_singular_value_of_a_tall_matrix_reads_1_over_0_as_0(rng):
    """JAX's convention (PyTorch gives nan)."""
    a = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    du, ds, dvh = tangent(lambda x: tuple(np.linalg.svd(x, full_matrices=False)), a,
                          rng.standard_normal((3, 2)))
    assert np.all(np.isfinite(du)) and np.all(np.isfinite(ds)) and np.all(np.isfinite(dvh))


@pytest.mark.parametrize("shape", [(5, 2), (2, 5), (2, 4, 3)])
def test_svd_full_matrices_on_non_square_input(shape, rng):
    """The first k columns of U (rows of Vh) are unique and match finite differences;
    the extra ones are a basis of the complement: their projector matches finite
    differences, and they stay orthogonal to the rest."""
    x = rng.standard_normal(shape)
    v = rng.standard_normal(shape)
    m, n = shape[-2:]
    k = min(m, n)

    def unique_parts(a):
        u, s, vh = np.linalg.svd(a)
        return u[..., :k], s, vh[..., :k, :]

    def complement_projectors(a):
        u, s, vh = np.linalg.svd(a)
        u2, v2 = u[..., k:], T(vh[..., k:, :])
        return u2 @ T(u2), v2 @ T(v2)

    check_jvp(unique_parts, (x,), (v,))
    check_jvp(complement_projectors, (x,), (v,))
    (u, s, vh), (du, ds, dvh) = dn.jvp(lambda a: tuple(np.linalg.svd(a)), (x,), (v,))
    for q, dq in ((u, du), (T(vh), T(dvh))):
        skew = T(q) @ dq  # d(QᵀQ) = 0 means QᵀdQ is antisymmetric
        np.testing.assert_allclose(skew + T(skew), 0, atol=1e-10)


def test_svd_hermitian_is_refused_with_advice(rng):
    with pytest.raises(TypeError, match="hermitian=False"):
        np.linalg.svd(dn.Dual(np.eye(2), np.eye(2)), hermitian=True)


def test_svd_compute_uv_false_returns_one_dual(rng):
    x = dn.Dual(rng.standard_normal((3, 2)), rng.standard_normal((3, 2)))
    s = np.linalg.svd(x, compute_uv=False)
    assert isinstance(s, dn.Dual) and s.shape == (2,)


# ------------------------------------------------------------------ qr
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 5, 3)])
@pytest.mark.parametrize("mode", ["reduced", "r"])
def test_qr(shape, mode, rng):
    f = (lambda a: tuple(np.linalg.qr(a, mode))) if mode != "r" else \
        (lambda a: np.linalg.qr(a, mode="r"))
    check_jvp(f, (rng.standard_normal(shape),))


def test_qr_complete_on_a_tall_matrix(rng):
    x, v = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))

    def parts(a):
        q, r = np.linalg.qr(a, mode="complete")
        return q[:, :2], r, q[:, 2:] @ T(q[:, 2:])

    check_jvp(parts, (x,), (v,))
    (q, r), (dq, dr) = dn.jvp(lambda a: tuple(np.linalg.qr(a, "complete")), (x,), (v,))
    np.testing.assert_allclose(T(q) @ dq + T(dq) @ q, 0, atol=1e-10)
    assert not np.any(dr[2:])


def test_qr_raw_mode_is_refused():
    with pytest.raises(TypeError, match="mode='raw'"):
        np.linalg.qr(dn.Dual(np.eye(2), np.eye(2)), mode="raw")


# ------------------------------------------------------------------ lstsq, pinv, powers
@pytest.mark.parametrize("shape_b", [(6,), (6, 2)])
def test_lstsq_outputs(shape_b, rng):
    a, b = rng.standard_normal((6, 3)), rng.standard_normal(shape_b)
    x, res, rank, s = np.linalg.lstsq(dn.Dual(a, rng.standard_normal(a.shape)), b)
    assert isinstance(rank, (int, np.integer)) and rank == 3  # a fact, not a Dual
    assert isinstance(x, dn.Dual) and isinstance(res, dn.Dual) and isinstance(s, dn.Dual)
    f = lambda a, b: tuple(np.linalg.lstsq(a, b)[i] for i in (0, 1, 3))  # noqa: E731
    check_jvp(f, (a, b))


def test_lstsq_and_pinv_of_fixed_low_rank(rng):
    """Along directions that keep the rank, the constant-rank rule is exact."""
    p, q = rng.standard_normal((5, 2)), rng.standard_normal((2, 4))
    dp, dq = rng.standard_normal((5, 2)), rng.standard_normal((2, 4))
    b = rng.standard_normal(5)
    check_jvp(lambda p, q: np.linalg.pinv(p @ q), (p, q), (dp, dq))
    check_jvp(lambda p, q: np.linalg.lstsq(p @ q, b)[0], (p, q), (dp, dq))


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 7])
def test_matrix_power(n, rng):
    a = 0.5 * rng.standard_normal((2, 3, 3)) + np.eye(3)
    check_jvp(lambda x: np.linalg.matrix_power(x, n), (a,))
    if n == 0:
        assert not np.any(tangent(lambda x: np.linalg.matrix_power(x, 0), a, np.ones_like(a)))


# ------------------------------------------------------------------ norms
VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1, -2.5]
MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norm_every_ord(ord, keepdims, rng):
    x = rng.uniform(0.3, 2, (3, 4)) * rng.choice([-1, 1], (3, 4))
    check_jvp(lambda a: np.linalg.norm(a, ord=ord, axis=1, keepdims=keepdims), (x,))
    check_jvp(lambda a: np.linalg.vector_norm(a, ord=2 if ord is None else ord,
                                              axis=(0, 1), keepdims=keepdims), (x,))


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("axis", [None, (0, 1), (1, 0), (2, 0), (-1, -3)])
def test_matrix_norm_every_ord(ord, axis, rng):
    x = rng.standard_normal((3, 4) if axis is None else (3, 2, 4))
    check_jvp(lambda a: np.linalg.norm(a, ord=ord, axis=axis), (x,))
    check_jvp(lambda a: np.linalg.norm(a, ord=ord, axis=axis, keepdims=True), (x,))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_norm_conventions(rng):
    # the 2-norm at 0 has no derivative: nan, as JAX (PyTorch gives 0)
    assert np.isnan(tangent(np.linalg.norm, np.zeros(3), np.ones(3)))
    # ord=inf ties share the derivative equally (PyTorch and np.max's rule)
    t = tangent(lambda a: np.linalg.norm(a, np.inf), np.array([1.0, -1.0, 0.5]),
                np.array([1.0, 2.0, 3.0]))
    assert t == pytest.approx((1.0 - 2.0) / 2)
    # matrix ord=1 with two columns of equal sums: the mean of their tangents
    t = tangent(lambda a: np.linalg.norm(a, 1), np.array([[1.0, -1.0], [1.0, 1.0]]),
                np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert t == pytest.approx(((1 + 3) + (-2 + 4)) / 2)
    # ord=0 counts non-zeros: piecewise constant
    assert tangent(lambda a: np.linalg.norm(a, 0), np.array([1.0, 2.0]), np.ones(2)) == 0


def test_invalid_matrix_norm_order_raises():
    with pytest.raises(ValueError):
        np.linalg.norm(dn.Dual(np.eye(2), np.eye(2)), ord=3)


@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"])
def test_cond(p, rng):
    check_jvp(lambda a: np.linalg.cond(a, p), (rng.standard_normal((2, 3, 3)) + 2 * np.eye(3),))


def test_matrix_rank_is_a_query(rng):
    r = np.linalg.matrix_rank(dn.Dual(np.eye(3), np.eye(3)))
    assert r == 3 and not isinstance(r, dn.Dual)


# ------------------------------------------------------------------ batched tangents
def test_k_directions_through_a_stack(rng):
    """Batch axes in front of stack axes: solve with a broadcasting b."""
    a = rng.standard_normal((2, 1, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((4, 3, 2))
    ta, tb = rng.standard_normal((5,) + a.shape), rng.standard_normal((5,) + b.shape)
    _, batched = dn.jvp(np.linalg.solve, (a, b), (ta, tb), batched=True)
    for k in range(5):
        _, single = dn.jvp(np.linalg.solve, (a, b), (ta[k], tb[k]))
        np.testing.assert_allclose(batched[k], single, rtol=1e-12, atol=1e-12)
