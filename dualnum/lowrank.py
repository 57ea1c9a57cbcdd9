"""Alias of :mod:`dualnum.fgrad.structured` kept for ``dualnum.kernels.update``, which
imports ``LowRank`` from here; remove it once that import goes."""
from .fgrad.structured import LowRank, WeightedSum  # noqa: F401
