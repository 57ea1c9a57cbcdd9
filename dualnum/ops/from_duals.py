"""Arrays built from Duals: ``np.array([d1, d2])``, ``np.array(d)``, ``np.r_[...]``,
``np.c_[...]``, and NumPy reductions of Python lists of Duals (``np.mean([d1, d2])``).

NumPy's dispatch protocols cannot see inside a Python list, and ``np.array`` is not
dispatched at all: both turn each element into an array first, and a Dual refuses that
(it would drop its tangent). autograd users write these every day, so dualnum wraps the
NumPy functions below: each calls NumPy's own function, and only when that fails because
a Dual sat inside a list does it stack the list into one Dual (through the table's
``np.stack``) and call again. Arrays and lists of numbers take NumPy's path unchanged; the
cost is one Python call. ``np.asarray(d)`` keeps refusing, as SciPy and others rely on.

Set ``DUALNUM_NUMPY_LISTS=0`` before importing dualnum to leave NumPy untouched.
"""
from __future__ import annotations

import functools
import importlib
import os

import numpy as np

from ..core.dual import Dual, _stack_nested
from ..core.errors import ConversionError, DTypeError
from ..core.rules import alias

#: (module, name) of the NumPy functions that accept lists of Duals.
WRAPPED = [("numpy", n) for n in (
    "mean", "std", "var", "sum", "prod", "max", "min", "amax", "amin", "average", "median",
    "cumsum", "cumprod", "dot", "outer", "inner", "ptp",
)] + [("numpy.linalg", "norm")]

_originals = {}


def _has_duals(obj):
    if isinstance(obj, Dual):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_has_duals(e) for e in obj)
    return False


def _stacked(obj):
    return _stack_nested(obj) if isinstance(obj, (list, tuple)) and _has_duals(obj) else obj


def array_from(obj, dtype=None, *, ndmin=0):
    """What ``np.array(obj)`` means when ``obj`` holds Duals: one Dual (a copy)."""
    d = _stacked(obj)
    if not isinstance(d, Dual):
        return np.array(d, dtype=dtype, ndmin=ndmin)
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise DTypeError(f"np.array(..., dtype={dt}) of Duals would drop their tangents; "
                             "use a floating dtype, or .primal for the values alone")
        d = d.astype(dt)
    if d.ndim < ndmin:
        d = np.reshape(d, (1,) * (ndmin - d.ndim) + d.shape)
    return d * 1.0 if d.ndim else d + 0.0  # a new Dual, as np.array copies


def _array_wrapper(original):
    @functools.wraps(original)
    def array(object, dtype=None, *args, **kwargs):
        try:
            return original(object, dtype, *args, **kwargs)
        except ConversionError:
            if not _has_duals(object):
                raise
            kwargs.pop("copy", None)
            kwargs.pop("subok", None)
            kwargs.pop("order", None)
            return array_from(object, dtype, ndmin=kwargs.pop("ndmin", 0))

    return array


def _list_wrapper(original):
    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        except ConversionError:
            if not (any(_has_duals(a) for a in args) or
                    any(_has_duals(v) for v in kwargs.values())):
                raise
            return original(*[_stacked(a) for a in args],
                            **{k: _stacked(v) for k, v in kwargs.items()})

    for attr in ("_implementation", "_dispatcher"):  # read by other array libraries
        if hasattr(original, attr):
            try:
                setattr(wrapper, attr, getattr(original, attr))
            except AttributeError:
                pass
    wrapper.__wrapped__ = original
    return wrapper


def install():
    """Wrap ``np.array``, the ``np.r_``/``np.c_`` machinery and :data:`WRAPPED`."""
    if os.environ.get("DUALNUM_NUMPY_LISTS", "1") == "0" or _originals:
        return
    targets = [("numpy", "array")]
    tricks = "numpy.lib._index_tricks_impl"
    try:
        if importlib.import_module(tricks).array is np.array:
            targets.append((tricks, "array"))
    except (ImportError, AttributeError):  # another NumPy layout: r_/c_ stay as they are
        pass
    for mod_name, name in targets + WRAPPED:
        mod = importlib.import_module(mod_name)
        original = getattr(mod, name, None)
        if original is None:
            continue
        make = _array_wrapper if name == "array" else _list_wrapper
        _originals[(mod_name, name)] = original
        wrapper = make(original)
        alias(wrapper, original)  # the wrapper is the same op to the table
        setattr(mod, name, wrapper)


def uninstall():
    """Put NumPy's own functions back."""
    for (mod_name, name), original in _originals.items():
        setattr(importlib.import_module(mod_name), name, original)
    _originals.clear()
