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
(value > 0), while a block of planes is in the caches (the value of a chunk is finished
before its tangents); with pooling, the windows are pooled from the tiles (each window
lies in one tile), the value's argmaxes kept for the tangents. The pre-activation never
goes to memory. The transforms and their memory layout are in
:mod:`dualnum.kernels.winograd`.

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
from . import winograd as _wg
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


# ============================================================== Winograd (transforms: winograd.py)
@jit
def _act(v, act, ref):
    # act 1: ReLU of a value; act 2: a tangent through that ReLU, v·(ref > 0) with ref
    # the finished value (a product, not a select, as relu's own rule: an infinite
    # tangent becomes NaN there too)
    if act == 1:
        return _wg._relu(v)
    if act == 2:
        return v * (ref > 0)
    return v


#: Narrowest output (columns) that takes F(4×4, 3×3).
_F4_MIN_WIDTH = 20

#: Bytes of transformed input per chunk of images: chunks keep the 16 GEMMs' operands
#: in the caches and reuse their buffers, instead of touching fresh pages each call.
_CHUNK_BYTES = 8 << 20


def _winograd(x, tx, w, tw, b, tb, padding, k, fa=None, fb=None, m=2, relu=False,
              pool=False):
    geo = _wg.Geometry(x.shape, padding, x.dtype, m)  # pool (after relu): needs geo.poolable
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

    # the rank-one terms' convolutions: as phase planes for the output transforms, as
    # images where no tangent GEMM runs
    natural_z = bool(dirs) and not dirs[0][1] and dirs[0][0] is None

    def chunk(n0):
        n1 = min(n, n0 + step)
        v = np.empty((xi, rows, (n1 - n0) * geo.plane), x.dtype)
        geo.transform(x[n0:n1], v, c if two else 0)
        vx = v[:, c:] if two else v
        mx = np.matmul(ux, vx)
        yc = y[n0:n1]
        # each pooling window's argmax, from the value, for the tangents
        wc = geo.pool_index(o, n1 - n0) if pool else None
        if pool:
            geo.output_pooled(mx, 0, b, yc, 1, wc)
        else:
            geo.output(mx, 0, b, yc, act=int(relu))
        if not tangent:
            return
        act = 2 if relu else 0  # the tangents through the ReLU: yc is final by now
        z = None
        if fb is not None:
            z = geo.tiles(mx, o, nr, n1 - n0)  # (R, m², images·P)
        for i, (left, reads_tx) in enumerate(dirs):
            pick = (lambda a: a) if k is None else (lambda a: a[i])
            dst = t[n0:n1] if k is None else t[i, n0:n1]
            tbk = None if tb is None else pick(tb)
            # the rank-one part: all R terms summed (k None), or term i (direction i)
            ak = None if fa is None else (fa if k is None else fa[i:i + 1])
            zk = None if z is None else (z if k is None else z[i:i + 1])
            if zk is not None and natural_z:
                zk = geo.natural(zk)
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
                _pool_pick(full, geo.natural_index(wc), yc, dst)
                continue
            elif ak is not None:
                _rank_one(ak, zk, tbk, dst, yc if relu else None)
                continue
            else:
                dst[...] = tbk.reshape(-1, 1, 1)
                if relu:
                    dst *= yc > 0
                continue
            if pool:
                geo.output_pooled(mt, 0, tbk, dst, 2, wc, yc, ak, zk)
            else:
                geo.output(mt, 0, tbk, dst, ak, zk, act, yc)

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
