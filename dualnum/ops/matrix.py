"""np.linalg: inverses, solves, determinants, decompositions, norms.

Every rule here is the standard forward-mode rule, written with NumPy calls that have
rules of their own (matmul, np.linalg.inv/solve/svd/eigh, indexing, ...), so it runs on
batched tangents (K directions in front of the matrix axes, and any stack axes of the
matrices in between) and on Duals (second derivatives use the same table).

Conventions where a decomposition is not differentiable follow JAX's jvp rules; each
rule's ``note`` says what happens there, and tests/test_matrix.py checks it:

* repeated eigenvalues (eigh, eig) or singular values (svd): the eigen/singular *values*
  keep a finite tangent (``diag(Vᵀ Ȧ V)``), the vectors get inf/nan (``1/(λⱼ - λᵢ)``);
* a zero singular value: ``1/s`` is read as 0 in the non-square svd terms (JAX);
* ``det`` is exact at singular matrices (adjugate, not ``det · A⁻¹``);
* routines that read one triangle (eigh, cholesky, pinv/svd with ``hermitian=True``)
  differentiate the symmetric matrix they actually see, so a tangent in the ignored
  triangle contributes nothing, as finite differences of NumPy's call say;
* orthonormal bases that are not unique (the extra columns of ``svd(full_matrices=True)``
  and ``qr(mode='complete')`` on non-square input) move by the smallest rotation that
  keeps them orthogonal to the rest (``U₂ᵀ dU₂ = 0``). Quantities that do not depend on
  that choice (``U₂ U₂ᵀ``, the other outputs) get exact derivatives; the derivative of
  LAPACK's particular basis is not defined by the decomposition (JAX raises in both
  cases, PyTorch for qr).
"""
from __future__ import annotations

import numpy as np

from ..core.errors import DTypeError
from ..core.rules import align, defjvp, lead, trailing_axes
from .reductions import _prod_others

_LINALG = "linalg"


# ------------------------------------------------------------------ helpers
def _T(x):
    return np.swapaxes(x, -1, -2)


def _value(x):
    """The plain ndarray under ``x`` (Duals unwrapped): for choosing a formula by the
    primal's value, never for computing a tangent."""
    while hasattr(x, "primal"):
        x = x.primal
    return np.asarray(x)


def _zeros(gl, like):
    """An explicit zero tangent for one output of a multi-output op (a constant)."""
    return np.zeros(tuple(gl) + tuple(np.shape(like)), dtype=like.dtype)


def _eye(n, like):
    return np.eye(n, dtype=like.dtype)


def _solve(a, rhs):
    """``solve(a, rhs)`` for matrix right-hand sides with batch axes in front; a single
    matrix ``a`` is factorised once for all of them (one wide right-hand side)."""
    if type(a) is np.ndarray and type(rhs) is np.ndarray and a.ndim == 2 and rhs.ndim > 2:
        n, m = rhs.shape[-2:]
        wide = np.moveaxis(rhs, -2, 0).reshape(n, -1)
        r = np.linalg.solve(a, wide).reshape((n,) + rhs.shape[:-2] + (m,))
        return np.moveaxis(r, 0, -2)
    return np.linalg.solve(a, rhs)


def _sym_seen(g, lower=True):
    """The tangent of the symmetric matrix a routine sees when it reads only one
    triangle of its input: that triangle, mirrored."""
    n = g.shape[-1]
    strict = np.tril(np.ones((n, n), dtype=g.dtype), -1)
    if not lower:
        strict = strict.T
    return g * (strict + _eye(n, g)) + _T(g * strict)


def _inv_gaps(w):
    """F with Fᵢⱼ = 1/(wⱼ - wᵢ) off the diagonal and 0 on it (inf where values repeat)."""
    n = w.shape[-1]
    eye = _eye(n, w)
    d = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 / (d + eye) - eye


def _diag(m):
    return np.diagonal(m, axis1=-2, axis2=-1)


def _uplo(uplo):
    u = str(uplo).upper()
    if u not in ("L", "U"):
        raise ValueError(f"UPLO argument must be 'L' or 'U', got {uplo!r}")
    return u == "L"


def _kwargs_only(n_pos, opts):
    """A normalize hook: positional arguments after the first ``n_pos`` become the
    keywords ``opts``, so tangent rules read options from one place."""
    def normalize(args, kwargs):
        kwargs = dict(kwargs)
        for name, val in zip(opts, args[n_pos:]):
            if name in kwargs:
                raise TypeError(f"got multiple values for argument {name!r}")
            kwargs[name] = val
        if len(args) > n_pos + len(opts):
            raise TypeError(f"takes at most {n_pos + len(opts)} positional arguments")
        return tuple(args[:n_pos]), kwargs

    return normalize


