"""conv2d's value and all its tangents from one unfolding of x.

A convolution's tangent is bilinear, ``ẏ = conv(ẋ, w) + conv(x, ẇ) + ḃ``, so the input
x is needed by the value and by the weight tangent: both read the same unfolding of x
here (an earlier layout unfolded x once for the value and again for ``ẇ``). The tangent
is ONE product ``[w, ẇ, ḃ] @ [unfold(ẋ); unfold(x); 1]`` with a stacked inner dimension,
so its output is written once instead of being summed from three products; the bias
rides along in the GEMM as a row of ones (no extra pass over the output).

Two unfoldings, chosen per call:

* 3×3 kernels with stride 1 (the common case): Winograd's minimal filtering F(2×2, 3×3)
  (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016). Every
  4×4 input tile becomes 16 numbers (``Bᵀ d B``), every 3×3 filter 16 numbers
  (``G g Gᵀ``), and the convolution is 16 independent GEMMs (one per tile position)
  with 2.25× fewer multiplications than im2col; each 2×2 output tile is ``Aᵀ m A``. The
  transforms are additions and halvings, so float32 results stay within a few ulp of
  the direct sum. Where the output is whole 4×4 tiles and at least 20 columns wide
  (a 28×28 map), F(4×4, 3×3) instead: 6×6 input tiles, 36 GEMMs, 4× fewer
  multiplications than im2col and fewer transformed numbers per output (2.25 against
  4). Its transforms have entries up to 8 and sixths, so its float32 error is about ten
  times F(2×2)'s (a few 1e-6 of the output's scale; float64 stays near 1e-14); the
  filters are transformed in float64.
* any other kernel, stride or padding: im2col, one (C·kh·kw, Ho·Wo) matrix per image,
  laid out so that the GEMM writes NCHW directly (no transpose afterwards).

All products go to BLAS through ``np.matmul``; the numba kernels only move data.
A rank-one weight tangent ``ẇ[o, c, i, j] = a[o] b[c, i, j]`` (the ``"outer"``
forward-gradient directions, a LowRank) is never formed: ``conv(x, ẇ) = a[o] conv(x, b)``
is one more output channel of the value's GEMM, and the tangent needs one convolution
(``conv(ẋ, w)``) instead of two, none when ẋ = 0 (a network's first layer).

``relu(conv2d(...))``, and ``max_pool2d`` of that with 2×2 windows (the conv2d_relu
rule): the output transforms apply the ReLU to the value, and to each tangent the mask
(value > 0) of the same tile, while the tile is in registers (the value of a chunk is
finished before its tangents); with pooling, each output plane is made in an L1 scratch
plane and pooled from there, the value's argmaxes kept for the tangents. The
pre-activation never goes to memory.

``conv2d(primals, tangents, kwargs, k)`` is attached to the conv2d rule by
:func:`dualnum.kernels.install` and returns None for anything it does not take (Duals of
nested derivatives, other structured tangents, integer arrays): the rule's NumPy path
runs then.
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import jit, kernel, parallel_pieces, threads
from . import pool as _pool
from ._support import low_rank_factors

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ============================================================== im2col, one image per block
@kernel
def _im2col(x, kh, kw, sh, sw, ph, pw, ho, wo, out, r0):
    # out[n, r0 + (c, a, b), i * wo + j] = x[n, c, i*sh + a - ph, j*sw + b - pw] (0 outside)
    nb, c_in, h, w = x.shape
    rows = c_in * kh * kw
    for nr in prange(nb * rows):
        n = nr // rows
        r = nr % rows
        c = r // (kh * kw)
        a = (r // kw) % kh
        b = r % kw
        for i in range(ho):
            row = i * sh + a - ph
            base = i * wo
            if row < 0 or row >= h:
                for j in range(wo):
                    out[n, r0 + r, base + j] = 0
                continue
            for j in range(wo):
                col = j * sw + b - pw
                out[n, r0 + r, base + j] = x[n, c, row, col] if 0 <= col < w else 0


def out_size(h, w, kh, kw, sh, sw, ph, pw):
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


def im2col(x, kernel_size, stride, padding, out=None, row0=0):
    """x (N, C, H, W) unfolded into ``out[:, row0:row0 + C·kh·kw, :]`` of shape
    (N, rows, Ho·Wo) (rows ordered (c, kh, kw)), with zero padding; returns out."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x.shape
    ho, wo = out_size(h, w, kh, kw, sh, sw, ph, pw)
    if out is None:
        out = np.empty((n, c * kh * kw, ho * wo), x.dtype)
    x = np.ascontiguousarray(x)
    _im2col(x.size * kh * kw, x, kh, kw, sh, sw, ph, pw, ho, wo, out, row0)
    return out


# ============================================================== Winograd F(2×2, 3×3)
# Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
# G  = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]
# Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]
_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


