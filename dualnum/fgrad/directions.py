"""Direction samplers: the random tangents of forward gradients.

Every direction comes from the caller's ``numpy.random.Generator`` (through the numba
samplers of :mod:`dualnum.kernels.sampling`), so a seed reproduces every estimate bit for
bit, on any number of threads.

An evaluation draws one 64-bit key from that generator (:func:`draw_key`); its directions
are then counter-based: the K directions of a stream (the parameters' for weight
perturbation, layer l's for activity perturbation) are cut into blocks of :data:`BLOCK`,
and block b comes from a Philox generator keyed by (key, stream, b) (:func:`block_rng`).
Any process can therefore regenerate any block of directions from (key, stream, b)
alone, without drawing the others: ``dualnum.distributed`` hands whole blocks to its
workers, and a single process draws the very same numbers.

Weight perturbation (one direction per parameter leaf, shared by the whole batch); each
distribution has E[v] = 0 and E[v vᵀ] = I:

* ``"normal"``: v ~ N(0, I), the choice of Baydin et al. (2022); a parallel,
  counter-based ziggurat.
* ``"rademacher"``: independent ±1 signs, 64 per raw 64-bit draw. Lower variance than
  normal (E[v⁴] = 1 instead of 3).
* ``"outer"``: for every matrix parameter W (n×m) a rank-one V = a bᵀ with independent
  a ~ N(0, Iₙ), b ~ N(0, Iₘ) (a :class:`~dualnum.fgrad.structured.LowRank`); a tensor
  of more axes, such as a convolution's (O, C, kh, kw) weight, is treated as the matrix
  (O, C·kh·kw): V[o, c, i, j] = a[o] b[c, i, j]. Vectors (biases) get normal directions.
  E[V_ij V_kl] = δ_ik δ_jl keeps the estimate unbiased; its variance is higher
  (E[V_ij⁴] = 9), but sampling costs n + m numbers instead of n·m, ``x @ V`` costs
  O(B(n + m)) instead of a GEMM, and ``conv(x, V) = a[o] conv(x, b)`` costs 1/O of a
  convolution.

Activity perturbation (Ren et al. 2023) draws directions per example over a layer's
pre-activations: :func:`activity_directions`, ``"normal"`` or ``"rademacher"``, or the
standard basis when K covers the whole activation (see :mod:`dualnum.fgrad.combine`).

>>> import numpy as np
>>> from dualnum.fgrad.directions import sample_directions
>>> vs = sample_directions(7, [np.zeros((3, 2))], 4, "rademacher")
>>> vs[0].shape, sorted(set(vs[0].ravel().tolist()))
((4, 3, 2), [-1.0, 1.0])
"""
from __future__ import annotations

import math
import threading

import numpy as np

from ..kernels import sampling
from .structured import LowRank

__all__ = ["DISTRIBUTIONS", "BLOCK", "draw_key", "block_rng", "blocks_of", "slots_of",
           "sample_directions", "activity_directions"]

#: Directions per counter-based block. A constant: which numbers a direction holds must
#: not depend on how many workers share the blocks.
BLOCK = 8


def _normal(rng, k, shape, dtype):
    return sampling.normal(rng, (k,) + shape, dtype)


def _rademacher(rng, k, shape, dtype):
    return sampling.rademacher(rng, (k,) + shape, dtype)


def _outer(rng, k, shape, dtype):
    if len(shape) < 2:
        return _normal(rng, k, shape, dtype)
    # both factors from one draw of the kernel: a (K, n) and b (K, ...) side by side
    n, rest = shape[0], tuple(shape[1:])
    ab = sampling.normal(rng, (k, n + math.prod(rest)), dtype)
    return LowRank(ab[:, :n], ab[:, n:].reshape((k,) + rest), batched=True)


#: name -> sampler(rng, K, shape, dtype) returning K directions for one parameter.
DISTRIBUTIONS = {"normal": _normal, "rademacher": _rademacher, "outer": _outer}


def draw_key(rng):
    """The key of one evaluation's directions: one raw 64-bit draw of ``rng``."""
    return int(rng.bit_generator.random_raw())


