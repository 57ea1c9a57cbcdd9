"""The rule table's entries, grouped by kind. Importing this package registers them.

* :mod:`.elementwise` - ufuncs, each with its partial derivative expressions
* :mod:`.reductions` - sum, mean, prod, max/min, var/std, cumsum/cumprod
* :mod:`.linalg` - matmul, dot, tensordot, einsum, inner, outer, trace, diagonal, norm
* :mod:`.shape` - reshaping, joining, splitting, indexing, padding
"""
from . import elementwise, linalg, reductions, shape  # noqa: F401