# ------------------------------------------------------------------ inverse, solve
def _inv_jvp(g, y, a):
    """-A⁻¹ Ȧ A⁻¹"""
    return -(y @ g @ y)


defjvp(np.linalg.inv, _inv_jvp, kind=_LINALG, domain=lambda s: s.inv_call(),
       note="singular A: NumPy raises LinAlgError (no derivative exists)")


def _solve_jvp_a(g, y, a, b):
    """-A⁻¹ Ȧ x"""
    vec = np.ndim(b) == 1
    ym = np.expand_dims(y, -1) if vec else y
    t = -_solve(a, align(g, np.ndim(a), np.ndim(ym)) @ ym)
    return t[..., 0] if vec else t


def _solve_jvp_b(g, y, a, b):
    """A⁻¹ ḃ"""
    vec = np.ndim(b) == 1
    gm = np.expand_dims(g, -1) if vec else g
    bm_nd = np.ndim(b) + vec
    t = _solve(a, align(gm, bm_nd, np.ndim(y) + vec))
    return t[..., 0] if vec else t


defjvp(np.linalg.solve, _solve_jvp_a, _solve_jvp_b, kind=_LINALG, argnames=("a", "b"),
       domain=lambda s: s.solve_call(),
       note="singular A: NumPy raises LinAlgError (no derivative exists)")


def _tensorinv_jvp(g, y, a, ind=2):
    """-Y Ȧ Y (as matrices)"""
    sa = np.shape(a)
    rows, cols = int(np.prod(sa[:ind])), int(np.prod(sa[ind:]))
    gl = lead(g, a)
    ym = np.reshape(y, (cols, rows))
    gm = np.reshape(g, gl + (rows, cols))
    return np.reshape(-(ym @ gm @ ym), gl + np.shape(y))


defjvp(np.linalg.tensorinv, _tensorinv_jvp, kind=_LINALG, argnames=("a", "ind"),
       domain=lambda s: s.tensorinv_call(), note="singular: NumPy raises LinAlgError")


def _tensorsolve_setup(a, axes, nb):
    """a's axes as tensorsolve moves them (``axes`` to the end), offset by ``nb``
    leading batch axes."""
    nd = np.ndim(a)
    order = list(range(nd))
    if axes is not None:
        for k in axes:
            order.remove(k % nd)
            order.append(k % nd)
    return list(range(nb)) + [nb + i for i in order]


def _tensorsolve_jvp_a(g, y, a, b, axes=None):
    """-A⁻¹ Ȧ x (flattened)"""
    gl = lead(g, a)
    at = np.transpose(a, _tensorsolve_setup(a, axes, 0))
    gt = np.transpose(g, _tensorsolve_setup(a, axes, len(gl)))
    nrow, ncol = int(np.prod(np.shape(b))), int(np.size(y))
    am = np.reshape(at, (nrow, ncol))
    gm = np.reshape(gt, gl + (nrow, ncol))
    rhs = gm @ np.reshape(y, (ncol, 1))
    return np.reshape(-_solve(am, rhs), gl + np.shape(y))


def _tensorsolve_jvp_b(g, y, a, b, axes=None):
    """A⁻¹ ḃ"""
    gl = lead(g, b)
    at = np.transpose(a, _tensorsolve_setup(a, axes, 0))
    nrow = int(np.prod(np.shape(b)))
    am = np.reshape(at, (nrow, -1))
    rhs = np.reshape(g, gl + (nrow, 1))
    return np.reshape(_solve(am, rhs), gl + np.shape(y))


defjvp(np.linalg.tensorsolve, _tensorsolve_jvp_a, _tensorsolve_jvp_b, kind=_LINALG,
       argnames=("a", "b", "axes"), domain=lambda s: s.tensorsolve_call(),
       note="singular: NumPy raises LinAlgError")


# ------------------------------------------------------------------ determinants
def _cofactors_3(a):
    """adj(A) of 3x3 matrices: its columns are cross products of A's rows."""
    r0, r1, r2 = a[..., 0, :], a[..., 1, :], a[..., 2, :]

    def cross(u, v):
        return np.stack([u[..., 1] * v[..., 2] - u[..., 2] * v[..., 1],
                         u[..., 2] * v[..., 0] - u[..., 0] * v[..., 2],
                         u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]], axis=-1)

    return np.stack([cross(r1, r2), cross(r2, r0), cross(r0, r1)], axis=-1)


