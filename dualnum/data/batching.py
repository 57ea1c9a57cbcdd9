"""Mini-batches: :class:`Batches` (reshuffled from a generator every epoch) and
:class:`Loader` (shuffled from the seed and the epoch alone, so any batch can be reached
without replaying the ones before it: what makes training resumable bit for bit).

>>> import numpy as np, dualnum as dn
>>> b = dn.data.batches(np.arange(6.0), np.arange(6), 4, np.random.default_rng(0))
>>> [len(yb) for _, yb in b]
[4, 2]
"""
from __future__ import annotations

import numbers

import numpy as np

from .._checks import positive_int

__all__ = ["Batches", "batches", "Loader"]


class Batches:
    """Mini-batches ``(x[idx], y[idx])`` of two arrays that share their first axis.

    Iterating gives one epoch; each epoch draws a fresh permutation from ``rng`` when
    ``shuffle`` is set, so a seeded generator gives the same batches on every run. The
    object can be iterated again and again, which is how :func:`fit` runs several epochs.
    ``len()`` is the number of batches per epoch. Build it with :func:`batches`.
    """

    def __init__(self, x, y, batch_size, rng=None, *, shuffle=True, drop_last=False):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
            raise ValueError(f"batches: x and y need the same first axis, got shapes "
                             f"{x.shape} and {y.shape}")
        if x.shape[0] == 0:
            raise ValueError("batches: x and y are empty")
        self.batch_size = positive_int(batch_size, "batch_size")
        if shuffle and not isinstance(rng, np.random.Generator):
            raise TypeError(f"batches(shuffle=True) needs rng, a numpy.random.Generator, got "
                            f"{type(rng).__name__}; use numpy.random.default_rng(seed)")
        self.x, self.y, self.rng = x, y, rng
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        if drop_last and self.batch_size > x.shape[0]:
            raise ValueError(f"batches: batch_size {batch_size} is larger than the "
                             f"{x.shape[0]} examples and drop_last=True leaves no batch")

    def __len__(self):
        n = self.x.shape[0]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n, b = self.x.shape[0], self.batch_size
        stop = n - n % b if self.drop_last else n
        if self.shuffle:
            order = self.rng.permutation(n)
            for i in range(0, stop, b):
                idx = order[i:i + b]
                yield self.x[idx], self.y[idx]
        else:
            for i in range(0, stop, b):
                yield self.x[i:i + b], self.y[i:i + b]

    def __repr__(self):
        return (f"Batches(n={self.x.shape[0]}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


def batches(x, y, batch_size, rng=None, *, shuffle=True, drop_last=False):
    """Mini-batches of ``(x, y)``, reshuffled from ``rng`` every epoch (a :class:`Batches`).

    With ``shuffle=False`` (no ``rng`` needed) batches are consecutive slices. The last
    batch of an epoch is smaller when ``batch_size`` does not divide the number of
    examples, unless ``drop_last``.

    >>> import numpy as np, dualnum as dn
    >>> b = dn.data.batches(np.arange(5.0), np.arange(5), 2, np.random.default_rng(0))
    >>> len(b), [len(yb) for _, yb in b]
    (3, [2, 2, 1])
    >>> sorted(int(i) for _, yb in b for i in yb)  # every example once per epoch
    [0, 1, 2, 3, 4]
    """
    return Batches(x, y, batch_size, rng, shuffle=shuffle, drop_last=drop_last)


class Loader(Batches):
    """Mini-batches ``(x[idx], y[idx])`` whose shuffling depends only on ``seed`` and the
    epoch: epoch ``e`` uses ``numpy.random.default_rng([seed, e]).permutation(n)``.

    So any batch can be reached without replaying the ones before it, which is what makes
    training resumable bit for bit: :meth:`stream` yields batches forever from the
    ``start``-th one. Iterating the loader itself gives one epoch per ``for`` loop (epoch
    0, 1, ...), like :class:`Batches`, of which it is a subclass. By default
    ``drop_last`` keeps every batch the same size.

    >>> import numpy as np, dualnum as dn
    >>> loader = dn.data.Loader(np.arange(10.0), np.arange(10), 4, seed=0)
    >>> len(loader), [yb.tolist() for _, yb in loader]
    (2, [[4, 6, 2, 7], [3, 5, 9, 0]])
    >>> s = loader.stream(start=3)           # the 4th batch: epoch 1's second batch
    >>> next(s)[1].tolist() == loader.batch(3)[1].tolist()
    True
    """

    def __init__(self, x, y, batch_size, seed=0, *, shuffle=True, drop_last=True):
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        x, y = np.asarray(x), np.asarray(y)
        if isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, bool) \
                and drop_last and x.ndim and 0 < x.shape[0] < batch_size:
            raise ValueError(f"batch size {batch_size} is larger than the {x.shape[0]} "
                             f"training examples")
        super().__init__(x, y, batch_size, np.random.default_rng(int(seed)), shuffle=shuffle,
                         drop_last=drop_last)
        self.seed = int(seed)
        self.epoch = 0

    def order(self, epoch):
        """The order of the examples in epoch ``epoch``."""
        n = self.x.shape[0]
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(n)

    def _epoch(self, epoch, first=0):
        n, b = self.x.shape[0], self.batch_size
        stop = n - n % b if self.drop_last else n
        order = self.order(epoch)
        for i in range(first * b, stop, b):
            idx = order[i:i + b]
            yield self.x[idx], self.y[idx]

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        return self._epoch(epoch)

    def stream(self, start=0):
        """Batches without end, starting with batch number ``start`` (0-based, counted
        across epochs)."""
        if isinstance(start, bool) or not isinstance(start, numbers.Integral) or start < 0:
            raise ValueError(f"start must be a non-negative integer, got {start!r}")
        epoch, first = divmod(int(start), len(self))
        while True:
            yield from self._epoch(epoch, first)
            epoch, first = epoch + 1, 0

    def batch(self, i):
        """Batch number ``i`` (0-based, counted across epochs)."""
        return next(self.stream(i))

    def __repr__(self):
        return (f"Loader(n={self.x.shape[0]}, batch_size={self.batch_size}, seed={self.seed}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
