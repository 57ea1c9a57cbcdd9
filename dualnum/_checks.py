"""Argument checks shared by the library's public entry points, and how messages name
the arguments a user can change (imports nothing of dualnum, so any layer may use it)."""
from __future__ import annotations

import contextlib
import contextvars
import numbers


def positive_int(value, what):
    """``int(value)`` for a positive integer (bools refused); otherwise ValueError naming
    ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


_NAMES = contextvars.ContextVar("dualnum_argument_names", default={})


def argument(python):
    """How a message names the argument a user can change: its Python spelling (e.g.
    ``"data_dir=DIR"``) unless :func:`argument_names` gave another one (a command line
    gives its flags, so that its messages never show Python's keywords).

    >>> from dualnum._checks import argument, argument_names
    >>> with argument_names({"data_dir=DIR": "--data-dir DIR"}):
    ...     argument("data_dir=DIR")
    '--data-dir DIR'
    >>> argument("data_dir=DIR")
    'data_dir=DIR'
    """
    return _NAMES.get().get(python, python)


@contextlib.contextmanager
def argument_names(names):
    """Within the block, messages name arguments as ``names`` maps them."""
    token = _NAMES.set({**_NAMES.get(), **names})
    try:
        yield
    finally:
        _NAMES.reset(token)