def _adjugate(a, det):
    """adj(A), exact at singular A: polynomials for n <= 3; det · A⁻¹ for larger,
    well-conditioned A; from the SVD (adj A = ±V diag(Π_{j≠i} sⱼ) Uᵀ) otherwise."""
    n = np.shape(a)[-1]
    if n <= 1:  # det of a 1x1 matrix is its entry; of a 0x0 one, the constant 1
        return np.ones(np.shape(a), dtype=a.dtype)
    if n == 2:
        a00, a01, a10, a11 = a[..., 0, 0], a[..., 0, 1], a[..., 1, 0], a[..., 1, 1]
        return np.stack([np.stack([a11, -a01], axis=-1),
                         np.stack([-a10, a00], axis=-1)], axis=-2)
    if n == 3:
        return _cofactors_3(a)
    av = _value(a)
    with np.errstate(all="ignore"):
        cond = np.linalg.cond(av)
    if np.all(cond < 1 / np.sqrt(np.finfo(av.dtype).eps)):
        return np.expand_dims(det, (-2, -1)) * np.linalg.inv(a)
    u, s, vh = np.linalg.svd(a)
    sign = np.linalg.det(_value(u)) * np.linalg.det(_value(vh))  # ±1, locally constant
    others = _prod_others(s, (-1,), np.ndim(s))
    scaled_v = _T(vh) * np.expand_dims(others, -2)
    return np.expand_dims(sign, (-2, -1)).astype(av.dtype) * scaled_v @ _T(u)


def _det_jvp(g, y, a):
    """tr(adj(A) Ȧ)  (= det(A) tr(A⁻¹ Ȧ) where A is invertible)"""
    return np.sum(_T(_adjugate(a, y)) * g, axis=(-2, -1))


defjvp(np.linalg.det, _det_jvp, kind=_LINALG, domain=lambda s: s.det_call(),
       note="exact at singular A, tr(adj(A) Ȧ), as JAX (PyTorch's jvp gives 0 there); "
            "adj(A) by cofactors for n <= 3, else det·A⁻¹ or, near singular, from the "
            "SVD, whose second derivative there needs distinct singular values")


def _slogdet_tangent(out, primals, tangents, kwargs):
    """(0, tr(A⁻¹ Ȧ))"""
    a, g = primals[0], tangents[0]
    sign = out[0]
    singular = _value(sign) == 0
    if np.any(singular):
        # log|det| is -inf there and has no derivative: nan (JAX's value), the other
        # matrices of a stack are unaffected
        mask = np.expand_dims(singular, (-2, -1))
        a = np.where(mask, _eye(np.shape(a)[-1], a), a)
    t = np.sum(_T(np.linalg.inv(a)) * g, axis=(-2, -1))
    if np.any(singular):
        t = np.where(singular, np.nan, t)
    return [_zeros(lead(g, a), sign), t]


defjvp(np.linalg.slogdet, kind=_LINALG, multi_output=True, tangent=_slogdet_tangent,
       domain=lambda s: s.slogdet_call(),
       note="sign has tangent 0; singular A (sign 0, logabsdet -inf): nan, as JAX")


# ------------------------------------------------------------------ eigen
def _eigh_parts(g, w, v, lower):
    gs = _sym_seen(g, lower)
    m = _T(v) @ gs @ v
    return m, _diag(m)


def _eigh_tangent(out, primals, tangents, kwargs):
    """(diag(Vᵀ Ȧ V), V (F ∘ Vᵀ Ȧ V)), Fᵢⱼ = 1/(wⱼ - wᵢ)"""
    w, v = out[0], out[1]
    m, dw = _eigh_parts(tangents[0], w, v, _uplo(kwargs.get("UPLO", "L")))
    return [dw, v @ (_inv_gaps(w) * m)]


_EIGH_NOTE = ("reads one triangle (UPLO), so the other triangle's tangent is ignored; "
              "repeated eigenvalues: finite eigenvalue tangents, inf/nan eigenvector "
              "tangents (JAX)")
defjvp(np.linalg.eigh, kind=_LINALG, multi_output=True, tangent=_eigh_tangent,
       normalize=_kwargs_only(1, ("UPLO",)), domain=lambda s: s.eigh_call(),
       note=_EIGH_NOTE)


def _eigvalsh_jvp(g, y, a, UPLO="L"):
    """diag(Vᵀ Ȧ V)"""
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return np.sum(v * (_sym_seen(g, _uplo(UPLO)) @ v), axis=-2)


