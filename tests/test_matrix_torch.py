"""Cross-check: the np.linalg and numeric rules against PyTorch's forward mode
(torch.func.jvp, float64) on the same inputs and tangents. Eigen- and singular vectors
are compared after lining up each vector's sign (both are right; LAPACK drivers may
pick opposite signs)."""
import numpy as np
import pytest

import dualnum as dn

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
torch = pytest.importorskip("torch")
from torch.func import jvp as torch_jvp  # noqa: E402


def _t(x):
    return torch.tensor(np.asarray(x), dtype=torch.float64)


def _np(x):
    if isinstance(x, (tuple, list)):
        return [_np(e) for e in x]
    return x.detach().numpy()


def both(np_f, torch_f, xs, seed=0, symmetric=False):
    rng = np.random.default_rng(seed)
    vs = tuple(rng.standard_normal(np.shape(x)) for x in xs)
    if symmetric:  # PyTorch reads the tangent as symmetric; NumPy reads one triangle
        vs = tuple(v + np.swapaxes(v, -1, -2) for v in vs)
    ours = dn.jvp(np_f, xs, vs)
    theirs = torch_jvp(torch_f, tuple(_t(x) for x in xs), tuple(_t(v) for v in vs))
    return ours, (_np(theirs[0]), _np(theirs[1]))


def close(a, b, rtol=1e-8, atol=1e-10):
    for x, y in zip(dn.core.pytree.flatten(a)[0], dn.core.pytree.flatten(b)[0]):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


R = np.random.default_rng(3)
SQ = R.standard_normal((2, 4, 4)) + 3 * np.eye(4)
TALL = R.standard_normal((2, 5, 3))
SPD = (lambda m: m @ np.swapaxes(m, -1, -2) + 4 * np.eye(4))(R.standard_normal((2, 4, 4)))
B = R.standard_normal((2, 4, 2))
L = torch.linalg

CASES = {
    "inv": (np.linalg.inv, L.inv, (SQ,)),
    "solve": (np.linalg.solve, L.solve, (SQ, B)),
    "det": (np.linalg.det, L.det, (SQ,)),
    "det_small": (np.linalg.det, L.det, (SQ[:, :3, :3],)),
    "slogdet": (lambda a: np.linalg.slogdet(a)[1], lambda a: L.slogdet(a)[1], (SQ,)),
    "eigvalsh": (np.linalg.eigvalsh, L.eigvalsh, (SPD,)),
    "svdvals": (np.linalg.svdvals, L.svdvals, (TALL,)),
    "cholesky": (np.linalg.cholesky, L.cholesky, (SPD,)),
    "qr": (lambda a: tuple(np.linalg.qr(a)), lambda a: tuple(L.qr(a)), (TALL,)),
    "pinv": (np.linalg.pinv, L.pinv, (TALL,)),
    "lstsq": (lambda a, b: np.linalg.lstsq(a, b)[0], lambda a, b: L.lstsq(a, b).solution,
              (TALL[0], R.standard_normal((5, 2)))),
    "matrix_power": (lambda a: np.linalg.matrix_power(a, -3),
                     lambda a: L.matrix_power(a, -3), (SQ,)),
    "multi_dot": (lambda a, b, c: np.linalg.multi_dot([a, b, c]),
                  lambda a, b, c: L.multi_dot([a, b, c]),
                  (R.standard_normal((3, 4)), R.standard_normal((4, 5)), R.standard_normal(5))),
    "kron": (np.kron, torch.kron, (R.standard_normal((2, 3)), R.standard_normal((3, 2)))),
    "cross": (lambda a, b: np.cross(a, b, axis=0), lambda a, b: L.cross(a, b, dim=0),
              (R.standard_normal((3, 4)), R.standard_normal((3, 4)))),
    "cov": (lambda m: np.cov(m, fweights=[1, 2, 1, 3, 1], aweights=[1, .5, 2, 1, 1]),
            lambda m: torch.cov(m, fweights=torch.tensor([1, 2, 1, 3, 1]),
                                aweights=_t([1, .5, 2, 1, 1])),
            (R.standard_normal((3, 5)),)),
    "corrcoef": (np.corrcoef, torch.corrcoef, (R.standard_normal((3, 5)),)),
    "trapezoid": (lambda y, x: np.trapezoid(y, x, axis=0),
                  lambda y, x: torch.trapezoid(y, x, dim=0),
                  (R.standard_normal((4, 3)), np.sort(R.standard_normal(4)))),
    "vander": (lambda x: np.vander(x, 4, increasing=True), lambda x: L.vander(x, N=4),
               (R.standard_normal(3),)),
    "einsum": (lambda a, b: np.einsum("bij,bjk->bik", a, b),
               lambda a, b: torch.einsum("bij,bjk->bik", a, b), (SQ, B)),
}
for _o in (2, 1, np.inf, -np.inf, 0, 3, 0.5, -1):
    CASES[f"vector_norm_{_o}"] = (lambda x, o=_o: np.linalg.vector_norm(x, ord=o, axis=-1),
                                  lambda x, o=_o: L.vector_norm(x, ord=o, dim=-1),
                                  (R.uniform(0.5, 2, (3, 4)) * np.array([1, -1, 1, -1]),))
for _o in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
    CASES[f"matrix_norm_{_o}"] = (lambda x, o=_o: np.linalg.matrix_norm(x, ord=o),
                                  lambda x, o=_o: L.matrix_norm(x, ord=o), (TALL,))
    CASES[f"cond_{_o}"] = (lambda x, o=_o: np.linalg.cond(x, o), lambda x, o=_o: L.cond(x, o),
                           (SQ,))


SYMMETRIC = {"eigvalsh", "cholesky"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    np_f, torch_f, xs = CASES[name]
    (y, t), (ty, tt) = both(np_f, torch_f, xs, symmetric=name in SYMMETRIC)
    close(y, ty)
    close(t, tt, rtol=1e-7, atol=1e-9)


def _signs(ours, theirs, axis):
    return np.sign(np.sum(ours * theirs, axis=axis, keepdims=True))


def test_eigh_matches_pytorch_up_to_signs():
    d = SPD[::-1].copy()  # a symmetric tangent
    (w, v), (dw, dv) = dn.jvp(lambda a: tuple(np.linalg.eigh(a)), (SPD,), (d,))
    (tw, tv), (tdw, tdv) = torch_jvp(lambda a: tuple(L.eigh(a)), (_t(SPD),), (_t(d),))
    s = _signs(v, _np(tv), -2)
    close((w, v, dw, dv), (_np(tw), s * _np(tv), _np(tdw), s * _np(tdv)))


@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 3, 5), (4, 4)])
def test_thin_svd_matches_pytorch_up_to_signs(shape):
    x = np.random.default_rng(5).standard_normal(shape)
    v = np.random.default_rng(6).standard_normal(shape)
    (u, s, vh), (du, ds, dvh) = dn.jvp(lambda a: tuple(np.linalg.svd(a, full_matrices=False)),
                                       (x,), (v,))
    theirs = torch_jvp(lambda a: tuple(L.svd(a, full_matrices=False)), (_t(x),), (_t(v),))
    (tu, ts, tvh), (tdu, tds, tdvh) = [_np(p) for p in theirs]
    su = _signs(u, tu, -2)
    close((u, s, vh, du, ds, dvh),
          (su * tu, ts, np.swapaxes(su, -1, -2) * tvh, su * tdu, tds,
           np.swapaxes(su, -1, -2) * tdvh), rtol=1e-7, atol=1e-9)
