"""How a Dual prints: NumPy's style for the primal and the tangent, and a word when the
tangent is a symbolic zero or a batch."""
from __future__ import annotations

import numpy as np


def dual_repr(d):
    p = np.array2string(d.primal, separator=", ", prefix="Dual(")
    if d._tangent is None:
        t = "0 (symbolic zero" + (f", batch of K={d._k})" if d._k is not None else ")")
    else:
        t = np.array2string(d._tangent, separator=", ", prefix="      tangent=")
        if d._k is not None:
            t += f",\n      batch=K={d._k}"
    dt = "" if d.dtype == np.float64 else f", dtype={d.dtype}"
    return f"Dual({p},\n     tangent={t}{dt})"