defjvp(np.linalg.eigvalsh, _eigvalsh_jvp, kind=_LINALG, argnames=("a", "UPLO"),
       domain=lambda s: s.eigh_call(values_only=True),
       note="reads one triangle (UPLO); finite at repeated eigenvalues (JAX)")


def _real_eig(fn):
    def primal(a):
        out = fn(a)
        w = out[0] if isinstance(out, tuple) else out
        if w.dtype.kind == "c":
            raise DTypeError(
                f"linalg.{fn.__name__}: this real matrix has complex eigenvalues "
                f"(e.g. {w[np.nonzero(w.imag)][0]!r}); complex results are outside "
                "dualnum's scope. For symmetric matrices use np.linalg.eigh")
        return out

    return primal


def _eig_tangent(out, primals, tangents, kwargs):
    """(diag(V⁻¹ Ȧ V), V (F ∘ V⁻¹ Ȧ V) less its part along each unit column)"""
    w, v = out[0], out[1]
    m = np.linalg.inv(v) @ tangents[0] @ v
    dv = v @ (_inv_gaps(w) * m)
    dv = dv - v * np.sum(v * dv, axis=-2, keepdims=True)  # NumPy's columns have norm 1
    return [_diag(m), dv]


defjvp(np.linalg.eig, kind=_LINALG, multi_output=True, tangent=_eig_tangent,
       primal=_real_eig(np.linalg.eig), domain=lambda s: s.eig_call(),
       note="real eigenvalues only (complex ones raise DTypeError); repeated "
            "eigenvalues: inf/nan eigenvector tangents (JAX)")


def _eigvals_jvp(g, y, a):
    """diag(V⁻¹ Ȧ V)"""
    w, v = np.linalg.eig(a)
    return _diag(np.linalg.inv(v) @ g @ v)


defjvp(np.linalg.eigvals, _eigvals_jvp, kind=_LINALG,
       primal=_real_eig(np.linalg.eigvals), domain=lambda s: s.eig_call(values_only=True),
       note="real eigenvalues only (complex ones raise DTypeError)")


# ------------------------------------------------------------------ svd
def _svd_values_dot(u, vh, g):
    """ṡ = diag(Uᵀ Ȧ V)"""
    return np.sum(u * (g @ _T(vh)), axis=-2)


def _svd_reduced_dot(u, s, vh, g):
    """Tangents of the thin SVD A = U diag(s) Vh (Townsend's forward rule)."""
    m, n = np.shape(u)[-2], np.shape(vh)[-1]
    v = _T(vh)
    p = _T(u) @ g @ v
    ds = _diag(p)
    s_row, s_col = np.expand_dims(s, -2), np.expand_dims(s, -1)
    f = _inv_gaps(s * s)
    pt = _T(p)
    du = u @ (f * (p * s_row + s_col * pt))
    dv = v @ (f * (s_col * p + pt * s_row))
    if m != n:
        zero = (_value(s) == 0).astype(_value(s).dtype)
        s_inv = np.expand_dims(1 / (s + zero) - zero, -2)  # 1/0 read as 0 (JAX)
        if m > n:
            du = du + (g @ v - u @ p) * s_inv
        else:
            dv = dv + (_T(g) @ u - v @ pt) * s_inv
    return du, ds, _T(dv)


def _complement_dot(q1, dq1, q2):
    """dQ₂ for an orthonormal completion Q₂ of Q₁: the smallest rotation keeping it
    orthogonal to Q₁ (Q₂ᵀ dQ₂ = 0)."""
    return -(q1 @ (_T(dq1) @ q2))


def _svd_tangent(out, primals, tangents, kwargs):
    """(U(F∘(PS + SPᵀ)) + (I - UUᵀ)ȦVS⁻¹, diag P, likewise for Vᵀ), P = UᵀȦV"""
    a, g = primals[0], tangents[0]
    if not kwargs.get("compute_uv", True):
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        return _svd_values_dot(u, vh, g)
    u, s, vh = out[0], out[1], out[2]
    m, n = np.shape(a)[-2:]
    k = min(m, n)
    full = kwargs.get("full_matrices", True)
    u1 = u[..., :, :k] if full and m > k else u
    vh1 = vh[..., :k, :] if full and n > k else vh
    du, ds, dvh = _svd_reduced_dot(u1, s, vh1, g)
    if full and m > k:
        du = np.concatenate([du, _complement_dot(u1, du, u[..., :, k:])], axis=-1)
    if full and n > k:
        v1 = _T(vh1)
        dv2 = _complement_dot(v1, _T(dvh), _T(vh[..., k:, :]))
        dvh = np.concatenate([dvh, _T(dv2)], axis=-2)
    return [du, ds, dvh]


