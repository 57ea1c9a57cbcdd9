"""Strategy builders for the rules behind the array API namespace (``setitem``)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


# Each builder is given dualnum.testing.strategies as its argument (the rule's domain is
# ``lambda s: s.<builder>(s)``), so this module does not import it back.
__all__ = ["setitem_call"]


@st.composite
def setitem_call(draw, _s):
    """``x[index] = v``: basic, integer-array (duplicates included: the last write
    wins), boolean-mask and mixed indices; ``v`` broadcasts to ``x[index]``."""
    shp = draw(_s.shapes(min_dims=1))
    x = draw(_s._array(shp))
    kind = draw(st.sampled_from(["basic", "int_array", "bool", "mixed"]))
    if kind == "basic":
        idx = draw(hnp.basic_indices(shp, allow_newaxis=False, allow_ellipsis=True))
    elif kind == "int_array":
        idx = draw(hnp.arrays(np.intp, draw(_s.shapes(min_dims=1, max_dims=1)),
                              elements=st.integers(-shp[0], shp[0] - 1)))
    elif kind == "bool":
        idx = draw(hnp.arrays(np.bool_, shp))
    else:
        idx = (Ellipsis, draw(st.integers(-shp[-1], shp[-1] - 1)))
    sel = np.empty(shp)[idx].shape
    # v: the selection's shape, or a suffix of it with ones (broadcast), or a 0-d value
    cut = draw(st.integers(0, len(sel)))
    vshape = tuple(1 if draw(st.booleans()) else n for n in sel[cut:])
    return _s.Call((x, idx, draw(_s._array(vshape))))
