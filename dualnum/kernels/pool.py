"""Pooling kernels: one pass over the input per call.

NumPy's reductions over a window view (``np.max(sliding_window_view(...), axis=(-2, -1))``)
run an inner loop of kh·kw strided elements per output, which took as long as the
convolution before it (55 ms for 64×64×28×28 in float32); these loops read each window
once and keep the index of its maximum on the way.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel


@kernel
def _max_pool(x, kh, kw, sh, sw, out, idx):
    planes, h, w = x.shape
    ho, wo = out.shape[1], out.shape[2]
    for p in prange(planes):
        for i in range(ho):
            r0 = i * sh
            for j in range(wo):
                c0 = j * sw
                best = x[p, r0, c0]
                at = r0 * w + c0
                for a in range(kh):
                    for c in range(kw):
                        v = x[p, r0 + a, c0 + c]
                        # the first maximum wins ties (PyTorch's rule); a NaN wins once
                        # met and keeps its place, as np.max and np.argmax do. Written
                        # as selects, not branches: on random data a branch here is
                        # mispredicted half the time.
                        take = (v > best) | ((v != v) & (best == best))
                        best = v if take else best
                        at = (r0 + a) * w + c0 + c if take else at
                out[p, i, j] = best
                idx[p, i, j] = p * h * w + at


@kernel
def _avg_pool(x, kh, kw, sh, sw, out):
    planes = x.shape[0]
    ho, wo = out.shape[1], out.shape[2]
    scale = 1.0 / (kh * kw)
    for p in prange(planes):
        for i in range(ho):
            r0 = i * sh
            for j in range(wo):
                c0 = j * sw
                acc = 0.0  # float64, whatever x's dtype
                for a in range(kh):
                    for c in range(kw):
                        acc += x[p, r0 + a, c0 + c]
                out[p, i, j] = acc * scale


def _planes(x, kernel_size, stride):
    h, w = x.shape[-2:]
    ho = (h - kernel_size[0]) // stride[0] + 1
    wo = (w - kernel_size[1]) // stride[1] + 1
    flat = np.ascontiguousarray(x).reshape(-1, h, w)
    return flat, (flat.shape[0], ho, wo), x.shape[:-2] + (ho, wo)


def max_pool(x, kernel_size, stride):
    """(max over each window of x's last two axes, the flat index into ``x.ravel()`` of
    each window's first maximum), both of shape ``x.shape[:-2] + (Ho, Wo)``."""
    flat, shape, final = _planes(x, kernel_size, stride)
    out = np.empty(shape, x.dtype)
    idx = np.empty(shape, np.int64)
    _max_pool(flat.size, flat, *kernel_size, *stride, out, idx)
    return out.reshape(final), idx.reshape(final)


def avg_pool(x, kernel_size, stride):
    """Mean over each window of x's last two axes, shape ``x.shape[:-2] + (Ho, Wo)``."""
    flat, shape, final = _planes(x, kernel_size, stride)
    out = np.empty(shape, x.dtype)
    _avg_pool(flat.size, flat, *kernel_size, *stride, out)
    return out.reshape(final)
