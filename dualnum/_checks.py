"""Argument checks shared by the library's public entry points (imports nothing of
dualnum, so any layer may use it)."""
from __future__ import annotations

import numbers


def positive_int(value, what):
    """``int(value)`` for a positive integer (bools refused); otherwise ValueError naming
    ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)