def _svd_primal(a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        raise TypeError("linalg.svd(hermitian=True) is not supported with Duals: use "
                        "hermitian=False (the same factors up to signs) or np.linalg.eigh")
    return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


defjvp(np.linalg.svd, kind=_LINALG, multi_output=True, tangent=_svd_tangent,
       primal=_svd_primal,
       normalize=_kwargs_only(1, ("full_matrices", "compute_uv", "hermitian")),
       domain=lambda s: s.svd_call(),
       note="repeated singular values: finite s tangent, inf/nan U, Vh tangents; zero "
            "singular values of non-square A: 1/s read as 0 (JAX); "
            "full_matrices=True, non-square: the extra columns move by the smallest "
            "rotation (JAX raises; PyTorch gives them 0, which breaks orthogonality)")


def _svdvals_jvp(g, y, x):
    """diag(Uᵀ Ȧ V)"""
    u, _, vh = np.linalg.svd(x, full_matrices=False)
    return _svd_values_dot(u, vh, g)


if hasattr(np.linalg, "svdvals"):  # NumPy >= 2
    defjvp(np.linalg.svdvals, _svdvals_jvp, kind=_LINALG,
           domain=lambda s: s.svdvals_call(),
           note="finite at repeated singular values (the vectors LAPACK returns, as JAX)")


# ------------------------------------------------------------------ cholesky, qr
def _cholesky_jvp(g, y, a, *, upper=False):
    """L Φ(L⁻¹ Ȧ L⁻ᵀ), Φ: the lower triangle with the diagonal halved"""
    low = _T(y) if upper else y
    n = np.shape(a)[-1]
    li = np.linalg.inv(low)
    z = li @ _sym_seen(g, lower=not upper) @ _T(li)
    phi = np.tril(np.ones((n, n), dtype=y.dtype), -1) + 0.5 * _eye(n, y)
    dl = low @ (z * phi)
    return _T(dl) if upper else dl


def _cholesky_primal(a, *, upper=False):
    return np.linalg.cholesky(a, upper=True) if upper else np.linalg.cholesky(a)


defjvp(np.linalg.cholesky, _cholesky_jvp, kind=_LINALG, primal=_cholesky_primal,
       domain=lambda s: s.cholesky_call(),
       note="reads one triangle (lower, or upper with upper=True); not positive "
            "definite: NumPy raises LinAlgError")


def _qr_square_dot(q, r, g):
    """Q̇, Ṙ for A = QR with R square and invertible (A has full column rank)."""
    k = np.shape(r)[-1]
    rinv = np.linalg.inv(r)
    x = _T(q) @ g @ rinv
    low = x * np.tril(np.ones((k, k), dtype=r.dtype), -1)
    omega = low - _T(low)
    dr = (x - omega) @ r
    dq = q @ omega
    if np.shape(q)[-2] > k:
        dq = dq + (g @ rinv - q @ x)
    return dq, dr


def _qr_dot(q, r, a, g):
    """Q̇, Ṙ of the reduced QR of A (m x n, full rank)."""
    m, n = np.shape(a)[-2:]
    if m >= n:
        return _qr_square_dot(q, r, g)
    dq, dr1 = _qr_square_dot(q, r[..., :, :m], g[..., :, :m])
    dr2 = _T(dq) @ a[..., :, m:] + _T(q) @ g[..., :, m:]
    return dq, np.concatenate([dr1, dr2], axis=-1)


def _qr_tangent(out, primals, tangents, kwargs):
    """(QΩ + (I - QQᵀ)ȦR⁻¹, (QᵀȦR⁻¹ - Ω)R), Ω antisymmetric, from QᵀȦR⁻¹ below its diagonal"""
    a, g = primals[0], tangents[0]
    mode = kwargs.get("mode", "reduced")
    if mode == "r":
        q, r = np.linalg.qr(a)
        return _qr_dot(q, r, a, g)[1]
    q, r = out[0], out[1]
    m, n = np.shape(a)[-2:]
    if mode == "complete" and m > n:
        q1, r1 = q[..., :, :n], r[..., :n, :]
        dq, dr = _qr_dot(q1, r1, a, g)
        dq = np.concatenate([dq, _complement_dot(q1, dq, q[..., :, n:])], axis=-1)
        pad = [(0, 0)] * (dr.ndim - 2) + [(0, m - n), (0, 0)]
        return [dq, np.pad(dr, pad)]
    return list(_qr_dot(q, r, a, g))


def _qr_primal(a, mode="reduced"):
    if mode not in ("reduced", "complete", "r"):
        raise TypeError(f"linalg.qr(mode={mode!r}) is not supported with Duals "
                        "(supported: 'reduced', 'complete', 'r')")
    return np.linalg.qr(a, mode=mode)


defjvp(np.linalg.qr, kind=_LINALG, multi_output=True, tangent=_qr_tangent,
       primal=_qr_primal, normalize=_kwargs_only(1, ("mode",)),
       domain=lambda s: s.qr_call(),
       note="needs full rank (R⁻¹): inf/nan otherwise, as JAX; mode='complete' with "
            "m > n: the extra columns of Q move by the smallest rotation (JAX and "
            "PyTorch raise)")


# ------------------------------------------------------------------ pinv, lstsq
def _pinv_dot(p, a, g):
    """Ṗ = -P Ȧ P + P Pᵀ Ȧᵀ (I - A P) + (I - P A) Ȧᵀ Pᵀ P (constant rank)."""
    gt = _T(g)
    t = -(p @ g @ p)
    ppt = p @ _T(p)
    u = ppt @ gt
    t = t + u - (u @ a) @ p
    w = gt @ (_T(p) @ p)
    return t + w - p @ (a @ w)


def _pinv_jvp(g, y, a, rcond=None, hermitian=False, **kw):
    """-P Ȧ P + P Pᵀ Ȧᵀ (I - A P) + (I - P A) Ȧᵀ Pᵀ P"""
    if hermitian:  # NumPy reads the lower triangle only
        g, a = _sym_seen(g, lower=True), _sym_seen(a, lower=True)
    return _pinv_dot(y, a, g)


def _pinv_primal(a, rcond=None, hermitian=False, **kw):
    if rcond is not None:
        kw["rcond"] = rcond
    return np.linalg.pinv(a, hermitian=hermitian, **kw)


defjvp(np.linalg.pinv, _pinv_jvp, kind=_LINALG, primal=_pinv_primal,
       argnames=("a", "rcond", "hermitian"), domain=lambda s: s.pinv_call(),
       note="the constant-rank derivative (as JAX); where the rank changes pinv is "
            "discontinuous")


def _lstsq_tangent(out, primals, tangents, kwargs):
    """(Ṗb + Pḃ, 2 Σ r (ḃ - Ȧx), -, diag(Uᵀ Ȧ V)), P = A⁺, r = b - Ax"""
    a, b = primals[0], primals[1]
    ga, gb = tangents[0], tangents[1] if len(tangents) > 1 else None
    x, res = out[0], out[1]
    vec = np.ndim(b) == 1
    col = (lambda t: np.expand_dims(t, -1)) if vec else (lambda t: t)
    rcond = kwargs.get("rcond")
    p = np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond)
    xm = col(x)
    dx = None
    drhs = None  # ḃ - Ȧ x, for the residuals
    if gb is not None:
        dx = p @ col(gb)
        drhs = col(gb)
    ds = None
    if ga is not None:
        r = col(b) - a @ xm
        gt = _T(ga)
        ptx = _T(p) @ xm
        w = gt @ ptx
        ta = -(p @ (ga @ xm)) + p @ (_T(p) @ (gt @ r)) + w - p @ (a @ w)
        dx = ta if dx is None else dx + ta
        drhs = -(ga @ xm) if drhs is None else drhs - ga @ xm
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        ds = _svd_values_dot(u, vh, ga)
    gl = lead(ga, a) if ga is not None else lead(gb, b)
    dres = _zeros(gl, res)
    if np.size(res):
        dres = 2 * np.sum((col(b) - a @ xm) * drhs, axis=-2)
    if ds is None:
        ds = _zeros(gl, out[3])
    return [dx[..., 0] if vec else dx, dres, _zeros(gl, np.float64(0)), ds]


