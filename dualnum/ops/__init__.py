"""The rule table's entries, grouped by kind. Importing this package registers them.

* :mod:`.elementwise` - ufuncs, each with its partial derivative expressions
* :mod:`.reductions` - sum, mean, prod, max/min, var/std, cumsum/cumprod
* :mod:`.linalg` - matmul, dot, tensordot, einsum, inner, outer, trace, diagonal
* :mod:`.matrix` - np.linalg: inv, solve, det, eigh, svd, qr, cholesky, norms, ...
* :mod:`.numeric` - kron, cross, cov, corrcoef, polyval, convolve, interp, trapezoid, ...
* :mod:`.shape` - reshaping, joining, splitting, indexing, padding
* :mod:`.network` - activations, softmax, losses, conv2d and pooling (``dn.relu``, ...)
"""
from . import elementwise, linalg, reductions, shape  # noqa: F401
from . import matrix, numeric  # noqa: F401  (after reductions and linalg: they use them)
from . import network  # noqa: F401  (after elementwise: its activations use that table)