def block_rng(key, stream, block):
    """The generator of block ``block`` of stream ``stream`` under ``key``: Philox
    (counter-based), so that blocks are independent and each can be made anywhere."""
    return np.random.Generator(np.random.Philox(key=_philox_key(key, stream, block)))


def _philox_key(key, stream, block):
    if not 0 <= stream < 2**32 or not 0 <= block < 2**32:
        raise ValueError(f"direction stream {stream} or block {block} out of range [0, 2**32)")
    return np.array([key, (stream << 32) | block], np.uint64)


_local = threading.local()


def _block_generator(key, stream, block):
    """:func:`block_rng`'s generator, as one reused per thread and re-keyed (a new Philox
    costs several times what re-keying does): for a draw that is finished before the
    next block's starts."""
    g = getattr(_local, "generator", None)
    if g is None:
        g = _local.generator = np.random.Generator(np.random.Philox(0))
    g.bit_generator.state = {
        "bit_generator": "Philox",
        "state": {"counter": np.zeros(4, np.uint64), "key": _philox_key(key, stream, block)},
        "buffer": np.zeros(4, np.uint64), "buffer_pos": 4, "has_uint32": 0, "uinteger": 0}
    return g


def blocks_of(k):
    """How many blocks hold ``k`` directions."""
    return -(-k // BLOCK)


def slots_of(blocks, k):
    """The direction indices (in order) that ``blocks`` (None: all) cover of ``k``."""
    if blocks is None:
        return np.arange(k)
    idx = [np.arange(b * BLOCK, min((b + 1) * BLOCK, k)) for b in blocks if b * BLOCK < k]
    return np.concatenate(idx) if idx else np.zeros(0, np.int64)


def _concat(parts, k, shape, dtype):
    if not parts:
        return np.zeros((0,) + tuple(shape), dtype)
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], LowRank):
        return LowRank(np.concatenate([p.a for p in parts]),
                       np.concatenate([p.b for p in parts]), batched=True)
    return np.concatenate(parts)


def _own_blocks(blocks, k):
    return range(blocks_of(k)) if blocks is None else [b for b in blocks if b * BLOCK < k]


def _key(source):
    return draw_key(source) if isinstance(source, np.random.Generator) else int(source)


def sample_directions(key, leaves, k, distribution, blocks=None):
    """K directions for each parameter leaf, shape ``(K,) + leaf.shape`` (a LowRank for
    ``"outer"`` matrices), or with ``blocks`` only those blocks' directions, in order.
    ``key`` is an evaluation's key, or a Generator to draw one from.
    Block b holds directions [8b, 8b + 8) of every leaf, drawn leaf after leaf from
    ``block_rng(key, 0, b)``. ``distribution`` is checked by the caller
    (:func:`dualnum.fgrad._checks.settings`)."""
    draw, key = DISTRIBUTIONS[distribution], _key(key)
    per_block = []
    for b in _own_blocks(blocks, k):
        g = _block_generator(key, 0, b)
        kb = min(BLOCK, k - b * BLOCK)
        per_block.append([draw(g, kb, x.shape, x.dtype) for x in leaves])
    return [_concat([blk[i] for blk in per_block], k, x.shape, x.dtype)
            for i, x in enumerate(leaves)]


def activity_directions(key, stream, k, shape, dtype, distribution, basis, blocks=None):
    """K directions per example for an activation of ``shape`` = (B, ...): an array
    (K, B, ...), or with ``blocks`` only those blocks' directions, drawn from
    ``block_rng(key, stream, b)``. With ``basis`` (K equal to the per-example size n)
    direction j is the j-th unit vector for every example: the span is everything, so a
    projection onto it is exact and needs no solve."""
    shape = tuple(shape)
    idx = slots_of(blocks, k)
    if basis:
        n = math.prod(shape[1:])
        eye = np.eye(n, dtype=dtype)[idx].reshape((len(idx), 1) + shape[1:])
        return np.broadcast_to(eye, (len(idx),) + shape)
    draw = DISTRIBUTIONS[distribution]
    parts = [draw(_block_generator(key, stream, b), min(BLOCK, k - b * BLOCK), shape, dtype)
             for b in _own_blocks(blocks, k)]
    return _concat(parts, k, shape, dtype)
