"""How a Dual prints: NumPy's style for the primal and the tangent, and a word when the
tangent is a symbolic zero or a batch.

>>> import numpy as np, dualnum as dn
>>> dn.Dual(3.0, 1.0)
Dual(3., tangent=1.)
>>> dn.Dual(np.array([0.0, 1.0]))
Dual([0., 1.], tangent=0 (symbolic zero))
>>> dn.Dual(np.array([0.0, 1.0]), np.eye(2), batched=True)
Dual([0., 1.],
     tangent=[[1., 0.],
              [0., 1.]],
     batched: K=2 tangents, one per row)
>>> dn.Dual(np.ones(2, np.float32), np.array([0.5, 2.0]))
Dual([1., 1.], tangent=[0.5, 2. ], dtype=float32)
"""
from __future__ import annotations

import numpy as np

_WIDTH = 75  # NumPy's default line width


# NumPy's float formatting takes ~15 us for a single value; array-API code that prints
# (or builds messages from) array items one at a time would spend most of its time here.
_SCALARS = {}


def _array(a, indent):
    """``a`` in NumPy's style, continuation lines indented by ``indent`` columns."""
    a = np.asarray(a)
    if a.ndim == 0:
        try:
            key = (a.dtype.str, a.tobytes(), tuple(sorted(np.get_printoptions().items())))
            text = _SCALARS.get(key)
        except TypeError:  # a custom formatter (a dict) in the print options
            return np.array2string(a, separator=", ", prefix=" " * indent)
        if text is None:
            if len(_SCALARS) > 4096:
                _SCALARS.clear()
            text = _SCALARS[key] = np.array2string(a, separator=", ")
        return text
    return np.array2string(a, separator=", ", prefix=" " * indent)


def _tangent(d, indent):
    t = d._tangent
    if t is None:
        return "0 (symbolic zero" + (f", batch of K={d._k})" if d._k is not None else ")")
    if getattr(t, "is_structured_tangent", False):  # dualnum.lowrank: shown materialised
        return _array(np.asarray(t), indent) + f" (stored as {type(t).__name__})"
    if not isinstance(t, np.ndarray):  # nested duals: the tangent is itself a Dual
        return repr(t).replace("\n", "\n" + " " * indent)
    return _array(t, indent)


def dual_repr(d):
    p = _array(d.primal, len("Dual("))
    t = _tangent(d, len("     tangent="))
    tail = []
    if d._k is not None and d._tangent is not None:
        where = ("one per entry", "one per row")[d.ndim] if d.ndim < 2 else "stacked on axis 0"
        tail.append(f"batched: K={d._k} tangents, {where}")
    dt = "" if d.dtype == np.float64 else f"dtype={d.dtype}"
    one_line = f"Dual({p}, tangent={t}" + "".join(f", {x}" for x in [dt] if x) + ")"
    if not tail and "\n" not in one_line and len(one_line) <= _WIDTH:
        return one_line
    lines = [f"Dual({p},", f"     tangent={t}"]
    for x in tail + ([dt] if dt else []):
        lines[-1] += ","
        lines.append(f"     {x}")
    return "\n".join(lines) + ")"
