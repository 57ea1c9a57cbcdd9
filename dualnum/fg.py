"""Alias of :mod:`dualnum.fgrad` kept for ``dualnum.cli`` and ``dualnum.train``, which
import ``forward_gradient`` and ``DISTRIBUTIONS`` from here; remove it once they import
:mod:`dualnum.fgrad`."""
from .fgrad import DISTRIBUTIONS, forward_gradient  # noqa: F401