@jit
def _padded_plane(x, n, c, ph, pw, hp, wp):
    # x[n, c] inside a zero border, (hp, wp): a scratch plane that stays in L1, so the
    # transforms read every tile without bounds tests and no padded copy of the whole
    # input goes through memory
    h, w = x.shape[2], x.shape[3]
    xp = np.zeros((hp, wp), x.dtype)
    for i in range(min(h, hp - ph)):
        for j in range(min(w, wp - pw)):
            xp[ph + i, pw + j] = x[n, c, i, j]
    return xp


@kernel
def _wino_in(x, ph, pw, hp, wp, th, v, c0):
    # v[ξ, c0 + c, n·P + ti·W2 + tj] = (Bᵀ d B)[ξ] for the 4×4 tile d of xp (x padded by
    # ph, pw with zeros to hp × wp) at (2 ti, 2 tj), with W2 = wp / 2 = tw + 1 and
    # P = th·W2. Each row of tiles has one junk column (tj = tw), which makes a plane's
    # tiles one flat run: the column phase is then a single long loop per ξ with
    # stride-2 reads, which LLVM vectorizes (rows of tw tiles are too short for that).
    # The GEMMs carry the junk columns along and the output transform skips them.
    nb, c_in = x.shape[0], x.shape[1]
    w2 = wp // 2
    plane = th * w2
    for nc in prange(nb * c_in):
        n = nc // c_in
        c = nc % c_in
        ch = c0 + c
        xp = _padded_plane(x, n, c, ph, pw, hp, wp)
        rows = np.empty((4, th * wp + 4), x.dtype)  # Bᵀ d, row by row; +4: junk reads
        rows[:, th * wp:] = 0
        for ti in range(th):
            r = 2 * ti
            o = ti * wp
            for q in range(wp):
                rows[0, o + q] = xp[r, q] - xp[r + 2, q]
            for q in range(wp):
                rows[1, o + q] = xp[r + 1, q] + xp[r + 2, q]
            for q in range(wp):
                rows[2, o + q] = xp[r + 2, q] - xp[r + 1, q]
            for q in range(wp):
                rows[3, o + q] = xp[r + 1, q] - xp[r + 3, q]
        base = n * plane
        for i in range(4):
            z = rows[i]
            out = v[4 * i, ch, base:base + plane]
            for t in range(plane):
                out[t] = z[2 * t] - z[2 * t + 2]
            out = v[4 * i + 1, ch, base:base + plane]
            for t in range(plane):
                out[t] = z[2 * t + 1] + z[2 * t + 2]
            out = v[4 * i + 2, ch, base:base + plane]
            for t in range(plane):
                out[t] = z[2 * t + 2] - z[2 * t + 1]
            out = v[4 * i + 3, ch, base:base + plane]
            for t in range(plane):
                out[t] = z[2 * t + 1] - z[2 * t + 3]


@jit
def _relu(v):
    return v if not v <= 0 else 0.0  # NaN stays NaN, as np.maximum(v, 0) keeps it


@jit
def _act(v, act, ref):
    # act 1: ReLU of a value; act 2: a tangent through that ReLU, v·(ref > 0) with ref
    # the finished value (a product, not a select, as relu's own rule: an infinite
    # tangent becomes NaN there too)
    if act == 1:
        return _relu(v)
    if act == 2:
        return v * (ref > 0)
    return v


@kernel
def _wino_out(m, bias, a, z, th, tw, y, act, ref):
    # y[n, o, 2ti + p, 2tj + q] = (Aᵀ M A)[p, q] + bias[o] + Σ_r a[r, o] z[n, r, 2ti + p,
    # 2tj + q], M[ξ] = m[ξ, o, column of the tile] in _wino_in's layout (tw + 1 columns
    # per row of tiles, the last one junk). The sum over r (usually empty) adds the
    # rank-one weight tangents' part a[o]·conv(x, b) of a tangent. ``act`` (see _act)
    # applies a following ReLU while the tile is in registers; ref is y's shape.
    nb, o_n = y.shape[0], y.shape[1]
    for no in prange(nb * o_n):
        n = no // o_n
        o = no % o_n
        _wino_plane(m, bias, a, z, th, tw, n, o, y[n, o], act, ref[n, o])


