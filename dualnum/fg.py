"""Forward gradients (Baydin, Pearlmutter, Syme, Wood, Torr 2022).

For random directions v with E[v vᵀ] = I, (∇f·v) v is an unbiased estimate of ∇f:
E[(∇f·v) v] = E[v vᵀ] ∇f = ∇f. One batched forward pass gives ∇f·v_k for K directions.

Distributions (each has E[v] = 0 and E[v vᵀ] = I):

* ``"normal"``: v ~ N(0, I), the paper's choice; sampled by a parallel, counter-based
  ziggurat (dualnum.kernels.sampling), reproducible for a seed on any thread count.
* ``"rademacher"``: independent ±1 signs, 64 per raw 64-bit draw (a numba kernel). Lower variance than
  normal (E[v⁴] = 1 instead of 3).
* ``"outer"``: for every matrix parameter W (n×m), a rank-one V = a bᵀ with independent
  a ~ N(0, Iₙ), b ~ N(0, Iₘ); other parameters get normal directions. E[V_ij V_kl] =
  δ_ik δ_jl, so the estimate stays unbiased, but its variance is higher (E[V_ij⁴] = 9).
  It is much cheaper: n + m samples per matrix instead of n·m, ``x @ V`` costs O(B(n+m))
  instead of a GEMM (dualnum.lowrank), and the update is a rank-K update.
"""
from __future__ import annotations

import numpy as np

from .core.dual import as_float_array
from .core.errors import ShapeError
from .core.pytree import flatten, unflatten
from .lowrank import LowRank, WeightedSum
from .transforms import jvp


def _normal(rng, k, shape, dtype):
    from .kernels.sampling import normal

    return normal(rng, (k,) + shape, dtype)


def _rademacher(rng, k, shape, dtype):
    from .kernels.sampling import rademacher

    return rademacher(rng, (k,) + shape, dtype)


def _outer(rng, k, shape, dtype):
    if len(shape) != 2:
        return _normal(rng, k, shape, dtype)
    n, m = shape
    return LowRank(rng.standard_normal((k, n), dtype=dtype),
                   rng.standard_normal((k, m), dtype=dtype), batched=True)


#: name -> sampler(rng, K, shape, dtype) returning K directions for one parameter.
DISTRIBUTIONS = {"normal": _normal, "rademacher": _rademacher, "outer": _outer}


def sample_directions(rng, leaves, k, distribution):
    """K random directions for each parameter leaf (see DISTRIBUTIONS)."""
    try:
        draw = DISTRIBUTIONS[distribution]
    except KeyError:
        raise ValueError(f"unknown distribution {distribution!r}; choose from "
                         f"{sorted(DISTRIBUTIONS)}") from None
    return [draw(rng, k, x.shape, x.dtype) for x in leaves]


def directional_derivatives(f, params, *, rng, n_directions=1, distribution="normal"):
    """``(f(params), d, vs, treedef, leaves)``: d[k] = ∇f·v_k for K sampled directions,
    in one batched forward pass. The building block of :func:`forward_gradient`."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                        "use numpy.random.default_rng(seed)")
    if isinstance(n_directions, bool) or not isinstance(n_directions, (int, np.integer)) \
            or n_directions < 1:
        raise ValueError(f"n_directions must be a positive integer, got {n_directions!r}")
    leaves, td = flatten(params)
    leaves = [as_float_array(x, "params leaf") for x in leaves]
    k = int(n_directions)
    vs = sample_directions(rng, leaves, k, distribution)
    value, d = jvp(f, (unflatten(td, leaves),), (unflatten(td, vs),), batched=True)
    value = np.asarray(value)
    if value.shape != ():
        raise ShapeError(f"forward_gradient needs f to return a scalar, got shape {value.shape}")
    return value, np.asarray(d).reshape(k), vs, td, leaves


def estimate(d, vs, dense=True):
    """mean_k d[k] v_k for each leaf. Unless ``dense``, the sums stay unformed
    (LowRank, WeightedSum) so that dn.optim.SGD applies each in the update's own pass."""
    k = d.shape[0]
    w = d / k
    out = []
    for v in vs:
        if isinstance(v, LowRank):
            g = LowRank(v.a * w[:, None].astype(v.a.dtype), v.b, batched=False)
        else:
            g = WeightedSum(w.astype(v.dtype), v)
        out.append(g.dense() if dense else g)
    return out


def forward_gradient(f, params, *, rng, n_directions=1, distribution="normal", clip=None,
                     dense=True):
    """Forward gradient (Baydin et al. 2022): ``(f(params), mean_k (∇f·v_k) v_k)``.

    Draws K = ``n_directions`` random tangents ``v_k`` with E[v vᵀ] = I and pushes all of
    them through ``f`` in one batched forward pass. The estimate is unbiased for ∇f.

    * ``distribution``: ``"normal"`` (the paper's), ``"rademacher"`` (±1 signs) or
      ``"outer"`` (a rank-one V = a bᵀ for each matrix, normal elsewhere); see the module
      docstring for their costs and variances.
    * ``clip``: clip each directional derivative ∇f·v_k to [-clip, clip] first (biased
      where it acts; reproductions of the paper needed it for stability).
    * ``dense=False``: return the estimate's leaves unformed (dualnum.lowrank), so that
      ``dn.optim.SGD`` applies each one within the update's own pass.

    >>> import numpy as np, dualnum as dn
    >>> rng = np.random.default_rng(0)
    >>> value, g = dn.forward_gradient(lambda p: np.sum(p["w"] ** 2),
    ...                                {"w": np.ones(3)}, rng=rng, n_directions=4)
    >>> float(value), sorted(g)
    (3.0, ['w'])
    """
    value, d, vs, td, leaves = directional_derivatives(
        f, params, rng=rng, n_directions=n_directions, distribution=distribution)
    if clip is not None:
        if not clip > 0:
            raise ValueError(f"clip must be positive, got {clip!r}")
        d = np.clip(d, -clip, clip)
    g = estimate(d, vs, dense=dense)
    return value, unflatten(td, [x.astype(leaf.dtype, copy=False) if isinstance(x, np.ndarray)
                                 else x for x, leaf in zip(g, leaves)])
