"""Sampling kernels for forward-gradient directions."""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import jit, kernel


@kernel
def _signs_from_words(words, out):
    # out[i] = ±1 from bit i of the random words: 64 signs per 64-bit draw
    for i in prange(out.size):
        bit = (words[i >> 6] >> np.uint64(i & 63)) & np.uint64(1)
        out[i] = 1 - 2 * np.float32(bit)


def rademacher(rng, shape, dtype):
    """Independent ±1 entries of ``shape``, 64 per raw 64-bit draw of ``rng``'s bit
    generator (deterministic for a seed, whatever the number of threads)."""
    out = np.empty(shape, dtype)
    n = out.size
    words = rng.bit_generator.random_raw((n + 63) // 64)
    _signs_from_words(n, words, out.reshape(-1))
    return out


# ---------------------------------------------------------------------- normal
# Marsaglia & Tsang's ziggurat (J. Stat. Softw. 5(8), 2000) with 128 layers, fed by a
# counter-based generator: sample i is a pure function of (key, i), so the work splits
# across threads and the result does not depend on how many there are. The layer index
# and the value come from different bits of one 64-bit hash (Doornik 2005 showed that
# sharing them, as the original code does, correlates successive draws).
#
# Sample i's first draw is h0 = mix(key + i·γ). The draws a rejection needs next are
# mix(h0 + j·γ): a stream seeded by h0, so that no two samples share draws. (An earlier
# version continued with key + (i + j)·γ, sample i + j's own counter: 1.2 % of samples
# then repeated their neighbour two places on, a correlation of 0.013 between v_i and
# v_{i+2} that biases a forward gradient; tests/test_sampling.py checks the lags.)
#
# 98.8 % of first draws are accepted at once, so the kernel runs in blocks: a loop
# without branches takes every first draw (SIMD-friendly: a hash, a table lookup, a
# multiply), marking rejected ones with NaN, and a second loop over the block finishes
# those with the full algorithm.
def _ziggurat_tables():
    m1 = 2.0 ** 31
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    q = vn / np.exp(-0.5 * dn * dn)
    kn = np.zeros(128, np.int64)
    wn = np.zeros(128)
    fn = np.zeros(128)
    kn[0] = int((dn / q) * m1)
    kn[1] = 0
    wn[0] = q / m1
    wn[127] = dn / m1
    fn[0] = 1.0
    fn[127] = np.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = np.sqrt(-2.0 * np.log(vn / dn + np.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = np.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_KN, _WN, _FN = _ziggurat_tables()
_R = 3.442619855899


@jit
def _mix(z):
    # SplitMix64's finaliser: a bijective 64-bit hash
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@jit
def _uniform(h):
    # (0, 1) from the top 53 bits
    return ((h >> np.uint64(11)) + np.uint64(1)) * (1.0 / 9007199254740994.0)


_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # 2⁶⁴/φ: a Weyl sequence's increment
_BLOCK = 4096


@jit
def _normal_rest(h, kn, wn, fn):
    """The full ziggurat for a sample whose first draw ``h`` was not accepted at once."""
    ctr = h
    while True:
        iz = np.int64(h & np.uint64(127))
        hz = np.int64(np.int32(np.uint32(h >> np.uint64(32))))
        if abs(hz) < kn[iz]:
            return hz * wn[iz]
        x = hz * wn[iz]
        if iz == 0:  # the tail beyond R, by Marsaglia's exponential method
            while True:
                ctr += _GAMMA
                xt = -np.log(_uniform(_mix(ctr))) / _R
                ctr += _GAMMA
                yt = -np.log(_uniform(_mix(ctr)))
                if yt + yt >= xt * xt:
                    return _R + xt if hz > 0 else -_R - xt
        ctr += _GAMMA
        if fn[iz] + _uniform(_mix(ctr)) * (fn[iz - 1] - fn[iz]) < np.exp(-0.5 * x * x):
            return x
        ctr += _GAMMA
        h = _mix(ctr)


@kernel
def _normal_fill(out, key, kn, wn, fn):
    n = out.size
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        lo = blk * _BLOCK
        hi = min(lo + _BLOCK, n)
        for i in range(lo, hi):  # first draws, accepted or marked
            h = _mix(key + np.uint64(i) * _GAMMA)
            iz = np.int64(h & np.uint64(127))
            hz = np.int64(np.int32(np.uint32(h >> np.uint64(32))))
            out[i] = hz * wn[iz] if abs(hz) < kn[iz] else np.nan
        for i in range(lo, hi):
            if np.isnan(out[i]):
                out[i] = _normal_rest(_mix(key + np.uint64(i) * _GAMMA), kn, wn, fn)


def normal(rng, shape, dtype):
    """Standard normal samples of ``shape``: a parallel ziggurat whose key is drawn from
    ``rng`` (one 64-bit draw), so a seed reproduces it bit for bit on any thread count."""
    out = np.empty(shape, dtype)
    key = np.uint64(rng.bit_generator.random_raw())
    _normal_fill(out.size, out.reshape(-1), key, _KN, _WN, _FN)
    return out