@jit(inline=True)
def _wino_plane(m, bias, a, z, th, tw, n, o, y, act, ref):
    # plane (n, o) of _wino_out into y (2 th, 2 tw)
    nr = a.shape[0]
    w2 = tw + 1
    plane = th * w2
    bo = bias[o]
    for ti in range(th):
        base = n * plane + ti * w2
        for tj in range(tw):
            col = base + tj
            # rows of Aᵀ M
            s0 = m[0, o, col] + m[4, o, col] + m[8, o, col]
            s1 = m[1, o, col] + m[5, o, col] + m[9, o, col]
            s2 = m[2, o, col] + m[6, o, col] + m[10, o, col]
            s3 = m[3, o, col] + m[7, o, col] + m[11, o, col]
            u0 = m[4, o, col] - m[8, o, col] - m[12, o, col]
            u1 = m[5, o, col] - m[9, o, col] - m[13, o, col]
            u2 = m[6, o, col] - m[10, o, col] - m[14, o, col]
            u3 = m[7, o, col] - m[11, o, col] - m[15, o, col]
            r0, r1 = 2 * ti, 2 * ti + 1
            c0, c1 = 2 * tj, 2 * tj + 1
            y00 = s0 + s1 + s2 + bo
            y01 = s1 - s2 - s3 + bo
            y10 = u0 + u1 + u2 + bo
            y11 = u1 - u2 - u3 + bo
            for r in range(nr):
                ar = a[r, o]
                y00 += ar * z[n, r, r0, c0]
                y01 += ar * z[n, r, r0, c1]
                y10 += ar * z[n, r, r1, c0]
                y11 += ar * z[n, r, r1, c1]
            y[r0, c0] = _act(y00, act, ref[r0, c0])
            y[r0, c1] = _act(y01, act, ref[r0, c1])
            y[r1, c0] = _act(y10, act, ref[r1, c0])
            y[r1, c1] = _act(y11, act, ref[r1, c1])


@jit
def _bt6(d0, d1, d2, d3, d4, d5):
    # Bᵀ d for F(4×4, 3×3), Bᵀ's rows: [4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0],
    # [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1];
    # the products by 2, 4 and 5 are sums, which keep float32 arithmetic in float32 (and
    # doublings are exact)
    d00 = d0 + d0
    d00 = d00 + d00
    d11 = d1 + d1
    d11 = d11 + d11
    d22 = d2 + d2
    d22 = d22 + d22
    d33 = d3 + d3
    d33 = d33 + d33
    e = d4 - d22
    f = d3 - d11
    g = d4 - d2
    h = d3 - d1
    h = h + h
    return (d00 - (d22 + d2) + d4, e + f, e - f, g + h, g - h, d11 - (d33 + d3) + d5)


@jit
def _at6(m0, m1, m2, m3, m4, m5):
    # Aᵀ m for F(4×4, 3×3), Aᵀ's rows: [1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0],
    # [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]
    a12 = m1 + m2
    d12 = m1 - m2
    a34 = m3 + m4
    d34 = m3 - m4
    a2 = a34 + a34
    d2 = d34 + d34
    d4 = d2 + d2
    return m0 + a12 + a34, d12 + d2, a12 + a2 + a2, d12 + d4 + d4 + m5


@kernel
def _wino4_in(x, ph, pw, hp, wp, th, v, c0):
    # F(4×4, 3×3): v[6i + j, c0 + c, n·P + ti·W4 + tj] = (Bᵀ d B)[i, j] for the 6×6 tile
    # d of xp (as in _wino_in) at (4 ti, 4 tj), W4 = wp / 4 = tw + 1 (one junk tile per
    # row, as in _wino_in), P = th·W4.
    nb, c_in = x.shape[0], x.shape[1]
    w4 = wp // 4
    plane = th * w4
    for nc in prange(nb * c_in):
        n = nc // c_in
        c = nc % c_in
        ch = c0 + c
        xp = _padded_plane(x, n, c, ph, pw, hp, wp)
        rows = np.empty((6, th * wp + 8), x.dtype)  # Bᵀ d, row by row; +8: junk reads
        rows[:, th * wp:] = 0
        for ti in range(th):
            r = 4 * ti
            o = ti * wp
            for q in range(wp):
                b0, b1, b2, b3, b4, b5 = _bt6(xp[r, q], xp[r + 1, q], xp[r + 2, q],
                                              xp[r + 3, q], xp[r + 4, q], xp[r + 5, q])
                rows[0, o + q] = b0
                rows[1, o + q] = b1
                rows[2, o + q] = b2
                rows[3, o + q] = b3
                rows[4, o + q] = b4
                rows[5, o + q] = b5
        base = n * plane
        for i in range(6):
            z = rows[i]
            o0 = v[6 * i, ch, base:base + plane]
            o1 = v[6 * i + 1, ch, base:base + plane]
            o2 = v[6 * i + 2, ch, base:base + plane]
            o3 = v[6 * i + 3, ch, base:base + plane]
            o4 = v[6 * i + 4, ch, base:base + plane]
            o5 = v[6 * i + 5, ch, base:base + plane]
            for t in range(plane):
                q = 4 * t
                b0, b1, b2, b3, b4, b5 = _bt6(z[q], z[q + 1], z[q + 2], z[q + 3], z[q + 4],
                                              z[q + 5])
                o0[t] = b0
                o1[t] = b1
                o2[t] = b2
                o3[t] = b3
                o4[t] = b4
                o5[t] = b5


