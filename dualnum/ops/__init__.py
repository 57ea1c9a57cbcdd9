"""The rule table's entries, grouped by kind. Importing this package registers them.

* :mod:`.elementwise` - ufuncs, each with its partial derivative expressions
* :mod:`.reductions` - sum, mean, prod, max/min, var/std, cumsum/cumprod
* :mod:`.linalg` - matmul, dot, tensordot, einsum, inner, outer, trace, diagonal
* :mod:`.matrix` - np.linalg: inv, solve, det, eigh, svd, qr, cholesky, norms, ...
* :mod:`.numeric` - kron, cross, cov, corrcoef, polyval, convolve, interp, trapezoid, ...
* :mod:`.shape` - reshaping, joining, splitting, indexing, padding
* :mod:`.special` - erf and erfc, and scipy.special's ufuncs when SciPy is importable
  (registered on first need)
* :mod:`.arrays` - triangles, diagonals, repeating, stacking, ranges, grids, gathers
* :mod:`.order` - sorting, order statistics, nan-reductions, averages, unique, histograms
* :mod:`.network` - activations, softmax, losses, conv2d and pooling (``dn.relu``, ...)
* :mod:`.from_duals` - ``np.array([d1, d2])``, ``np.r_``, ``np.c_`` and reductions of lists
  of Duals (NumPy functions wrapped so that lists of Duals build one Dual)
"""
from . import elementwise, linalg, reductions, shape, special  # noqa: F401
from . import arrays, order  # noqa: F401  (after shape and reductions: they reuse helpers)
from . import matrix, numeric  # noqa: F401  (after reductions and linalg: they use them)
from . import network  # noqa: F401  (after elementwise: its activations use that table)
from . import from_duals

from_duals.install()
