"""The gradient step of a run, built from its config: one entry per value of the
``gradient`` setting. A new estimator is an entry here (a function of the config
returning a :class:`dualnum.train.GradientEstimator`) plus its settings in
:mod:`dualnum.run.settings`; a run records ``estimator.settings()`` in its config.

>>> from dualnum.run.estimators import build
>>> from dualnum.run.settings import resolve
>>> build(resolve({"gradient": "exact"}))
ExactGradient(chunk_size=512)
"""
from __future__ import annotations

from ..train import ExactGradient, ForwardGradient

__all__ = ["ESTIMATORS", "build"]

#: gradient name -> builder(config) of the estimator.
ESTIMATORS = {
    "forward": lambda cfg: ForwardGradient(cfg["directions"], cfg["distribution"],
                                           cfg["chunk_size"], cfg["clip"]),
    "exact": lambda cfg: ExactGradient(cfg["chunk_size"]),
}


def build(cfg):
    """The :class:`~dualnum.train.GradientEstimator` a config asks for."""
    return ESTIMATORS[cfg["gradient"]](cfg)
