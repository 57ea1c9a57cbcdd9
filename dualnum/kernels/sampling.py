"""Sampling kernels for forward-gradient directions."""
from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel


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