@jit(inline=True)
def _wino4_plane(m, bias, a, z, th, tw, n, o, s, y, act, ref):
    # plane (n, o) of _wino4_out into y (4 th, 4 tw), with s a scratch (4, 6, P)
    nr = a.shape[0]
    act_now = act if nr == 0 else 0
    w4 = tw + 1
    plane = th * w4
    bo = bias[o]
    base = n * plane
    for j in range(6):
        r0 = m[j, o, base:base + plane]
        r1 = m[6 + j, o, base:base + plane]
        r2 = m[12 + j, o, base:base + plane]
        r3 = m[18 + j, o, base:base + plane]
        r4 = m[24 + j, o, base:base + plane]
        r5 = m[30 + j, o, base:base + plane]
        for t in range(plane):
            s[0, j, t], s[1, j, t], s[2, j, t], s[3, j, t] = _at6(
                r0[t], r1[t], r2[t], r3[t], r4[t], r5[t])
    for p in range(4):
        for ti in range(th):
            yrow = y[4 * ti + p]
            rrow = ref[4 * ti + p]
            t0 = ti * w4
            for tj in range(tw):
                t = t0 + tj
                y0, y1, y2, y3 = _at6(s[p, 0, t], s[p, 1, t], s[p, 2, t], s[p, 3, t],
                                      s[p, 4, t], s[p, 5, t])
                q = 4 * tj
                yrow[q] = _act(y0 + bo, act_now, rrow[q])
                yrow[q + 1] = _act(y1 + bo, act_now, rrow[q + 1])
                yrow[q + 2] = _act(y2 + bo, act_now, rrow[q + 2])
                yrow[q + 3] = _act(y3 + bo, act_now, rrow[q + 3])
    if nr:
        for i in range(y.shape[0]):
            for q in range(y.shape[1]):
                v = y[i, q]
                for r in range(nr):
                    v += a[r, o] * z[n, r, i, q]
                y[i, q] = _act(v, act, ref[i, q])


@kernel
def _wino4_out(m, bias, a, z, th, tw, y, act, ref):
    # y[n, o, 4ti + p, 4tj + q] = (Aᵀ M A)[p, q] + bias[o] + Σ_r a[r, o] z[n, r, ., .],
    # M[i, j] = m[6i + j, o, column of the tile] in _wino4_in's layout. Two phases per
    # plane, as _wino4_in: Aᵀ M for all tiles at once (long contiguous loops over the
    # tiles, which LLVM vectorizes), then (Aᵀ M) A row by row. ``act`` as in _wino_out:
    # in the second phase, or after the rank-one terms when there are some (the plane
    # is still in L1 then).
    nb, o_n = y.shape[0], y.shape[1]
    for no in prange(nb * o_n):
        n = no // o_n
        o = no % o_n
        s = np.empty((4, 6, th * (tw + 1)), y.dtype)  # Aᵀ M, tile by tile
        _wino4_plane(m, bias, a, z, th, tw, n, o, s, y[n, o], act, ref[n, o])


@jit
def _first_max(v0, v1, v2, v3):
    # (maximum, its index) over a 2×2 window in row-major order: the first maximum wins
    # ties, a NaN wins once met (the rules of pool._max_pool_2x2)
    best = v0
    k = 0
    take = (v1 > best) | ((v1 != v1) & (best == best))
    best = v1 if take else best
    k = 1 if take else k
    take = (v2 > best) | ((v2 != v2) & (best == best))
    best = v2 if take else best
    k = 2 if take else k
    take = (v3 > best) | ((v3 != v3) & (best == best))
    best = v3 if take else best
    k = 3 if take else k
    return best, k


@jit
def _pool_plane(full, mode, where, ref, y):
    # a plane's 2×2 max-pool from ``full``, its ReLU'd value (mode 1; the argmaxes go to
    # where) or a tangent (mode 2: the entries at where, through the ReLU whose pooled
    # value is ref). The first maximum wins ties, a NaN wins once met (pool's rules).
    if mode == 1:
        for i in range(y.shape[0]):
            r0 = full[2 * i]
            r1 = full[2 * i + 1]
            for j in range(y.shape[1]):
                c = 2 * j
                best, k = _first_max(r0[c], r0[c + 1], r1[c], r1[c + 1])
                y[i, j] = best
                where[i, j] = k
    else:
        for i in range(y.shape[0]):
            r = 2 * i
            for j in range(y.shape[1]):
                k = where[i, j]
                y[i, j] = full[r + (k >> 1), 2 * j + (k & 1)] * (ref[i, j] > 0)


@kernel
def _wino_out_pool(m, bias, a, z, th, tw, y, mode, idx, ref):
    # _wino_out followed by ReLU and a 2×2 max-pool, as _wino4_out_pool
    nb, o_n = y.shape[0], y.shape[1]
    for no in prange(nb * o_n):
        n = no // o_n
        o = no % o_n
        full = np.empty((2 * th, 2 * tw), y.dtype)
        _wino_plane(m, bias, a, z, th, tw, n, o, full, 1 if mode == 1 else 0, full)
        _pool_plane(full, mode, idx[n, o], ref[n, o], y[n, o])


