"""Direction samplers: the random tangents of forward gradients.

Every direction comes from the caller's ``numpy.random.Generator`` (through the numba
samplers of :mod:`dualnum.kernels.sampling`), so a seed reproduces every estimate bit for
bit, on any number of threads.

Weight perturbation (one direction per parameter leaf, shared by the whole batch); each
distribution has E[v] = 0 and E[v vᵀ] = I:

* ``"normal"``: v ~ N(0, I), the choice of Baydin et al. (2022); a parallel,
  counter-based ziggurat.
* ``"rademacher"``: independent ±1 signs, 64 per raw 64-bit draw. Lower variance than
  normal (E[v⁴] = 1 instead of 3).
* ``"outer"``: for every matrix parameter W (n×m) a rank-one V = a bᵀ with independent
  a ~ N(0, Iₙ), b ~ N(0, Iₘ) (a :class:`~dualnum.fgrad.structured.LowRank`); a tensor
  of more axes, such as a convolution's (O, C, kh, kw) weight, is treated as the matrix
  (O, C·kh·kw): V[o, c, i, j] = a[o] b[c, i, j]. Vectors (biases) get normal directions.
  E[V_ij V_kl] = δ_ik δ_jl keeps the estimate unbiased; its variance is higher
  (E[V_ij⁴] = 9), but sampling costs n + m numbers instead of n·m, ``x @ V`` costs
  O(B(n + m)) instead of a GEMM, and ``conv(x, V) = a[o] conv(x, b)`` costs 1/O of a
  convolution.

Activity perturbation (Ren et al. 2023) draws directions per example over a layer's
pre-activations: :func:`activity_directions`, ``"normal"`` or ``"rademacher"``, or the
standard basis when K covers the whole activation (see :mod:`dualnum.fgrad.combine`).

>>> import numpy as np
>>> from dualnum.fgrad.directions import sample_directions
>>> vs = sample_directions(np.random.default_rng(0), [np.zeros((3, 2))], 4, "rademacher")
>>> vs[0].shape, sorted(set(vs[0].ravel().tolist()))
((4, 3, 2), [-1.0, 1.0])
"""
from __future__ import annotations

import math

import numpy as np

from ..kernels import sampling
from .structured import LowRank

__all__ = ["DISTRIBUTIONS", "sample_directions", "activity_directions"]


def _normal(rng, k, shape, dtype):
    return sampling.normal(rng, (k,) + shape, dtype)


def _rademacher(rng, k, shape, dtype):
    return sampling.rademacher(rng, (k,) + shape, dtype)


def _outer(rng, k, shape, dtype):
    if len(shape) < 2:
        return _normal(rng, k, shape, dtype)
    return LowRank(rng.standard_normal((k, shape[0]), dtype=dtype),
                   rng.standard_normal((k,) + tuple(shape[1:]), dtype=dtype), batched=True)


#: name -> sampler(rng, K, shape, dtype) returning K directions for one parameter.
DISTRIBUTIONS = {"normal": _normal, "rademacher": _rademacher, "outer": _outer}


def sample_directions(rng, leaves, k, distribution):
    """K directions for each parameter leaf, shape ``(K,) + leaf.shape`` (a LowRank for
    ``"outer"`` matrices). ``distribution`` is checked by the caller
    (:func:`dualnum.fgrad._checks.settings`)."""
    draw = DISTRIBUTIONS[distribution]
    return [draw(rng, k, x.shape, x.dtype) for x in leaves]


def activity_directions(rng, k, shape, dtype, distribution, basis):
    """K directions per example for an activation of ``shape`` = (B, ...): an array
    (K, B, ...). With ``basis`` (K equal to the per-example size n) direction j is the
    j-th unit vector for every example: the span is everything, so a projection onto it
    is exact and needs no solve."""
    n = math.prod(shape[1:])
    if basis:
        eye = np.eye(n, dtype=dtype).reshape((n, 1) + tuple(shape[1:]))
        return np.broadcast_to(eye, (n,) + tuple(shape))
    return DISTRIBUTIONS[distribution](rng, k, tuple(shape), dtype)