def _lstsq_primal(a, b, rcond=None):
    return np.linalg.lstsq(a, b, rcond=rcond)


defjvp(np.linalg.lstsq, kind=_LINALG, multi_output=True, tangent=_lstsq_tangent,
       primal=_lstsq_primal, normalize=_kwargs_only(2, ("rcond",)),
       domain=lambda s: s.lstsq_call(),
       note="x through the constant-rank pinv derivative; rank is an int (no tangent)")


# ------------------------------------------------------------------ powers, products
def _matrix_power_jvp(g, y, a, n):
    """Σᵢ Aⁱ Ȧ Aⁿ⁻¹⁻ⁱ (by the squarings of the power; A⁻¹ for n < 0)"""
    n = int(n)
    if n == 0:
        return None
    z, dz = a, g
    if n < 0:
        z = np.linalg.inv(a)
        dz = -(z @ g @ z)
        n = -n
    acc = dacc = None
    while True:
        if n & 1:
            if acc is None:
                acc, dacc = z, dz
            else:
                dacc = dacc @ z + acc @ dz
                acc = acc @ z
        n >>= 1
        if not n:
            return dacc
        dz = dz @ z + z @ dz
        z = z @ z


defjvp(np.linalg.matrix_power, _matrix_power_jvp, kind=_LINALG, argnames=("a", "n"),
       domain=lambda s: s.matrix_power_call(),
       note="n < 0 through A⁻¹: singular A raises LinAlgError, as NumPy")


