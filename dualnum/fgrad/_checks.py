"""The forward-gradient settings, each validated here and nowhere else.

Every entry point of :mod:`dualnum.fgrad` (``dn.forward_gradient``, :class:`Estimator`,
the diagnostics) passes its settings through :func:`settings`, so a setting means the
same thing and fails with the same message wherever it is given.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["PERTURBATIONS", "COMBINATIONS", "WEIGHT_DISTRIBUTIONS", "ACTIVITY_DISTRIBUTIONS",
           "DEFAULT_DISTRIBUTION", "default_distribution", "settings", "check_rng",
           "positive_int"]

#: Where the random directions live: the parameters ("weight", Baydin et al. 2022) or
#: the pre-activations of every Linear and Conv2d layer ("activity", Ren et al. 2023).
PERTURBATIONS = ("weight", "activity")
#: How the K directional derivatives become one estimate.
COMBINATIONS = ("mean", "projection")
#: Direction distributions per perturbation (see dualnum.fgrad.directions).
WEIGHT_DISTRIBUTIONS = ("normal", "rademacher", "outer")
ACTIVITY_DISTRIBUTIONS = ("normal", "rademacher")
#: The default distribution of weight perturbation combined by the mean, the measured
#: best (docs/forward-gradients.md, bench/RESULTS.md): rank-one directions train as well
#: per step as normal ones at K = 64 (a few points behind at K = 1), with the same
#: variance at the start, and cost a fraction: sampling n + m numbers per matrix, and
#: one convolution per layer's tangent instead of two. The projection needs dense
#: directions and activity perturbation draws per-example ones: both default to normal.
DEFAULT_DISTRIBUTION = "outer"


def default_distribution(perturbation, combination):
    """The distribution used when none is given (``distribution=None``).

    >>> from dualnum.fgrad._checks import default_distribution
    >>> default_distribution("weight", "mean"), default_distribution("weight", "projection")
    ('outer', 'normal')
    """
    if perturbation == "weight" and combination == "mean":
        return DEFAULT_DISTRIBUTION
    return "normal"


def positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                        "use numpy.random.default_rng(seed)")
    return rng


def _choice(value, choices, what):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose from {', '.join(choices)}")
    return value


def _clip(clip):
    if clip is None:
        return None
    if isinstance(clip, bool) or not isinstance(clip, numbers.Real) or math.isnan(clip) \
            or clip <= 0:
        raise ValueError(f"clip must be a positive number (or None for no clipping), got "
                         f"{clip!r}")
    return None if math.isinf(clip) else float(clip)


def settings(*, perturbation="weight", n_directions=1, distribution=None,
             combination="mean", clip=None, chunk_size=None):
    """The validated settings as a dict (``clip=inf`` means no clipping: None;
    ``distribution=None`` is :func:`default_distribution`'s).

    >>> from dualnum.fgrad._checks import settings
    >>> settings(perturbation="activity", n_directions=8, combination="projection")["n_directions"]
    8
    >>> settings(distribution="outer", perturbation="activity")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown distribution 'outer' for activity perturbation; choose from ...
    """
    perturbation = _choice(perturbation, PERTURBATIONS, "perturbation")
    combination = _choice(combination, COMBINATIONS, "combination")
    if distribution is None:
        distribution = default_distribution(perturbation, combination)
    allowed = WEIGHT_DISTRIBUTIONS if perturbation == "weight" else ACTIVITY_DISTRIBUTIONS
    if not isinstance(distribution, str) or distribution not in allowed:
        raise ValueError(f"unknown distribution {distribution!r} for {perturbation} "
                         f"perturbation; choose from {', '.join(allowed)}")
    if combination == "projection" and distribution == "outer":
        raise ValueError("combination='projection' needs dense directions; 'outer' keeps "
                         "them factored: use 'normal' or 'rademacher'")
    k = positive_int(n_directions, "n_directions")
    chunk = None if chunk_size is None else positive_int(chunk_size, "chunk_size")
    if chunk is not None and combination == "projection" and chunk < k:
        raise ValueError(f"combination='projection' solves with all K = {k} directions at "
                         f"once; chunk_size={chunk} would split them (drop chunk_size)")
    return {"perturbation": perturbation, "n_directions": k, "distribution": distribution,
            "combination": combination, "clip": _clip(clip), "chunk_size": chunk}
