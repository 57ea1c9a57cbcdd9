"""Winograd's minimal filtering for 3×3 convolutions: the tile transforms.

F(m×m, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR
2016) for m = 2 and m = 4: every (m+2)×(m+2) input tile d becomes ``Bᵀ d B``, every
filter ``G g Gᵀ``, the convolution is (m+2)² independent GEMMs (one per tile position,
done by :mod:`dualnum.kernels.conv` through NumPy), and every m×m output tile is
``Aᵀ M A``.

Layout. A transform is a few additions per number, so it is as fast as its loops
vectorize. Tiles overlap by two rows and columns, so a loop over tiles reads with a
stride of m, which LLVM turns into gathers. Here each padded plane is first split into
its *phases*: its rows are stored in phase order (row m·s + ρ at ρ·(th + 1) + s, free
while copying the plane in) and one pass over whole groups of m consecutive numbers
splits the columns (``P[κ, ρ·L + s·W + t] = xpad[m·s + ρ, m·t + κ]``, L = (th + 1)·W).
Entry (δ, κ) of the tile at (ti, tj) is then ``P[κ mod m]`` at
``(δ mod m)·L + (ti + δ // m)·W + tj + κ // m``: both passes of ``Bᵀ d B`` are long
unit-stride loops over all the plane's tiles at once. The output side mirrors it:
``Aᵀ M A`` for a block of planes at once into phase planes ``Y[p·m + q, u]``, which the
ReLU and the 2×2 max-pool read as whole vectors (each pooling window lies in one tile),
and one scalar pass puts the numbers in place (the only pass that scatters).

Each row of tiles has W = tw + 1 columns, one of them junk (tj = tw): a plane's tiles are
then one flat run in the GEMMs' columns (``n·P + ti·W + tj``, P = th·W); the GEMMs carry
the junk columns along and the output transforms skip them.

The transforms are additions and multiplications by 2, 4 and 8 (exact), and for
F(4×4) by sixths in G only (the filters are transformed in float64); float32 results
stay within a few ulp of the direct sum for F(2×2), about ten times that for F(4×4).
"""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import jit, kernel

# F(2×2, 3×3)
# Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
# G  = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]]
# Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]
G2 = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
# F(4×4, 3×3): Bᵀ and Aᵀ in _bt6 and _at6
G4 = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])


def weights(w, m):
    """(..., O, C, 3, 3) filters as (..., (m+2)², O, C): ``G g Gᵀ`` per tile position,
    computed in float64 (F(4×4)'s G has sixths)."""
    # one GEMM over every filter, straight into the (r², O, C) layout: (G ⊗ G) vec(w)
    # (a stacked matmul of 3×3 matrices would run one tiny product per filter)
    g = G2 if m == 2 else G4
    lead, (o, c) = w.shape[:-4], w.shape[-4:-2]
    flat = w.astype(np.float64).reshape(lead + (o * c, 9))
    u = np.matmul(np.kron(g, g), np.swapaxes(flat, -1, -2))  # (..., r², O·C)
    u = u.reshape(lead + (-1, o, c))
    return np.ascontiguousarray(u, w.dtype)


# ============================================================== the 1-d transforms
@jit
def _bt4(d0, d1, d2, d3):
    return d0 - d2, d1 + d2, d2 - d1, d1 - d3


@jit
def _at4(m0, m1, m2, m3):
    return m0 + m1 + m2, m1 - m2 - m3


@jit
def _bt6(d0, d1, d2, d3, d4, d5):
    # Bᵀ's rows: [4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
    # [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]; the products by 2,
    # 4 and 5 are sums, which keep float32 arithmetic in float32 (doublings are exact)
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
    # Aᵀ's rows: [1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
    # [0, 1, -1, 8, -8, 1]
    a12 = m1 + m2
    d12 = m1 - m2
    a34 = m3 + m4
    d34 = m3 - m4
    a2 = a34 + a34
    d2 = d34 + d34
    d4 = d2 + d2
    return m0 + a12 + a34, d12 + d2, a12 + a2 + a2, d12 + d4 + d4 + m5