@kernel
def _wino4_out_pool(m, bias, a, z, th, tw, y, mode, idx, ref):
    # _wino4_out followed by ReLU and a 2×2 max-pool: each plane is made in an L1
    # scratch plane and pooled from there (_pool_plane), so only the pooled plane y
    # (2 th, 2 tw) goes to memory
    nb, o_n = y.shape[0], y.shape[1]
    for no in prange(nb * o_n):
        n = no // o_n
        o = no % o_n
        s = np.empty((4, 6, th * (tw + 1)), y.dtype)
        full = np.empty((4 * th, 4 * tw), y.dtype)
        _wino4_plane(m, bias, a, z, th, tw, n, o, s, full, 1 if mode == 1 else 0, full)
        _pool_plane(full, mode, idx[n, o], ref[n, o], y[n, o])


_G4 = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])


def _wino_weights(w, g=_G):
    """(..., O, C, 3, 3) filters as (..., r², O, C): ``G g Gᵀ`` per tile position (r = 4
    for F(2×2, 3×3), 6 for F(4×4, 3×3)), computed in float64 (F(4×4)'s G has sixths)."""
    # one GEMM over every filter, straight into the (r², O, C) layout: (G ⊗ G) vec(w)
    # (a stacked matmul of 3×3 matrices would run one tiny product per filter)
    lead, (o, c) = w.shape[:-4], w.shape[-4:-2]
    flat = w.astype(np.float64).reshape(lead + (o * c, 9))
    u = np.matmul(np.kron(g, g), np.swapaxes(flat, -1, -2))  # (..., r², O·C)
    u = u.reshape(lead + (-1, o, c))
    return np.ascontiguousarray(u, w.dtype)


