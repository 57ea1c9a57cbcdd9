r"""Multi-tangent combinations: K directional derivatives d_k = ∇f·v_k into one estimate.

* ``"mean"`` (Baydin et al. 2022): ĝ = (1/K) Σ_k d_k v_k = (1/K) V Vᵀ ∇f. Unbiased when
  E[v vᵀ] = I, with E‖ĝ − ∇f‖² = (n + κ − 2)‖∇f‖²/K for n coordinates and fourth moment
  κ (see :mod:`dualnum.fgrad.diagnostics`).
* ``"projection"`` (Flügel, Fischer, Wahl, Sacher, Tischler, Ghatak, "Beyond
  Backpropagation: Optimization with Multi-Tangent Forward Gradients", IJCNN 2025):
  ĝ = V (VᵀV)⁺ d, the orthogonal projection of ∇f onto the span of the K tangents, the
  point of that span closest to ∇f. Its error is never larger than ‖∇f‖ (the mean's
  grows like n/K), and it is **exact** as soon as the tangents span the space (K ≥ n).
  For rotation-invariant directions E[ĝ] = (K/n) ∇f: the estimate is shrunk, not
  unbiased; (n/K) ĝ is unbiased with E‖(n/K)ĝ − ∇f‖² = (n/K − 1)‖∇f‖², below the
  mean's (n + 1)/K ‖∇f‖² for normal directions.

``(VᵀV)⁺`` is a pseudo-inverse in float64, so linearly dependent tangents (K > n, or
repeated sign vectors) still give the projection onto their span.

>>> import numpy as np
>>> from dualnum.fgrad.combine import project
>>> g = np.array([1.0, -2.0, 0.5])
>>> V = np.random.default_rng(0).standard_normal((3, 3))  # K = n = 3: spans everything
>>> np.allclose(project(V, V @ g), g)
True
"""
from __future__ import annotations

import numpy as np

__all__ = ["mean", "project", "project_per_example", "mean_per_example"]


def mean(v, d):
    """(1/K) Σ_k d[k] v[k] for directions ``v`` (K, ...) and ``d`` (K,)."""
    k = d.shape[0]
    return np.tensordot((d / k).astype(v.dtype), v, axes=1)


def project_weights(gram, d):
    """The weights c = (VᵀV)⁺ d of ĝ = Σ_k c_k v_k, from the Gram matrix ``gram`` (K, K)
    of the directions (float64)."""
    return np.linalg.pinv(gram, hermitian=True) @ np.asarray(d, np.float64)


def project(v, d):
    """V (VᵀV)⁺ d for directions ``v`` (K, ...) and ``d`` (K,): the projection of the
    gradient onto the span of the directions."""
    k = v.shape[0]
    flat = np.asarray(v, np.float64).reshape(k, -1)
    c = project_weights(flat @ flat.T, d)
    return np.tensordot(c.astype(v.dtype), v, axes=1)


def mean_per_example(u, d):
    """Per example b: (1/K) Σ_k d[k, b] u[k, b], for ``u`` (K, B, ...) and ``d`` (K, B)."""
    k = d.shape[0]
    w = (d / k).astype(u.dtype)
    return np.einsum("kb,kb...->b...", w, u)


def project_per_example(u, d):
    """Per example b: U_b (U_bᵀU_b)⁺ d[:, b], with U_b the K directions of example b:
    ``u`` (K, B, ...), ``d`` (K, B). One K×K pseudo-inverse per example."""
    k, b = d.shape
    flat = np.moveaxis(np.asarray(u).reshape(k, b, -1), 1, 0)  # (B, K, n)
    f64 = flat.astype(np.float64)
    gram = f64 @ np.swapaxes(f64, 1, 2)  # (B, K, K)
    c = np.linalg.pinv(gram, hermitian=True) @ np.asarray(d, np.float64).T[:, :, None]
    out = (np.swapaxes(f64, 1, 2) @ c)[:, :, 0]  # (B, n)
    return out.astype(u.dtype).reshape(u.shape[1:])
