"""dualnum: forward-mode automatic differentiation for NumPy, built on dual numbers.

>>> import numpy as np, dualnum as dn
>>> x = dn.Dual(np.array(2.0), np.array(1.0))
>>> float((x ** 3).tangent)
12.0
"""
from __future__ import annotations

import os as _os
import sys as _sys

# OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each GEMM. On a small
# machine they then take a core from the numba kernel that follows: a parallel im2col
# after a GEMM ran at 39 ms instead of 15, and a forward-gradient step of an MLP
# 784-1024-1024-10 took 11.4 ms instead of 8.8 (2 cores). OpenBLAS reads its timeout
# once, when NumPy loads it, so when dualnum is imported before NumPy the variable is set
# for that moment only (16 cycles: idle threads sleep at once), then removed: child
# processes and a user's own setting are left alone. Imported after NumPy, this does
# nothing; run with OPENBLAS_THREAD_TIMEOUT=4 in the environment for the same effect.
if "numpy" not in _sys.modules and "OPENBLAS_THREAD_TIMEOUT" not in _os.environ:
    _os.environ["OPENBLAS_THREAD_TIMEOUT"] = "4"
    try:
        import numpy  # noqa: F401  (loads OpenBLAS now)
    finally:
        del _os.environ["OPENBLAS_THREAD_TIMEOUT"]

from importlib.metadata import PackageNotFoundError, version as _version

from . import ops as _ops  # noqa: F401  (registers the rule table)
from . import kernels as _kernels
from .core.dual import Dual
from .core.errors import (BatchMismatchError, ConversionError, DomainError, DTypeError,
                          ShapeError, TreeMismatchError)
from .core.levels import LeakedDualError
from .core.rules import table as rules_table
from .ops.network import (avg_pool2d, conv2d, cross_entropy, elu, gelu, leaky_relu,
                          log_softmax, logsumexp, max_pool2d, mse, relu, sigmoid, softmax,
                          softplus)
from .transforms import derivative, grad, hessian, hvp, jacfwd, jvp, value_and_grad
from .custom import custom_jvp, defjvp
from .fgrad import forward_gradient
from .trace import trace

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
    "log_softmax", "cross_entropy", "mse", "conv2d", "max_pool2d", "avg_pool2d", "trace",
]


def __getattr__(name):
    # Subpackages load on first use, so `import dualnum` stays fast.
    if name in ("testing", "nn", "optim", "train", "fgrad", "data"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "diagnostics":  # the estimator statistics live in the fgrad package
        import importlib

        return importlib.import_module(".fgrad.diagnostics", __name__)
    raise AttributeError(f"module 'dualnum' has no attribute {name!r}")
