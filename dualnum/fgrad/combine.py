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

The K×K systems are solved in float64; linearly dependent tangents (K > n, or repeated
sign vectors) fall back to the pseudo-inverse (VᵀV)⁺, which still gives the projection
onto their span.

>>> import numpy as np
>>> from dualnum.fgrad.combine import project
>>> g = np.array([1.0, -2.0, 0.5])
>>> V = np.random.default_rng(0).standard_normal((3, 3))  # K = n = 3: spans everything
>>> np.allclose(project(V, V @ g), g)
True
"""
from __future__ import annotations

import numpy as np

from .structured import LowRank, WeightedSum

__all__ = ["mean", "project", "project_per_example", "mean_per_example", "weighted",
           "estimate"]


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
    flat = np.moveaxis(np.asarray(u).reshape(k, b, -1), 1, 0)  # (B, K, n), a view
    gram = (flat @ np.swapaxes(flat, 1, 2)).astype(np.float64)  # (B, K, K)
    rhs = np.asarray(d, np.float64).T[:, :, None]
    try:
        c = np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:  # dependent directions (K > n, repeated signs)
        c = np.linalg.pinv(gram, hermitian=True) @ rhs
    out = np.swapaxes(flat, 1, 2) @ c.astype(flat.dtype)  # (B, n, 1)
    return out[:, :, 0].reshape(u.shape[1:])


def weighted(v, w, dense=True):
    """Σ_k w[k] v[k] for one parameter's directions ``v`` (K, ...) (an array or a batched
    LowRank); unless ``dense``, left unformed (a WeightedSum or summed LowRank) so that
    ``dn.optim.SGD`` applies it within the update's own pass."""
    if isinstance(v, LowRank):
        g = LowRank(v.a * w[:, None].astype(v.a.dtype), v.b, batched=False)
    else:
        g = WeightedSum(np.asarray(w).astype(v.dtype), v)
    return g.dense() if dense else g


def estimate(d, vs, dense=True):
    """The mean estimate (1/K) Σ_k d[k] v_k for each parameter's directions in ``vs``
    (as :func:`dualnum.fgrad.directions.sample_directions` draws them).

    >>> import numpy as np
    >>> from dualnum.fgrad.combine import estimate
    >>> estimate(np.array([2.0, 4.0]), [np.array([[1.0, 0.0], [0.0, 1.0]])])
    [array([1., 2.])]
    """
    w = np.asarray(d, np.float64) / d.shape[0]
    return [weighted(v, w, dense) for v in vs]