class _Winograd:
    """The geometry of one F(m×m, 3×3) convolution of ``n`` images, m = 2 or 4."""

    def __init__(self, shape, padding, dtype, m=2):
        n, c, h, w = shape
        ph, pw = padding
        self.m = m
        self.xi = (m + 2) ** 2  # numbers per tile: the GEMMs
        self.ho, self.wo = h + 2 * ph - 2, w + 2 * pw - 2
        self.th, self.tw = -(-self.ho // m), -(-self.wo // m)
        self.n, self.c, self.ph, self.pw, self.dtype = n, c, ph, pw, dtype
        self.plane = self.th * (self.tw + 1)  # one junk tile per row of tiles
        self.cols = n * self.plane
        self._in, self._out, self._out_pool = (
            (_wino_in, _wino_out, _wino_out_pool) if m == 2
            else (_wino4_in, _wino4_out, _wino4_out_pool))
        # tiles cover the output exactly: every 2×2 pooling window lies in one tile
        self.poolable = self.ho % m == 0 and self.wo % m == 0

    def weights(self, w):
        return _wino_weights(w, _G if self.m == 2 else _G4)

    def transform(self, x, v, c0):
        # the kernel pads each plane in a scratch buffer: a zero border so that every
        # tile is inside, the width whole tiles plus the junk tile of each row
        m = self.m
        hp, wp = m * self.th + 2, m * (self.tw + 1)
        x = np.ascontiguousarray(x, self.dtype)
        self._in(x.shape[0] * self.c * hp * wp, x, self.ph, self.pw, hp, wp, self.th, v, c0)

    def output(self, m, bias, dst, a=None, z=None, act=0, ref=None):
        """Aᵀ M A (+ bias) (+ Σ_r a[r, o] z[:, r], z from :meth:`full`) into ``dst``
        (images, O, Ho, Wo), then ReLU (act 1) or masked by ``ref > 0`` (act 2, ref the
        value, dst's shape)."""
        o = dst.shape[1]
        if bias is None:
            bias = np.zeros(o, self.dtype)
        full = (self.m * self.th, self.m * self.tw)
        if a is None:
            a = np.zeros((0, o), self.dtype)
            z = np.zeros((dst.shape[0], 0) + full, self.dtype)
        if tuple(dst.shape[2:]) == full:
            self._out(dst.size, m, bias, a, z, self.th, self.tw, dst, act,
                      dst if ref is None else ref)
            return
        # ragged edges: whole tiles into a buffer; the mask is applied on the way back,
        # where ref and dst have one shape
        y = self.full(dst.shape[:2])
        self._out(y.size, m, bias, a, z, self.th, self.tw, y, act if act == 1 else 0, y)
        if act == 2:
            np.multiply(y[:, :, :self.ho, :self.wo], ref > 0, out=dst)
        else:
            dst[...] = y[:, :, :self.ho, :self.wo]

    def output_pooled(self, m, bias, dst, mode, idx, ref=None, a=None, z=None):
        """As :meth:`output`, then ReLU and a 2×2 max-pool into ``dst`` (images, O,
        Ho / 2, Wo / 2) (needs :attr:`poolable`). mode 1: the value, each window's
        argmax written to ``idx`` (dst's shape, int8); mode 2: a tangent, read at idx
        and masked by ``ref > 0``, ref the pooled value."""
        o = dst.shape[1]
        if bias is None:
            bias = np.zeros(o, self.dtype)
        if a is None:
            a = np.zeros((0, o), self.dtype)
            z = np.zeros((dst.shape[0], 0, self.ho, self.wo), self.dtype)
        self._out_pool(dst.size * 4, m, bias, a, z, self.th, self.tw, dst, mode, idx,
                       dst if ref is None else ref)

    def full(self, lead):
        """An output buffer covering whole tiles (rows and columns past Ho, Wo)."""
        return np.empty(tuple(lead) + (self.m * self.th, self.m * self.tw), self.dtype)


#: Narrowest output (columns) that takes F(4×4, 3×3).
_F4_MIN_WIDTH = 20

#: Bytes of transformed input per chunk of images: chunks keep the 16 GEMMs' operands
#: in the caches and reuse their buffers, instead of touching fresh pages each call.
_CHUNK_BYTES = 8 << 20


def _winograd(x, tx, w, tw, b, tb, padding, k, fa=None, fb=None, m=2, relu=False,
              pool=False):
    geo = _Winograd(x.shape, padding, x.dtype, m)  # pool (after relu): needs geo.poolable
    n = x.shape[0]
    o, c = w.shape[0], w.shape[1]
    xi = geo.xi
    u = geo.weights(w)  # (ξ, O, C)
    ut = None if tw is None else geo.weights(tw)  # ((K,) ξ, O, C)
    nr = 0 if fb is None else fb.shape[0]
    # rank-one weight tangents a_r ⊗ b_r: conv(x, b_r) are R more output channels of the
    # value's GEMM, and the output transform adds a_r[o]·conv(x, b_r) to the tangent
    ux = u if fb is None else np.concatenate([u, geo.weights(fb)], axis=1)
    two = tx is not None  # v rows: [V(ẋ) (C rows); V(x) (C rows)], or [V(x)]
    rows = 2 * c if two else c
    y = np.empty((n, o) + ((geo.ho // 2, geo.wo // 2) if pool else (geo.ho, geo.wo)),
                 x.dtype)
    # each pooling window's argmax, from the value, for the tangents
    where = np.empty(y.shape, np.int8) if pool else None
    tangent = tx is not None or tw is not None or tb is not None or fb is not None
    t = np.empty(((k,) if k is not None else ()) + y.shape, x.dtype) if tangent else None
    # chunks of images: each keeps its GEMMs' operands in the caches, and the chunks
    # run side by side on the kernel threads (parallel_pieces), as many per thread
    per = max(1, _CHUNK_BYTES // (xi * rows * geo.plane * x.itemsize))  # images
    nt = threads()
    count = -(-n // per)
    count = -(-count // nt) * nt  # a multiple of the threads: none waits for the last
    step = -(-n // min(count, n))
    dirs = []  # per direction: (the tangent GEMM's left operand, whether it reads V(ẋ))
    for i in range(1 if k is None else k):
        utk = None if ut is None else (ut if k is None else ut[i])
        if tx is not None:
            dirs.append((u if utk is None else np.concatenate([u, utk], axis=2), True))
        else:
            dirs.append((utk, False))

    def chunk(n0):
        n1 = min(n, n0 + step)
        v = np.empty((xi, rows, (n1 - n0) * geo.plane), x.dtype)
        geo.transform(x[n0:n1], v, c if two else 0)
        vx = v[:, c:] if two else v
        mx = np.matmul(ux, vx)
        yc = y[n0:n1]
        wc = None if where is None else where[n0:n1]
        if pool:
            geo.output_pooled(mx if fb is None else mx[:, :o], b, yc, 1, wc)
        else:
            geo.output(mx if fb is None else mx[:, :o], b, yc, act=int(relu))
        if not tangent:
            return
        act = 2 if relu else 0  # the tangents through the ReLU: yc is final by now
        z = None
        if fb is not None:
            z = geo.full((n1 - n0, nr))
            geo.output(mx[:, o:], None, z)
        for i, (left, reads_tx) in enumerate(dirs):
            pick = (lambda a: a) if k is None else (lambda a: a[i])
            dst = t[n0:n1] if k is None else t[i, n0:n1]
            tbk = None if tb is None else pick(tb)
            # the rank-one part: all R terms summed (k None), or term i (direction i)
            ak = None if fa is None else (fa if k is None else fa[i:i + 1])
            zk = None if z is None else (z if k is None else z[:, i:i + 1])
            if reads_tx:
                geo.transform(pick(tx)[n0:n1], v, 0)
                mt = np.matmul(left, v[:, :left.shape[2]])
            elif left is not None:
                mt = np.matmul(left, vx)
            elif pool:  # no GEMM: the full tangent, then its entries at the argmaxes
                full = np.empty((n1 - n0, o, geo.ho, geo.wo), x.dtype)
                if ak is not None:
                    _rank_one(ak, zk, tbk, full)
                else:
                    full[...] = tbk.reshape(-1, 1, 1)
                _pool_pick(full, wc, yc, dst)
                continue
            elif ak is not None:
                _rank_one(ak, zk[:, :, :geo.ho, :geo.wo], tbk, dst, yc if relu else None)
                continue
            else:
                dst[...] = tbk.reshape(-1, 1, 1)
                if relu:
                    dst *= yc > 0
                continue
            if pool:
                geo.output_pooled(mt, tbk, dst, 2, wc, yc, ak, zk)
            else:
                geo.output(mt, tbk, dst, ak, zk, act, yc)

    parallel_pieces(chunk, range(0, n, step))
    return y, t


def _pool_pick(full, where, ref, dst):
    """dst (N, O, H/2, W/2) = full's entry at each 2×2 window's argmax ``where`` (0..3,
    row-major), through the ReLU whose pooled value is ``ref``."""
    nb, o, h, w = full.shape
    win = full.reshape(nb, o, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    win = win.reshape(nb, o, h // 2, w // 2, 4)
    picked = np.take_along_axis(win, where[..., None].astype(np.intp), axis=-1)[..., 0]
    np.multiply(picked, ref > 0, out=dst)


@kernel
def _rank_one_kernel(a, z, bias, dst, act, ref):
    # dst[n, o, p] = Σ_r a[r, o] z[n, r, p] + bias[o], masked by ref > 0 with act 2
    nb, o_n, hw = dst.shape
    nr = a.shape[0]
    for no in prange(nb * o_n):
        n = no // o_n
        o = no % o_n
        bo = bias[o]
        for p in range(hw):
            dst[n, o, p] = bo
        for r in range(nr):
            ar = a[r, o]
            for p in range(hw):
                dst[n, o, p] += ar * z[n, r, p]
        if act:
            for p in range(hw):
                dst[n, o, p] = _act(dst[n, o, p], act, ref[n, o, p])


def _rank_one(a, z, bias, dst, ref=None):
    """dst (N, O, ...) = Σ_r a[r, o] z[:, r] + bias: the tangent of a convolution whose
    only perturbed argument is a rank-R weight (besides the bias), from z = conv(x, b_r)
    (N, R, ...); through a ReLU whose value is ``ref`` (dst's shape) when given."""
    nb, o = dst.shape[:2]
    bias = np.zeros(o, dst.dtype) if bias is None else bias
    out = dst if dst.flags.c_contiguous else np.empty(dst.shape, dst.dtype)
    flat = out.reshape(nb, o, -1)
    _rank_one_kernel(out.size, np.ascontiguousarray(a), np.ascontiguousarray(z).reshape(
        nb, z.shape[1], -1), bias, flat, 0 if ref is None else 2,
        flat if ref is None else np.ascontiguousarray(ref).reshape(nb, o, -1))
    if out is not dst:
        dst[...] = out


# ============================================================== im2col path
def _gemm_cols(w, b):
    """[w as (O, rows) | b] for a GEMM against [unfold(x); 1]."""
    o = w.shape[0]
    wm = w.reshape(o, -1)
    if b is None:
        return wm
    return np.concatenate([wm, b.reshape(o, 1)], axis=1)


def _im2col_conv(x, tx, w, tw, b, tb, stride, padding, k, fa=None, fb=None, relu=False):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho, wo = out_size(h, wd, kh, kw, *stride, *padding)
    r = c * kh * kw
    one_row = b is not None or tb is not None
    two = tx is not None
    # rows: [unfold(ẋ) (r rows, when ẋ is there); unfold(x) (r rows); ones (1 row)]
    x0 = r if two else 0
    buf = np.empty((n, x0 + r + (1 if one_row else 0), ho * wo), x.dtype)
    im2col(x, (kh, kw), stride, padding, buf, x0)
    if one_row:
        buf[:, x0 + r, :] = 1
    wb = _gemm_cols(w, b) if b is not None else w.reshape(o, -1)
    if fb is not None:
        # rank-one weight tangents a_r ⊗ b_r: conv(x, b_r) are R more rows of the GEMM
        fm = fb.reshape(fb.shape[0], -1)
        if wb.shape[1] > r:
            fm = np.concatenate([fm, np.zeros((fm.shape[0], 1), x.dtype)], axis=1)
        wb = np.concatenate([wb, fm])
    yz = np.matmul(wb, buf[:, x0:x0 + wb.shape[1]])
    y = (yz if fb is None else yz[:, :o]).reshape(n, o, ho, wo)
    z = None if fb is None else yz[:, o:]  # (N, R, Ho·Wo)
    if fb is not None:
        y = np.ascontiguousarray(y)
    if relu:  # the GEMM wrote y: one more pass over it, in place
        np.maximum(y, 0, out=y)
    if tx is None and tw is None and tb is None and fb is None:
        return y, None
    yf = y.reshape(n, o, ho * wo)
    mask = None  # y > 0, made once for the K tangents that need it

    def masked(out):
        nonlocal mask
        if relu:
            if mask is None:
                mask = yf > 0
            out *= mask
        return out

    def one(txk, twk, tbk, ak, zk):
        if txk is not None:
            im2col(txk, (kh, kw), stride, padding, buf, 0)
            blocks = [w.reshape(o, -1)]
            if twk is not None or tbk is not None:
                blocks.append(twk.reshape(o, -1) if twk is not None
                              else np.zeros((o, r), x.dtype))
            if tbk is not None:
                blocks.append(tbk.reshape(o, 1))
            mat = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
            out = np.matmul(mat, buf[:, :mat.shape[1]])
            if ak is not None:
                out += np.einsum("ro,nrp->nop", ak, zk)
            return masked(out)
        if twk is not None:
            mat = _gemm_cols(twk, tbk) if tbk is not None else twk.reshape(o, -1)
            return masked(np.matmul(mat, buf[:, x0:x0 + mat.shape[1]]))
        out = np.empty((n, o, ho * wo), x.dtype)
        if ak is not None:
            _rank_one(ak, zk, tbk, out, yf if relu else None)
        else:
            out[...] = tbk.reshape(o, 1)
            masked(out)
        return out

    if k is None:
        return y, one(tx, tw, tb, fa, z).reshape(y.shape)
    t = np.empty((k,) + y.shape, x.dtype)
    for i in range(k):
        t[i] = one(None if tx is None else tx[i], None if tw is None else tw[i],
                   None if tb is None else tb[i], None if fa is None else fa[i:i + 1],
                   None if z is None else z[:, i:i + 1]).reshape(y.shape)
    return y, t


# ============================================================== the rule's kernel
def conv2d(primals, tangents, kwargs, k, relu=False):
    """conv2d's (value, tangent) for float arrays, or None (the NumPy path then runs).
    ``kwargs`` holds ``stride`` and ``padding`` as pairs (the rule normalises them).
    ``relu``: of ``relu(conv2d(...))`` instead, the ReLU applied where each output is
    written."""
    x, w = primals[0], primals[1]
    b = primals[2] if len(primals) > 2 else None
    if type(x) is not np.ndarray or type(w) is not np.ndarray:
        return None
    dtype = np.result_type(x.dtype, w.dtype, np.float32)
    if dtype not in _FLOATS or (b is not None and type(b) is not np.ndarray):
        return None
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    ts = list(tangents) + [None] * (3 - len(tangents))
    lead = 0 if k is None else 1
    fa = fb = None
    if ts[1] is not None and type(ts[1]) is not np.ndarray:
        factors = low_rank_factors(ts[1], k, w.shape, dtype)
        if factors is None:
            return None
        fa, fb = factors
        ts[1] = None
    for i, (t, nd) in enumerate(zip(ts, (4, 4, 1))):
        if t is None:
            continue
        if type(t) is not np.ndarray or t.ndim != nd + lead or t.dtype.kind != "f":
            return None
        ts[i] = t.astype(dtype, copy=False)
    tx, tw, tb = ts
    stride, padding = kwargs["stride"], kwargs["padding"]
    pool = kwargs.get("pool") if relu else None
    # Winograd's 16 GEMMs have C as their inner dimension: for a few input channels
    # (a network's first layer) im2col's C·9 is the better GEMM
    if w.shape[2:] == (3, 3) and stride == (1, 1) and w.shape[1] >= 16:
        ho = x.shape[2] + 2 * padding[0] - 2
        wo = x.shape[3] + 2 * padding[1] - 2
        # F(4×4) where its tiles cover the output exactly and rows of tiles are long
        # enough to pay for its wider transforms (6×6 tiles): 28×28 maps, not 14×14
        m = 4 if ho % 4 == 0 and wo % 4 == 0 and wo >= _F4_MIN_WIDTH else 2
        if pool == (2, 2) and ho % m == 0 and wo % m == 0:
            return _winograd(x, tx, w, tw, b, tb, padding, k, fa, fb, m, True, True)
        res = _winograd(x, tx, w, tw, b, tb, padding, k, fa, fb, m, relu)
    else:
        res = _im2col_conv(x, tx, w, tw, b, tb, stride, padding, k, fa, fb, relu)
    if pool is None:
        return res
    # a pooling the output transforms do not take: pooled afterwards, by its kernel
    return _pool.max_pool2d((res[0], pool), (res[1],), {"stride": pool}, k)


def conv2d_relu(primals, tangents, kwargs, k):
    """conv2d_relu's (value, tangent), or None: :func:`conv2d` with the ReLU (and the
    max-pooling, kwargs["pool"]) fused."""
    return conv2d(primals, tangents, kwargs, k, relu=True)
