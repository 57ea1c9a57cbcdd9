"""Forward gradients: gradient estimates from forward-mode passes only, no reverse pass.

One entry point, :func:`forward_gradient` (``dn.forward_gradient``), and its object form
:class:`Estimator` for training loops. Everything is seeded by the caller's
``numpy.random.Generator`` and reproducible.

* estimators: weight perturbation (Baydin et al. 2022) and activity perturbation (Ren et
  al., ICLR 2023), each with or without local losses (``dn.nn.LocalHead``), combined by
  the ``mean`` or by ``projection`` (Flügel et al., IJCNN 2025): :mod:`.perturb`,
  :mod:`.combine`;
* direction samplers: :mod:`.directions`;
* structured (low-rank) tangents: :mod:`.structured`;
* estimator statistics against the exact gradient: :mod:`.diagnostics`
  (``dn.diagnostics``).

>>> import numpy as np, dualnum as dn
>>> value, g = dn.fgrad.forward_gradient(lambda w: np.sum(w ** 2), np.ones(2),
...                                      rng=np.random.default_rng(0), n_directions=2,
...                                      combination="projection")
>>> g
array([2., 2.])
"""
from ._checks import (ACTIVITY_DISTRIBUTIONS, COMBINATIONS, PERTURBATIONS,
                      WEIGHT_DISTRIBUTIONS)
from .combine import estimate
from .directions import DISTRIBUTIONS, sample_directions
from .estimator import Estimator, forward_gradient
from .structured import LowRank, WeightedSum

__all__ = ["forward_gradient", "Estimator", "PERTURBATIONS", "COMBINATIONS", "DISTRIBUTIONS",
           "WEIGHT_DISTRIBUTIONS", "ACTIVITY_DISTRIBUTIONS",
           "sample_directions", "estimate", "LowRank", "WeightedSum"]
