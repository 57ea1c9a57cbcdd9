"""Per-example losses, which activity perturbation needs.

Activity perturbation draws a direction per example and reads ∇_{z_b} ℓ_b · u_b for each
example b separately, so it needs the loss of every example, not their mean.
:func:`per_example` turns ``dn.cross_entropy`` and ``dn.mse`` into their per-example
forms; any other loss must return one value per example itself.

>>> import numpy as np, dualnum as dn
>>> from dualnum.fgrad.losses import per_example
>>> logits, labels = np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([0, 0])
>>> per = per_example(dn.cross_entropy)(logits, labels)
>>> per.round(4), bool(np.isclose(per.mean(), dn.cross_entropy(logits, labels)))
(array([0.1269, 1.3133]), True)
"""
from __future__ import annotations

import numpy as np

from ..core.dual import Dual
from ..ops.network import cross_entropy, log_softmax, mse

__all__ = ["per_example", "cross_entropy_per_example", "mse_per_example"]


def cross_entropy_per_example(logits, labels):
    """``-log softmax(logits)[b, labels[b]]`` for every row b (``dn.cross_entropy``
    without the mean)."""
    labels = np.asarray(labels)
    return -log_softmax(logits, axis=-1)[np.arange(np.shape(logits)[0]), labels]


def mse_per_example(pred, target):
    """The mean squared error of every example (mean over all but the first axis)."""
    diff = pred - target
    sq = diff * diff
    axes = tuple(range(1, np.ndim(sq)))
    return np.mean(sq, axis=axes) if axes else sq


_KNOWN = {cross_entropy: cross_entropy_per_example, mse: mse_per_example}


def per_example(loss_fn):
    """The per-example form of ``loss_fn(out, y)``: the known one for ``dn.cross_entropy``
    and ``dn.mse``; otherwise ``loss_fn`` itself, which must then return shape (B,)
    (checked by :func:`check_per_example`)."""
    return _KNOWN.get(loss_fn, loss_fn)


def check_per_example(losses, batch, what):
    """``losses`` must hold one value per example: shape ``(batch,)``."""
    shape = np.shape(losses.primal if isinstance(losses, Dual) else losses)
    if shape != (batch,):
        raise ValueError(
            f"activity perturbation needs one loss per example: {what} returned shape "
            f"{shape} for a batch of {batch}; return the per-example losses (for "
            f"dn.cross_entropy and dn.mse the estimator does this itself)")
