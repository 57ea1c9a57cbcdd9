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

from ..fgrad import Estimator
from ..train import ExactGradient

__all__ = ["ESTIMATORS", "build"]

#: gradient name -> builder(config) of the estimator.
ESTIMATORS = {
    "forward": lambda cfg: Estimator(
        perturbation=cfg["estimator"], n_directions=cfg["directions"],
        distribution=cfg["distribution"], combination=cfg["combination"],
        local_losses=cfg["local_losses"], clip=cfg["clip"], chunk_size=cfg["chunk_size"]),
    "exact": lambda cfg: ExactGradient(cfg["chunk_size"]),
}


def build(cfg):
    """The :class:`~dualnum.train.GradientEstimator` a config asks for."""
    return ESTIMATORS[cfg["gradient"]](cfg)