def _multi_dot_jvp(gs, y, arrays, *, out=None):
    """ẏ = Σᵢ A₁ ⋯ Ȧᵢ ⋯ Aₙ"""
    mats = list(arrays)
    first_vec, last_vec = np.ndim(mats[0]) == 1, np.ndim(mats[-1]) == 1
    if first_vec:
        mats[0] = np.reshape(mats[0], (1, -1))
    if last_vec:
        mats[-1] = np.reshape(mats[-1], (-1, 1))
    n = len(mats)
    left = [None] * n
    for i in range(1, n):
        left[i] = mats[0] if i == 1 else left[i - 1] @ mats[i - 1]
    right = [None] * n
    for i in range(n - 2, -1, -1):
        right[i] = mats[n - 1] if i == n - 2 else mats[i + 1] @ right[i + 1]
    total = None
    gl = ()
    for i, g in enumerate(gs):
        if g is None:
            continue
        gl = lead(g, arrays[i])
        t = np.reshape(g, gl + np.shape(mats[i]))
        if left[i] is not None:
            t = left[i] @ t
        if right[i] is not None:
            t = t @ right[i]
        total = t if total is None else total + t
    return None if total is None else np.reshape(total, gl + np.shape(y))


def _multi_dot_primal(arrays, *, out=None):
    if out is not None:
        raise TypeError("linalg.multi_dot(out=...) is not supported with Duals")
    return np.linalg.multi_dot(arrays)


defjvp(np.linalg.multi_dot, _multi_dot_jvp, kind=_LINALG, seq_arg=True,
       primal=_multi_dot_primal, domain=lambda s: s.multi_dot_call())


# ------------------------------------------------------------------ norms
def _norm_kind(x, ord, axis):
    """('vec', axes, p) or ('mat', (row, col), ord), axes negative (batch-proof)."""
    nd = np.ndim(x)
    if axis is None:
        if ord is None:
            return "vec", tuple(range(-nd, 0)), 2
        if nd == 1:
            return "vec", (-1,), ord
        return "mat", (-2, -1), ord
    ax = trailing_axes(axis, nd)
    ax = (ax,) if isinstance(ax, int) else tuple(ax)
    if len(ax) == 1:
        return "vec", ax, 2 if ord is None else ord
    return "mat", ax, "fro" if ord is None else ord


def _vector_norm_dot(g, y, x, p, ax, keepdims):
    """ẏ for the vector p-norm over the (negative) axes ``ax``."""
    def total(t):
        return np.sum(t, axis=ax, keepdims=keepdims)

    if p == 0:
        return None  # counts non-zeros: piecewise constant
    if p == 2:
        return total(x * g) / y
    if p == 1:
        return total(np.sign(x) * g)
    if p in (np.inf, -np.inf):
        yk = y if keepdims else np.expand_dims(y, ax)
        hit = np.abs(x) == yk
        return total(np.where(hit, np.sign(x) * g, 0)) / total(hit)
    p = float(p)
    w = np.sign(x) * np.abs(x) ** (p - 1)
    return total(w * g) / y ** (p - 1)


def _pick_share(t, score, best, axis):
    """Mean of ``t`` over the positions along ``axis`` where ``score == best``: ties
    share the derivative equally, as np.max's rule does."""
    hit = score == best
    return np.sum(np.where(hit, t, 0), axis=axis, keepdims=True) / \
        np.sum(hit, axis=axis, keepdims=True)


