"""dualnum: forward-mode automatic differentiation for NumPy, built on dual numbers.

>>> import numpy as np, dualnum as dn
>>> x = dn.Dual(np.array(2.0), np.array(1.0))
>>> float((x ** 3).tangent)
12.0
"""
from __future__ import annotations

# Idle BLAS threads must sleep, not spin into the numba kernels that follow a GEMM: set
# up the same way whether NumPy or dualnum is imported first (see dualnum/_threads.py).
from . import _threads

if not _threads.quiet_openblas_at_load():
    _threads.quiet_openblas_now()

from importlib.metadata import PackageNotFoundError, version as _version

from . import ops as _ops  # noqa: F401  (registers the rule table)
from . import kernels as _kernels
from .core.dual import Dual
from .core.errors import (BatchMismatchError, ConversionError, DomainError, DTypeError,
                          ShapeError, TreeMismatchError)
from .core.levels import LeakedDualError
from .core.rules import table as rules_table
from .ops.special import erf, erfc
from .ops.arrays import put_along_axis
from .ops.network import (avg_pool2d, conv2d, conv2d_relu, cross_entropy, elu, gelu,
                          leaky_relu, linear, log_softmax, logsumexp, max_pool2d, mse, relu,
                          sigmoid, softmax, softplus)
from .transforms import derivative, grad, hessian, hvp, jacfwd, jvp, value_and_grad
from .custom import custom_jvp, defjvp
from .fgrad import forward_gradient
from .trace import trace
from . import array_api as _array_api  # noqa: F401  (Dual.__array_namespace__)

_kernels.install()

try:
    __version__ = _version("dualnum")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0.dev0"

__all__ = [
    "Dual", "jvp", "jacfwd", "grad", "value_and_grad", "derivative", "hessian", "hvp",
    "forward_gradient", "custom_jvp", "defjvp", "rules_table",
    "ShapeError", "DTypeError", "BatchMismatchError", "TreeMismatchError", "DomainError",
    "ConversionError", "LeakedDualError",
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "softplus", "logsumexp", "softmax",
    "log_softmax", "cross_entropy", "mse", "linear", "conv2d", "conv2d_relu", "max_pool2d",
    "avg_pool2d", "trace",
    "erf", "erfc",
    "put_along_axis",
]


def __getattr__(name):
    # Subpackages load on first use, so `import dualnum` stays fast.
    if name in ("testing", "nn", "optim", "train", "fgrad", "data", "run"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "diagnostics":  # the estimator statistics live in the fgrad package
        import importlib

        return importlib.import_module(".fgrad.diagnostics", __name__)
    raise AttributeError(f"module 'dualnum' has no attribute {name!r}")
