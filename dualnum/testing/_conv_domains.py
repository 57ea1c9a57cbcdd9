"""Strategy builders for the fused convolution rules (dualnum/ops/network.py)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

# Each builder is given dualnum.testing.strategies as its argument (the rule's domain is
# ``lambda s: s.<builder>(s)``), so this module does not import it back.
__all__ = ["conv2d_relu_call"]

#: Closest a pre-activation comes to ReLU's kink at 0: finite differences in float64
#: and float32 rounding both stay far inside it.
_MARGIN = 0.1


def _conv(x, w, stride, padding):
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::sh, ::sw]
    return np.einsum("nchwij,ocij->nohw", win, w)


@st.composite
def conv2d_relu_call(draw, _s):
    """A conv2d call (conv2d_call's shapes, strides and paddings) with a bias chosen so
    that every pre-activation is at least _MARGIN from 0: each channel's bias puts 0 in
    the widest gap between its outputs, so both sides of the ReLU are met where the
    channel has two or more outputs. Sometimes a ``pool``, where every window's maximum
    is unique by _MARGIN."""
    call = draw(_s.conv2d_call())
    x, w, _ = call.args
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    z = _conv(x, w, pair(call.kwargs["stride"]), pair(call.kwargs["padding"]))
    b = np.empty(w.shape[0])
    for o in range(w.shape[0]):
        v = np.sort(z[:, o].ravel())
        gaps = np.diff(v)
        i = int(np.argmax(gaps)) if gaps.size else -1
        if i >= 0 and gaps[i] >= 2 * _MARGIN:
            b[o] = -(v[i] + v[i + 1]) / 2
        else:  # all outputs on one side, which one drawn
            b[o] = 1 - v[0] if draw(st.booleans()) else -1 - v[-1]
    kwargs = dict(call.kwargs)
    pool = draw(st.sampled_from([None, 1, 2, (1, 2)]), label="pool")
    y = np.maximum(z + b[:, None, None], 0)
    if pool is not None:
        kh, kw = (pool, pool) if isinstance(pool, int) else pool
        hh, ww = y.shape[2] // kh, y.shape[3] // kw
        if hh and ww:
            win = y[:, :, :hh * kh, :ww * kw].reshape(y.shape[:2] + (hh, kh, ww, kw))
            top = np.sort(win.transpose(0, 1, 2, 4, 3, 5).reshape(
                y.shape[:2] + (hh, ww, kh * kw)), axis=-1)
            # a window's maximum stands apart from the rest (or all are ReLU's zeros):
            # the pooling's derivative is defined there
            if kh * kw == 1 or np.all((top[..., -1] == 0)
                                      | (top[..., -1] - top[..., -2] >= _MARGIN)):
                kwargs["pool"] = pool
    return _s.Call((x, w, b), kwargs)
