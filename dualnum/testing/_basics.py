"""The building blocks of dualnum's hypothesis strategies: a call of a rule (``Call``),
shapes, broadcastable shapes, and arrays drawn from an Interval away from its
non-differentiable points. :mod:`dualnum.testing.strategies` re-exports them; the modules
of domain builders (``_shape_domains``, ...) import them from here, so that strategies.py
can import those modules without an import cycle.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..core.rules import REAL

MAX_SIDE = 4
MAX_DIMS = 3


@dataclass
class Call:
    """One call of a rule: positional and keyword arguments. Float arrays among ``args``
    (and inside a sequence at ``args[0]``) are the differentiable inputs."""

    args: tuple
    kwargs: dict = field(default_factory=dict)

    def __repr__(self):
        def show(a):
            if isinstance(a, np.ndarray):
                return f"array{a.shape}:{a.dtype}"
            if isinstance(a, (list, tuple)) and any(isinstance(x, np.ndarray) for x in a):
                return "[" + ", ".join(show(x) for x in a) + "]"
            return repr(a)

        kw = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"Call({', '.join(show(a) for a in self.args)}{', ' if kw else ''}{kw})"

    def slots(self, rule=None):
        """Positions ``(i, j)`` of the float-array inputs: ``args[i]``, or ``args[i][j]``
        inside a sequence argument; with ``rule``, only those it differentiates."""
        slots = []
        for i, a in enumerate(self.args):
            if isinstance(a, np.ndarray) and a.dtype.kind == "f":
                slots.append((i, None))
            elif isinstance(a, list) and a and all(isinstance(e, np.ndarray) for e in a):
                slots.extend((i, j) for j, e in enumerate(a) if e.dtype.kind == "f")
        if rule is None:
            return slots
        if rule.partials is not None:
            return [s for s in slots if rule.partials[s[0]] is not None]
        return [s for s in slots if rule.seq_arg or rule.jvps == () or
                (s[0] < len(rule.jvps) and rule.jvps[s[0]] is not None)]

    def inputs(self, slots):
        """The arrays at ``slots``."""
        return tuple(self.args[i] if j is None else self.args[i][j] for i, j in slots)

    def function(self, fn, slots):
        """``f(*xs)``: this call of ``fn`` with ``xs`` placed at ``slots``."""
        def f(*xs):
            args = [list(a) if isinstance(a, list) else a for a in self.args]
            for (i, j), x in zip(slots, xs):
                if j is None:
                    args[i] = x
                else:
                    args[i][j] = x
            return fn(*args, **self.kwargs)

        return f


# ------------------------------------------------------------------ basics
def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """Tuples of ``num_shapes`` shapes that broadcast together (sizes of 1, missing
    leading axes and 0-d included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda bs: bs.input_shapes)


def _push_away(x, interval):
    for p in interval.avoid:
        near = np.abs(x - p) <= interval.margin
        x = np.where(near, p + np.where(x >= p, 2.5, -2.5) * interval.margin, x)
    return x


def arrays(shape, domain=REAL, dtype=np.float64):
    """Arrays of ``shape`` with elements strictly inside ``domain`` and away from its
    non-differentiable points."""
    lo, hi = domain.lo + domain.margin, domain.hi - domain.margin
    elems = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(np.float64, shape, elements=elems).map(
        lambda x: np.asarray(_push_away(x, domain), dtype))


def _array(shape, domain=REAL):
    return arrays(shape, domain)


def _axis_arg(draw, nd, allow_none=True, allow_tuple=True):
    choices = []
    if allow_none:
        choices.append(None)
    if nd:
        ax = draw(st.integers(-nd, nd - 1))
        choices.append(ax)
        if allow_tuple:
            axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
            choices.append(tuple(axes))
    return draw(st.sampled_from(choices)) if choices else None
