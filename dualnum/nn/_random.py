"""Where layers get their randomness: an explicit ``numpy.random.Generator``, or the
module-wide default generator.

The default generator starts from the fixed seed :data:`DEFAULT_SEED` when dualnum.nn is
first imported, so a program that builds the same layers in the same order gets the same
weights on every run. :func:`manual_seed` restarts it (like ``torch.manual_seed``).
"""
from __future__ import annotations

import numbers

import numpy as np

#: Seed of the default generator when ``dualnum.nn`` is imported.
DEFAULT_SEED = 0

_default = np.random.default_rng(DEFAULT_SEED)


def manual_seed(seed):
    """Restart the default generator used by layers built with ``rng=None``.

    >>> import dualnum as dn
    >>> dn.nn.manual_seed(1); a = dn.nn.Linear(2, 2)
    >>> dn.nn.manual_seed(1); b = dn.nn.Linear(2, 2)
    >>> bool((a.weight == b.weight).all())
    True
    """
    global _default
    _default = np.random.default_rng(seed)


def default_generator():
    """The generator that layers built with ``rng=None`` draw from.

    >>> import numpy as np, dualnum as dn
    >>> isinstance(dn.nn.default_generator(), np.random.Generator)
    True
    """
    return _default


def resolve_rng(rng):
    """``rng`` as a Generator: ``None`` is the default generator, an int seeds a new one."""
    if rng is None:
        return _default
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got "
                    f"{type(rng).__name__}; use numpy.random.default_rng(seed)")
