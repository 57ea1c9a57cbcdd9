"""im2col for conv2d: the (C·kh·kw, B·Ho·Wo) matrix of every window, in one pass.

NumPy's copy of the window view (``sliding_window_view(...).transpose(...).reshape(...)``)
plus ``np.pad`` for the padding moved rows of only Wo elements at a time through its
generic strided loop: 31 ms for a 64×64×28×28 float32 input with a 3×3 kernel, longer
than the GEMM that follows (25 ms). This kernel writes each output row once, fills the
padding with zeros as it goes, and splits the rows across threads.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel


@kernel
def _im2col(x, kh, kw, sh, sw, ph, pw, ho, wo, out):
    nb, c_in, h, w = x.shape
    for r in prange(c_in * kh * kw):
        c = r // (kh * kw)
        a = (r // kw) % kh
        b = r % kw
        for n in range(nb):
            for i in range(ho):
                row = i * sh + a - ph
                base = (n * ho + i) * wo
                if row < 0 or row >= h:
                    for j in range(wo):
                        out[r, base + j] = 0
                    continue
                for j in range(wo):
                    col = j * sw + b - pw
                    out[r, base + j] = x[n, c, row, col] if 0 <= col < w else 0


def im2col(x, kernel_size, stride, padding):
    """x (B..., C, H, W) unfolded into (C·kh·kw, B·Ho·Wo) (rows ordered (c, kh, kw),
    columns (B..., Ho, Wo)), with zero padding; and (Ho, Wo)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    h, w = x.shape[-2:]
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (w + 2 * pw - kw) // sw + 1
    x4 = np.ascontiguousarray(x).reshape((-1,) + x.shape[-3:])
    out = np.empty((x.shape[-3] * kh * kw, x4.shape[0] * ho * wo), x.dtype)
    _im2col(out.size, x4, kh, kw, sh, sw, ph, pw, ho, wo, out)
    return out, (ho, wo)