def _matrix_norm_dot(g, y, x, ord, ax, keepdims):
    """ẏ for a matrix norm over the (negative) axes ``ax`` = (row, col)."""
    if ord == "fro":
        return _vector_norm_dot(g, y, x, 2, ax, keepdims)
    row, col = ax
    yk = y if keepdims else np.expand_dims(y, ax)
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        sums = np.sum(np.abs(x), axis=inner, keepdims=True)
        t = _pick_share(np.sum(np.sign(x) * g, axis=inner, keepdims=True), sums, yk, outer)
        return t if keepdims else np.squeeze(t, axis=ax)
    if ord not in ("nuc", 2, -2):
        raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    xm = np.moveaxis(x, ax, (-2, -1))
    gm = np.moveaxis(g, ax, (-2, -1))
    u, _, vh = np.linalg.svd(xm, full_matrices=False)
    if ord == "nuc":
        t = np.sum((u @ vh) * gm, axis=(-2, -1))
    else:
        i = 0 if ord == 2 else -1
        t = np.sum(u[..., :, i] * (gm @ vh[..., i, :, None])[..., 0], axis=-1)
    return np.expand_dims(t, ax) if keepdims else t


def _norm_dot(g, y, x, ord, axis, keepdims):
    kind, ax, p = _norm_kind(x, ord, axis)
    if kind == "vec":
        return _vector_norm_dot(g, y, x, p, ax, keepdims)
    return _matrix_norm_dot(g, y, x, p, ax, keepdims)


def _norm_jvp(g, y, x, ord=None, axis=None, keepdims=False):
    """Σ sign(x)|x|^(p-1) ẋ / y^(p-1); Σ (U Vᵀ)∘Ẋ (nuclear); u₁ᵀ Ẋ v₁ (spectral)"""
    return _norm_dot(g, y, x, ord, axis, keepdims)


_NORM_NOTE = ("2-norm at 0: nan (JAX); ord=±inf and matrix ord=±1, ±inf: ties share "
              "the derivative equally (np.max's rule); ord=2, -2, 'nuc': the singular "
              "vectors LAPACK returns (JAX)")
defjvp(np.linalg.norm, _norm_jvp, kind=_LINALG, argnames=("x", "ord", "axis", "keepdims"),
       domain=lambda s: s.linalg_norm_call(), name="linalg.norm", note=_NORM_NOTE)


def _matrix_norm_jvp(g, y, x, *, keepdims=False, ord="fro"):
    """linalg.norm's rule over the last two axes"""
    return _norm_dot(g, y, x, ord, (-2, -1), keepdims)


if hasattr(np.linalg, "matrix_norm"):  # NumPy >= 2
    defjvp(np.linalg.matrix_norm, _matrix_norm_jvp, kind=_LINALG,
           domain=lambda s: s.matrix_norm_call(), note=_NORM_NOTE)


def _vector_norm_jvp(g, y, x, *, axis=None, keepdims=False, ord=2):
    """Σ sign(x)|x|^(p-1) ẋ / y^(p-1) over axis (all axes by default)"""
    nd = np.ndim(x)
    ax = tuple(range(-nd, 0)) if axis is None else trailing_axes(axis, nd)
    ax = (ax,) if isinstance(ax, int) else tuple(ax)
    return _vector_norm_dot(g, y, x, ord, ax, keepdims)


if hasattr(np.linalg, "vector_norm"):
    defjvp(np.linalg.vector_norm, _vector_norm_jvp, kind=_LINALG,
           domain=lambda s: s.vector_norm_call(), note=_NORM_NOTE)


def _cond_jvp(g, y, x, p=None):
    """y (ṡ₁/s₁ - ṡₙ/sₙ) for p in (None, ±2); d(‖X‖ ‖X⁻¹‖) otherwise"""
    if p in (None, 2, -2):
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        ds = _svd_values_dot(u, vh, g)
        hi, lo = (0, -1) if p != -2 else (-1, 0)
        return y * (ds[..., hi] / s[..., hi] - ds[..., lo] / s[..., lo])
    xi = np.linalg.inv(x)
    ax = (-2, -1)
    n1 = np.linalg.norm(x, ord=p, axis=ax)
    n2 = np.linalg.norm(xi, ord=p, axis=ax)
    d1 = _norm_dot(g, n1, x, p, ax, False)
    d2 = _norm_dot(-(xi @ g @ xi), n2, xi, p, ax, False)
    return d1 * n2 + n1 * d2


defjvp(np.linalg.cond, _cond_jvp, kind=_LINALG, argnames=("x", "p"),
       domain=lambda s: s.cond_call(),
       note="as the norms it is made of; singular x: inf, as NumPy")

defjvp(np.linalg.matrix_rank, kind="query")
