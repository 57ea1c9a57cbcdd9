"""Forward gradients (Baydin, Pearlmutter, Syme, Wood, Torr 2022).

For v with E[v vᵀ] = I, (∇f·v) v is an unbiased estimate of ∇f: E[(∇f·v) v] = E[v vᵀ] ∇f.
One batched forward pass gives ∇f·v_k for K directions at once.
"""
from __future__ import annotations

import numpy as np

from .core.dual import as_float_array
from .core.errors import ShapeError
from .core.pytree import flatten, unflatten


def _normal(rng, shape, dtype):
    return rng.standard_normal(shape, dtype=dtype)


def _rademacher(rng, shape, dtype):
    # Signs from random bits: 8 per byte instead of one draw per sign.
    n = int(np.prod(shape))
    bits = np.unpackbits(rng.integers(0, 256, size=(n + 7) // 8, dtype=np.uint8))[:n]
    return (bits.astype(dtype) * 2 - 1).reshape(shape)


#: Tangent distributions: each has E[v] = 0 and E[v vᵀ] = I, so the estimate is unbiased.
DISTRIBUTIONS = {"normal": _normal, "rademacher": _rademacher}


def sample_directions(rng, leaves, k, distribution):
    try:
        draw = DISTRIBUTIONS[distribution]
    except KeyError:
        raise ValueError(f"unknown distribution {distribution!r}; choose from "
                         f"{sorted(DISTRIBUTIONS)}") from None
    return [draw(rng, (k,) + x.shape, x.dtype) for x in leaves]


def forward_gradient(f, params, *, rng, n_directions=1, distribution="normal"):
    from .transforms import jvp

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
    d = np.asarray(d).reshape(k)
    g = [np.tensordot(d, v, axes=1) / k for v in vs]
    return value, unflatten(td, [x.astype(leaf.dtype, copy=False) for x, leaf in zip(g, leaves)])