# ============================================================== input transform
# How the loops below are written, so that LLVM vectorizes them:
# * each loop runs over a whole plane (or block of planes), loads runs of consecutive
#   numbers and stores to one scratch array (a strided load becomes a gather; a loop
#   over one row of tiles is shorter than a vector body);
# * an index that adds a runtime offset to the loop counter is unsigned (_u): numba
#   wraps negative indices around, and that select on a signed index hides the
#   access's stride from LLVM;
# * v and the GEMM outputs are copied to and from the scratch one tile position at a
#   time, in runs of a block of planes: v's 36 rows for one plane lie a multiple of
#   4 KiB apart and would share the same cache sets.
_u = np.uint64

#: Planes (of one channel, consecutive images) per block: the block's transformed tiles
#: stay in L1/L2 between the transform and the copy.
_BLOCK = 16

#: Loops over a plane's tiles run this many (a multiple of it) iterations: LLVM's vector
#: body takes 16 float32 numbers four times over, and a shorter loop (a 28×28 plane has
#: 56 tiles) would run in its scalar remainder. The extra iterations compute numbers
#: nobody reads, in scratch arrays with room for them.
_SPAN = 64


@kernel
def _input(x, ph, pw, th, tw, m, v, c0):
    # v[(m+2)·i + j, c0 + c, n·P + ti·W + tj] = (Bᵀ d B)[i, j] for the tile d of x[n, c]
    # padded by (ph, pw) zeros at (m·ti, m·tj)
    nb, c_in, h, w = x.shape
    r = m + 2
    wt = tw + 1
    plane = th * wt
    ln = (th + 1) * wt  # a row phase: the tile rows and the rows below the last
    hp = m * th + 2
    hh = min(h, hp - ph)
    ww = min(w, m * wt - pw)
    nbk = (nb + _BLOCK - 1) // _BLOCK
    uw, upw = _u(wt), _u(pw)
    # the vertical pass runs a whole number of vector bodies per plane; what it writes
    # past a plane, the next plane overwrites (the last one's goes to the slack)
    span = -(-plane // _SPAN) * _SPAN
    for cb in prange(c_in * nbk):
        c = cb // nbk
        n0 = (cb % nbk) * _BLOCK
        nn = min(_BLOCK, nb - n0)
        # the padded plane with its rows in phase order (row m·s + ρ at ρ·(th + 1) + s);
        # the border stays zero
        xp = np.zeros((m * (th + 1), m * wt), x.dtype)
        xf = xp.reshape(-1)
        # ps[κ, ρ·ln + s·W + t] = padded[m·s + ρ, m·t + κ]; +1: the shifted reads
        ps = np.zeros((m, m * ln + 1), x.dtype)
        # Bᵀ along the rows; slack: the vertical pass reads past the last row (as below)
        hf = np.empty(r * m * ln + _SPAN + wt, x.dtype)
        hs = hf[:r * m * ln].reshape(r, m * ln)
        h3 = hf[:r * m * ln].reshape(r, m, ln)
        vs = np.empty((r * r, nn * plane + _SPAN), x.dtype)
        for b in range(nn):
            n = n0 + b
            ub = _u(b * plane)
            for i in range(hh):
                rr = i + ph
                row = (rr % m) * (th + 1) + rr // m
                for j in range(ww):
                    xp[row, upw + _u(j)] = x[n, c, i, j]
            if m == 4:
                for g in range(4 * ln):
                    a0, a1, a2, a3 = xf[4 * g], xf[4 * g + 1], xf[4 * g + 2], xf[4 * g + 3]
                    ps[0, g] = a0
                    ps[1, g] = a1
                    ps[2, g] = a2
                    ps[3, g] = a3
                # along the rows: column κ of a tile is phase κ mod m, shifted by κ // m
                for g in range(4 * ln):
                    b0, b1, b2, b3, b4, b5 = _bt6(ps[0, g], ps[1, g], ps[2, g], ps[3, g],
                                                  ps[0, g + 1], ps[1, g + 1])
                    hs[0, g] = b0
                    hs[1, g] = b1
                    hs[2, g] = b2
                    hs[3, g] = b3
                    hs[4, g] = b4
                    hs[5, g] = b5
                # down the columns: row δ of a tile is row phase δ mod m, one row of tiles
                # lower per m
                for j in range(6):
                    for u in range(span):
                        q = _u(u)
                        b0, b1, b2, b3, b4, b5 = _bt6(
                            h3[j, 0, q], h3[j, 1, q], h3[j, 2, q], h3[j, 3, q],
                            h3[j, 0, uw + q], h3[j, 1, uw + q])
                        vs[j, ub + q] = b0
                        vs[6 + j, ub + q] = b1
                        vs[12 + j, ub + q] = b2
                        vs[18 + j, ub + q] = b3
                        vs[24 + j, ub + q] = b4
                        vs[30 + j, ub + q] = b5
            else:
                for g in range(2 * ln):
                    a0, a1 = xf[2 * g], xf[2 * g + 1]
                    ps[0, g] = a0
                    ps[1, g] = a1
                for g in range(2 * ln):
                    b0, b1, b2, b3 = _bt4(ps[0, g], ps[1, g], ps[0, g + 1], ps[1, g + 1])
                    hs[0, g] = b0
                    hs[1, g] = b1
                    hs[2, g] = b2
                    hs[3, g] = b3
                for j in range(4):
                    for u in range(span):
                        q = _u(u)
                        b0, b1, b2, b3 = _bt4(h3[j, 0, q], h3[j, 1, q], h3[j, 0, uw + q],
                                              h3[j, 1, uw + q])
                        vs[j, ub + q] = b0
                        vs[4 + j, ub + q] = b1
                        vs[8 + j, ub + q] = b2
                        vs[12 + j, ub + q] = b3
        dst0 = _u(n0 * plane)
        for xi in range(r * r):
            for u in range(nn * plane):
                v[xi, c0 + c, dst0 + _u(u)] = vs[xi, u]


# ============================================================== output transforms
@jit(inline=True)
def _gather(mx, o, n0, nn, plane, ms):
    # ms[ξ, u] = mx[ξ, o, n0·P + u] for a block of nn planes
    src = _u(n0 * plane)
    for xi in range(mx.shape[0]):
        for u in range(nn * plane):
            ms[xi, u] = mx[xi, o, src + _u(u)]


@jit(inline=True)
def _tiles(ms, bo, a, z, zo, o, span, m, s, y):
    # y[p·m + q, u] = (Aᵀ M A)[p, q] + bo + Σ_r a[r, o] z[r, p·m + q, zo + u] for the
    # tiles u of a block (from _gather), M[i, j] = ms[(m+2)·i + j, u]; s: scratch
    # (m, m + 2, span). All loops run over the whole block (span: see _SPAN).
    for j in range(m + 2):  # Aᵀ M
        if m == 4:
            for u in range(span):
                c0, c1, c2, c3 = _at6(ms[j, u], ms[6 + j, u], ms[12 + j, u], ms[18 + j, u],
                                      ms[24 + j, u], ms[30 + j, u])
                s[0, j, u] = c0
                s[1, j, u] = c1
                s[2, j, u] = c2
                s[3, j, u] = c3
        else:
            for u in range(span):
                c0, c1 = _at4(ms[j, u], ms[4 + j, u], ms[8 + j, u], ms[12 + j, u])
                s[0, j, u] = c0
                s[1, j, u] = c1
    for p in range(m):  # (Aᵀ M) A
        if m == 4:
            for u in range(span):
                c0, c1, c2, c3 = _at6(s[p, 0, u], s[p, 1, u], s[p, 2, u], s[p, 3, u],
                                      s[p, 4, u], s[p, 5, u])
                y[4 * p, u] = c0 + bo
                y[4 * p + 1, u] = c1 + bo
                y[4 * p + 2, u] = c2 + bo
                y[4 * p + 3, u] = c3 + bo
        else:
            for u in range(span):
                c0, c1 = _at4(s[p, 0, u], s[p, 1, u], s[p, 2, u], s[p, 3, u])
                y[2 * p, u] = c0 + bo
                y[2 * p + 1, u] = c1 + bo
    uz = _u(zo)
    for k in range(a.shape[0]):
        ak = a[k, o]
        for pq in range(m * m):
            for u in range(span):
                y[pq, u] += ak * z[k, pq, uz + _u(u)]


@jit
def _relu(v):
    return v if not v <= 0 else 0.0  # NaN stays NaN, as np.maximum(v, 0) keeps it


@jit(inline=True)
def _block(ob, nbk, nb, plane, xi, m, dtype):
    # block ob of the output kernels: its channel, first image, images, and scratch
    o = ob // nbk
    n0 = (ob % nbk) * _BLOCK
    nn = min(_BLOCK, nb - n0)
    span = -(-(nn * plane) // _SPAN) * _SPAN
    ms = np.empty((xi, span), dtype)
    s = np.empty((m, m + 2, span), dtype)
    y = np.empty((m * m, span), dtype)
    return o, n0, nn, span, ms, s, y


@kernel
def _output(mx, o0, bias, a, z, th, tw, m, dst, act, ref):
    # dst[n, o] = Aᵀ M A + bias[o] (+ the rank-one terms, see _tiles; z (R, m², N·P))
    # with M from the GEMM output channel o0 + o, cropped to dst's size, then ReLU'd
    # (act 1) or masked by ref[n, o] > 0 (act 2: a tangent through the ReLU whose value
    # is ref)
    nb, o_n = dst.shape[0], dst.shape[1]
    hd, wd = dst.shape[2], dst.shape[3]
    wt = tw + 1
    plane = th * wt
    whole = min(tw, wd // m)  # tiles whose columns all lie in dst
    nbk = (nb + _BLOCK - 1) // _BLOCK
    for ob in prange(o_n * nbk):
        o, n0, nn, span, ms, s, y = _block(ob, nbk, nb, plane, mx.shape[0], m, dst.dtype)
        _gather(mx, o0 + o, n0, nn, plane, ms)
        _tiles(ms, bias[o], a, z, n0 * plane, o, span, m, s, y)
        if act == 1:
            for pq in range(m * m):
                for u in range(span):
                    y[pq, u] = _relu(y[pq, u])
        for b in range(nn):  # the phases back in place: a scalar pass, tile by tile
            n = n0 + b
            for i in range(hd):
                p = i % m
                u0 = b * plane + (i // m) * wt
                if m == 4 and act != 2:
                    for t in range(whole):
                        y0, y1 = y[4 * p, u0 + t], y[4 * p + 1, u0 + t]
                        y2, y3 = y[4 * p + 2, u0 + t], y[4 * p + 3, u0 + t]
                        dst[n, o, i, 4 * t] = y0
                        dst[n, o, i, 4 * t + 1] = y1
                        dst[n, o, i, 4 * t + 2] = y2
                        dst[n, o, i, 4 * t + 3] = y3
                elif m == 4:
                    for t in range(whole):
                        y0, y1 = y[4 * p, u0 + t], y[4 * p + 1, u0 + t]
                        y2, y3 = y[4 * p + 2, u0 + t], y[4 * p + 3, u0 + t]
                        dst[n, o, i, 4 * t] = y0 * (ref[n, o, i, 4 * t] > 0)
                        dst[n, o, i, 4 * t + 1] = y1 * (ref[n, o, i, 4 * t + 1] > 0)
                        dst[n, o, i, 4 * t + 2] = y2 * (ref[n, o, i, 4 * t + 2] > 0)
                        dst[n, o, i, 4 * t + 3] = y3 * (ref[n, o, i, 4 * t + 3] > 0)
                elif act != 2:
                    for t in range(whole):
                        y0, y1 = y[2 * p, u0 + t], y[2 * p + 1, u0 + t]
                        dst[n, o, i, 2 * t] = y0
                        dst[n, o, i, 2 * t + 1] = y1
                else:
                    for t in range(whole):
                        y0, y1 = y[2 * p, u0 + t], y[2 * p + 1, u0 + t]
                        dst[n, o, i, 2 * t] = y0 * (ref[n, o, i, 2 * t] > 0)
                        dst[n, o, i, 2 * t + 1] = y1 * (ref[n, o, i, 2 * t + 1] > 0)
                for jj in range(m * whole, wd):  # a ragged last tile
                    v = y[p * m + jj % m, u0 + jj // m]
                    dst[n, o, i, jj] = v * (ref[n, o, i, jj] > 0) if act == 2 else v


@kernel
def _output_tiles(mx, o0, th, tw, m, z):
    # z[o, :, n·P + u] = the phase planes y of _tiles for GEMM output channel o0 + o, no
    # bias (z: (R, m², N·P)): the rank-one terms' convolutions, as _tiles adds them
    o_n, nb = z.shape[0], z.shape[2] // (th * (tw + 1))
    plane = th * (tw + 1)
    none = np.zeros((0, 1), z.dtype)
    nbk = (nb + _BLOCK - 1) // _BLOCK
    for ob in prange(o_n * nbk):
        o, n0, nn, span, ms, s, y = _block(ob, nbk, nb, plane, mx.shape[0], m, z.dtype)
        _gather(mx, o0 + o, n0, nn, plane, ms)
        _tiles(ms, 0.0, none, z, 0, o, span, m, s, y)
        dz = _u(n0 * plane)
        for pq in range(m * m):
            for u in range(nn * plane):
                z[o, pq, dz + _u(u)] = y[pq, u]


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
def _pick(k, v0, v1, v2, v3):
    return v0 if k == 0 else (v1 if k == 1 else (v2 if k == 2 else v3))


@kernel
def _output_pool(mx, o0, bias, a, z, th, tw, m, dst, mode, where, ref):
    # _output followed by ReLU and a 2×2 max-pool into dst (N, O, m·th / 2, m·tw / 2).
    # Each window lies in one tile: window w = 2α + β (α, β < m / 2) of tile u is
    # phases (2α + δ)·m + 2β + ε of u. where (O, (m/2)², N·P), int8: each window's
    # argmax (δ·2 + ε, row-major, as pool's kernels), in the tiles' layout.
    # mode 1, the value: the argmaxes to where; mode 2, a tangent: its entries at
    # where, masked by ref > 0 (ref the pooled value).
    nb, o_n = dst.shape[0], dst.shape[1]
    hd, wd = dst.shape[2], dst.shape[3]
    wt = tw + 1
    plane = th * wt
    half = m // 2
    nbk = (nb + _BLOCK - 1) // _BLOCK
    for ob in prange(o_n * nbk):
        o, n0, nn, span, ms, s, y = _block(ob, nbk, nb, plane, mx.shape[0], m, dst.dtype)
        _gather(mx, o0 + o, n0, nn, plane, ms)
        _tiles(ms, bias[o], a, z, n0 * plane, o, span, m, s, y)
        best = np.empty((half * half, span), dst.dtype)
        uw = _u(n0 * plane)
        if mode == 1:
            for pq in range(m * m):
                for u in range(span):
                    y[pq, u] = _relu(y[pq, u])
            for w in range(half * half):
                p0 = 2 * (w // half) * m + 2 * (w % half)
                for u in range(span):
                    best[w, u] = _first_max(y[p0, u], y[p0 + 1, u], y[p0 + m, u],
                                            y[p0 + m + 1, u])[0]
                for u in range(nn * plane):
                    where[o, w, uw + _u(u)] = _first_max(y[p0, u], y[p0 + 1, u],
                                                         y[p0 + m, u], y[p0 + m + 1, u])[1]
        else:
            for w in range(half * half):
                p0 = 2 * (w // half) * m + 2 * (w % half)
                for u in range(nn * plane):
                    best[w, u] = _pick(where[o, w, uw + _u(u)], y[p0, u], y[p0 + 1, u],
                                       y[p0 + m, u], y[p0 + m + 1, u])
        for b in range(nn):  # the windows back in place: a scalar pass
            n = n0 + b
            for i in range(hd):
                w0 = (i % half) * half
                u0 = b * plane + (i // half) * wt
                for t in range(tw):
                    for e in range(half):
                        jj = half * t + e
                        v = best[w0 + e, u0 + t]
                        dst[n, o, i, jj] = v if mode == 1 else v * (ref[n, o, i, jj] > 0)


class Geometry:
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
        # tiles cover the output exactly: every 2×2 pooling window lies in one tile
        self.poolable = self.ho % m == 0 and self.wo % m == 0

    def weights(self, w):
        return weights(w, self.m)

    def transform(self, x, v, c0):
        """Bᵀ d B of every tile of x (images, C, H, W) into ``v[:, c0:c0 + C]``
        ((m+2)², rows, images·P)."""
        x = np.ascontiguousarray(x, self.dtype)
        _input(x.size * 3, x, self.ph, self.pw, self.th, self.tw, self.m, v, c0)

    def _rank(self, dst, a, z):
        if a is None:
            return np.zeros((0, dst.shape[1]), self.dtype), np.zeros((0, 1, 1), self.dtype)
        return a, z

    def output(self, mx, o0, bias, dst, a=None, z=None, act=0, ref=None):
        """Aᵀ M A (+ bias) (+ Σ_r a[r, o] z[r], z from :meth:`tiles`) of the GEMM output
        channels o0.. of ``mx`` into ``dst`` (images, O, Ho, Wo), then ReLU (act 1) or
        masked by ``ref > 0`` (act 2, ref the value, dst's shape)."""
        bias = np.zeros(dst.shape[1], self.dtype) if bias is None else bias
        a, z = self._rank(dst, a, z)
        _output(dst.size * 2, mx, o0, bias, a, z, self.th, self.tw, self.m, dst, act,
                dst if ref is None else ref)

    def tiles(self, mx, o0, channels, images):
        """Aᵀ M A of the GEMM output channels o0.. of ``mx`` as phase planes
        (channels, m², images·P): the rank-one terms' convolutions for :meth:`output`."""
        z = np.empty((channels, self.m * self.m, images * self.plane), self.dtype)
        _output_tiles(z.size * 2, mx, o0, self.th, self.tw, self.m, z)
        return z

    def pool_index(self, channels, images):
        """The argmax buffer of :meth:`output_pooled`."""
        return np.empty((channels, self.m * self.m // 4, images * self.plane), np.int8)

    def output_pooled(self, mx, o0, bias, dst, mode, where, ref=None, a=None, z=None):
        """As :meth:`output`, then ReLU and a 2×2 max-pool into ``dst`` (images, O,
        Ho / 2, Wo / 2) (needs :attr:`poolable`). mode 1: the value, each window's
        argmax written to ``where`` (from :meth:`pool_index`); mode 2: a tangent, read
        at where and masked by ``ref > 0``, ref the pooled value."""
        bias = np.zeros(dst.shape[1], self.dtype) if bias is None else bias
        a, z = self._rank(dst, a, z)
        _output_pool(dst.size * 8, mx, o0, bias, a, z, self.th, self.tw, self.m, dst, mode,
                     where, dst if ref is None else ref)

    def natural(self, z):
        """Phase planes (R, m², images·P) as whole images (images, R, Ho, Wo)."""
        m, th, tw = self.m, self.th, self.tw
        zz = z.reshape((z.shape[0], m, m, -1, th, tw + 1))[..., :tw]
        zz = zz.transpose(3, 0, 4, 1, 5, 2).reshape((zz.shape[3], z.shape[0], m * th, m * tw))
        return np.ascontiguousarray(zz[:, :, :self.ho, :self.wo])

    def natural_index(self, where):
        """The argmaxes of :meth:`output_pooled` as (images, O, Ho / 2, Wo / 2)."""
        h, th, tw = self.m // 2, self.th, self.tw
        ww = where.reshape((where.shape[0], h, h, -1, th, tw + 1))[..., :tw]
        ww = ww.transpose(3, 0, 4, 1, 5, 2).reshape((ww.shape[3], where.shape[0], h * th, h * tw))
        return np.ascontiguousarray(ww)
