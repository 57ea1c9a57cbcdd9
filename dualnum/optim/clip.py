"""Clipping the directional derivative of forward gradients.

A forward gradient is ``g = (∇f·v) v`` for a random direction ``v``. Early in training
``∇f·v`` can be huge, and one bad draw then throws the parameters far away; reproductions
of Baydin et al. (2022) clip it to ``[-c, c]`` for stability. The optimizer only sees
``g``, so the clipping happens where ``∇f·v`` is known: ``dn.forward_gradient(...,
clip=c)`` (which :func:`clipped_forward_gradient` calls), or in your own loop with
:func:`clip_directional`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["clip_directional", "clipped_forward_gradient"]


def _max_norm(max_norm):
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) \
            or math.isnan(max_norm) or max_norm <= 0:
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    return float(max_norm)


def clip_directional(d, max_norm):
    """Clip directional derivatives ``d = ∇f·v`` (a scalar or an array, one per
    direction) to ``[-max_norm, max_norm]``.

    >>> import numpy as np, dualnum as dn
    >>> dn.optim.clip_directional(np.array([-30.0, 0.5, 7.0]), 5.0)
    array([-5. ,  0.5,  5. ])
    """
    c = _max_norm(max_norm)
    return np.clip(d, -c, c)


def clipped_forward_gradient(f, params, *, rng, max_norm, n_directions=1,
                             distribution="normal"):
    """``dn.forward_gradient`` with each directional derivative clipped:
    ``(f(params), mean_k clip(∇f·v_k, -max_norm, max_norm) v_k)``.

    It draws the same directions from ``rng`` as ``dn.forward_gradient``, so with a large
    ``max_norm`` the two agree exactly. ``max_norm=math.inf`` turns clipping off.

    >>> import numpy as np, dualnum as dn
    >>> f = lambda p: 100.0 * np.sum(p["w"])
    >>> _, g = dn.optim.clipped_forward_gradient(f, {"w": np.ones(3)}, max_norm=1.0,
    ...                                          rng=np.random.default_rng(0))
    >>> bool(np.linalg.norm(g["w"]) < 100.0)
    True
    """
    from ..fg import forward_gradient

    c = _max_norm(max_norm)
    return forward_gradient(f, params, rng=rng, n_directions=n_directions,
                            distribution=distribution, clip=None if math.isinf(c) else c)
