"""Strategy builders for the special-function rules (dualnum/ops/special.py)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..core.rules import Interval

# Each builder is given dualnum.testing.strategies as its argument (the rule's domain is
# ``lambda s: s.<builder>(s)``), so this module does not import it back.
__all__ = ["polygamma_call"]


@st.composite
def polygamma_call(draw, _s):
    """``polygamma(n, x)``: integer orders 0..3 and x > 0 (away from the poles at
    0, -1, ...), broadcast together."""
    sn, sx = draw(_s.broadcastable_shapes(2))
    n = draw(hnp.arrays(np.int64, sn, elements=st.integers(0, 3)))
    return _s.Call((n, draw(_s._array(sx, Interval(0.3, 4.0)))))
