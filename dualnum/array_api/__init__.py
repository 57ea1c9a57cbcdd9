"""The Python array API standard (2023.12, with ``linalg``) on Duals.

``Dual.__array_namespace__()`` returns this module, so array-API code (SciPy under
``SCIPY_ARRAY_API=1``, array-api-extra, scikit-learn's array-API paths) runs on Duals and
is differentiated by dualnum's rule table. Nothing is declared here: every function calls
the NumPy function (or composes the NumPy functions) whose rule is in the table, so a Dual
gets its tangent from the same rule as ``np.sin(dual)`` does, and a function with no
rule raises the table's TypeError naming it.

Arrays in this namespace:

* floating arrays are Duals. A plain array (or Python float) entering the namespace
  becomes a Dual with a symbolic zero tangent;
* boolean, integer and complex arrays are plain NumPy arrays (comparisons, ``argmax``,
  masks, complex constants): they carry no derivative, and NumPy's own array API support
  handles them. In this namespace's functions a constant Dual (symbolic-zero tangent)
  meeting complex data stands for its value; a Dual with a tangent raises ``DTypeError``:
  dualnum's tangents are real.

>>> import numpy as np, dualnum as dn
>>> x = dn.Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
>>> xp = x.__array_namespace__()
>>> y = xp.sum(xp.exp(x))
>>> float(y.tangent)  # d/dx0 of exp(x0) + exp(x1)
2.718281828459045
>>> xp.asarray([1.0, 2.0]).is_symbolic_zero
True
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from .. import ops as _ops  # noqa: F401  (the rule table)
from ..core import dual as _dual
from ..core.dual import Dual
from ..core.errors import DTypeError

__array_api_version__ = "2023.12"
_VERSIONS = ("2021.12", "2022.12", "2023.12")

# ------------------------------------------------------------------ constants and dtypes
e = math.e
inf = math.inf
nan = math.nan
pi = math.pi
newaxis = None

bool = np.dtype(np.bool_)  # noqa: A001  (the standard's names)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32,
                                                       np.uint64))
float32, float64 = np.dtype(np.float32), np.dtype(np.float64)
# Complex data is a plain NumPy array (a constant, like integer data): the standard's
# dtype set includes them and hypothesis's array strategies require the names.
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)


# ------------------------------------------------------------------ conversions
def _p(x):
    """The primal of a Dual, anything else as it is (for functions of the value only)."""
    return x.primal if isinstance(x, Dual) else x


def _check_real(dt):
    """A dtype argument: any of the standard's dtypes (complex ones make plain arrays)."""
    if dt is not None and np.dtype(dt).kind not in "biufc":
        raise DTypeError(f"{np.dtype(dt)} is not a dtype of the array API standard")


def _out(r):
    """A result in this namespace's terms: floating arrays and scalars as Duals."""
    if isinstance(r, Dual):
        return r
    if isinstance(r, (np.ndarray, np.generic)):
        if r.dtype.kind == "f":
            return Dual(np.asarray(r))
        return np.asarray(r)
    if isinstance(r, tuple):
        return type(r)(*map(_out, r)) if hasattr(r, "_fields") else tuple(map(_out, r))
    if isinstance(r, list):
        return [_out(v) for v in r]
    if isinstance(r, float):
        return Dual(np.asarray(r))
    if isinstance(r, complex):
        return np.asarray(r)
    return r


def _in(x):
    """An argument for NumPy: Duals and arrays as they are, sequences as arrays."""
    if isinstance(x, (Dual, np.ndarray)) or x is None or isinstance(x, (int, float, builtins.bool)):
        return x
    return asarray(x)


def _wrap1(f):
    def g(x, /):
        return _out(f(_in(x)))
    g.__name__ = f.__name__
    return g


def _mix(*args):
    """Arguments for NumPy: when complex data is among them, constant Duals stand for
    their values (the result is a plain complex array); a Dual with a tangent goes to its
    rule, which refuses complex data (DTypeError) rather than drop the tangent."""
    if not builtins.any(_is_complex(a) or isinstance(a, complex) for a in args):
        return args
    return tuple(a.primal if isinstance(a, Dual) and a.is_symbolic_zero
                 and type(a.primal) is np.ndarray else a for a in args)


def _wrap2(f):
    def g(x1, x2, /):
        return _out(f(*_mix(_in(x1), _in(x2))))
    g.__name__ = f.__name__
    return g


def _value1(f):
    """A function of the value only (a predicate, a rounding to integers)."""
    def g(x, /):
        return _out(f(_p(_in(x))))
    g.__name__ = f.__name__
    return g


def _value2(f):
    def g(x1, x2, /):
        return _out(f(_p(_in(x1)), _p(_in(x2))))
    g.__name__ = f.__name__
    return g


# ------------------------------------------------------------------ creation
def asarray(obj, /, *, dtype=None, device=None, copy=None):
    """``obj`` as an array of this namespace: floating data as a Dual (a plain array gets
    a symbolic zero tangent), integer and boolean data as a NumPy array."""
    _check_device(device)
    _check_real(dtype)
    if isinstance(obj, Dual):
        if dtype is not None and np.dtype(dtype) != obj.dtype:
            return astype(obj, dtype)
        return Dual._new(obj.primal, obj._tangent, obj._k, obj._level) if copy else obj
    if isinstance(obj, (list, tuple)) and _has_dual(obj):
        r = np.stack([asarray(o, dtype=dtype) for o in obj])
        return r
    if copy is False and not isinstance(obj, np.ndarray):
        raise ValueError("asarray(copy=False) needs an array; this input would be copied")
    a = np.array(obj, dtype=dtype, copy=True if copy else None)
    if a.dtype.kind not in "biufc":
        raise DTypeError(f"asarray: dtype {a.dtype} is not a numeric dtype")
    if a.dtype.kind == "f" and a.dtype.itemsize < 4:
        a = a.astype(np.float32)
    return Dual(a) if a.dtype.kind == "f" else a


def _has_dual(seq):
    return builtins.any(isinstance(o, Dual) or (isinstance(o, (list, tuple)) and _has_dual(o))
                        for o in seq)


def _check_device(device):
    if device not in (None, "cpu"):
        raise ValueError(f"dualnum arrays live on the 'cpu' device, got {device!r}")


def zeros(shape, *, dtype=None, device=None):
    _check_device(device)
    _check_real(dtype)
    return _out(np.zeros(shape, dtype=dtype))


def ones(shape, *, dtype=None, device=None):
    _check_device(device)
    _check_real(dtype)
    return _out(np.ones(shape, dtype=dtype))


def empty(shape, *, dtype=None, device=None):
    _check_device(device)
    _check_real(dtype)
    return _out(np.empty(shape, dtype=dtype))


def full(shape, fill_value, *, dtype=None, device=None):
    _check_device(device)
    _check_real(dtype)
    if isinstance(fill_value, Dual):
        return broadcast_to(astype(fill_value, dtype) if dtype else fill_value, _shape(shape))
    if dtype is None and isinstance(fill_value, builtins.bool):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = np.int64
    elif dtype is None and isinstance(fill_value, float):
        dtype = np.float64
    return _out(np.full(shape, fill_value, dtype=dtype))


def _shape(s):
    return (s,) if isinstance(s, int) else tuple(s)


def _like(f, name):
    def g(x, /, *, dtype=None, device=None):
        _check_device(device)
        _check_real(dtype)
        return _out(f(_p(_in(x)), dtype=dtype))
    g.__name__ = name
    return g


zeros_like = _like(np.zeros_like, "zeros_like")
ones_like = _like(np.ones_like, "ones_like")
empty_like = _like(np.empty_like, "empty_like")


def full_like(x, /, fill_value, *, dtype=None, device=None):
    _check_device(device)
    x = _in(x)
    if isinstance(fill_value, Dual):
        return full(x.shape, fill_value, dtype=dtype or x.dtype)
    return _out(np.full_like(_p(x), fill_value, dtype=dtype))


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    _check_device(device)
    _check_real(dtype)
    return _out(np.eye(n_rows, n_cols, k=k, dtype=dtype))


def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    _check_device(device)
    _check_real(dtype)
    if stop is None:
        start, stop = 0, start
    return _out(np.arange(start, stop, step, dtype=dtype))


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True):
    """Evenly spaced numbers; ``start`` and ``stop`` may be Duals (differentiated)."""
    _check_device(device)
    _check_real(dtype)
    if isinstance(start, Dual) or isinstance(stop, Dual):
        t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
        r = start + (stop - start) * t
        return astype(r, dtype) if dtype is not None else r
    r = np.linspace(start, stop, num, dtype=dtype, endpoint=endpoint)
    if r.dtype.kind in "iu" and num > 0:
        # NumPy steps in float64: integers past 2**53 would not come back exactly
        r[0] = start
        if endpoint and num > 1:
            r[-1] = stop
    return _out(r)


def from_dlpack(x, /, *, device=None, copy=None):
    _check_device(device)
    if isinstance(x, Dual):
        return asarray(x, copy=copy)
    return _out(np.from_dlpack(x))


def meshgrid(*arrays, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrays = [_in(a) for a in arrays]
    n = len(arrays)
    sizes = [a.shape[0] for a in arrays]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, a in enumerate(arrays):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * n
        shape[pos] = a.shape[0]
        out.append(broadcast_to(reshape(a, tuple(shape)), tuple(sizes)))
    return out


def tril(x, /, *, k=0):
    return _out(np.tril(_in(x), k))


def triu(x, /, *, k=0):
    return _out(np.triu(_in(x), k))


# ------------------------------------------------------------------ data types
def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` in ``dtype``. To a floating dtype a Dual keeps its tangent; to an integer
    or boolean dtype the result is piecewise constant in ``x``: a plain array."""
    _check_device(device)
    _check_real(dtype)
    dt = np.dtype(dtype)
    if isinstance(x, Dual):
        if dt.kind == "f":
            if dt == x.dtype and not copy:
                return x
            return x.astype(dt)
        if dt.kind == "c" and not x.is_symbolic_zero:
            raise DTypeError(
                f"astype: a Dual with a tangent cannot become {dt}: dualnum's tangents are "
                "real. Cast x.primal if you mean the value only")
        return x.primal.astype(dt)
    return _out(np.asarray(x).astype(dt, copy=copy))


def can_cast(from_, to, /):
    return builtins.bool(np.can_cast(_dtype_of(from_), np.dtype(to)))


def _dtype_of(x):
    if isinstance(x, (Dual, np.ndarray)):
        return x.dtype
    return np.dtype(x)


FinfoResult = namedtuple("FinfoResult", "bits eps max min smallest_normal dtype")


def finfo(type, /):  # noqa: A002
    """Machine limits of a floating dtype, as Python floats (the standard's finfo)."""
    f = np.finfo(_dtype_of(type))
    return FinfoResult(int(f.bits), float(f.eps), float(f.max), float(f.min),
                       float(f.smallest_normal), f.dtype)


def iinfo(type, /):  # noqa: A002
    return np.iinfo(_dtype_of(type))


def isdtype(dtype, kind):
    return builtins.bool(np.isdtype(np.dtype(dtype), kind))


def result_type(*arrays_and_dtypes):
    args = [a.dtype if isinstance(a, Dual) else a for a in arrays_and_dtypes]
    return np.result_type(*args)


# ------------------------------------------------------------------ elementwise
# The standard's name -> NumPy's ufunc. Differentiable ones get their tangent from the
# ufunc's rule (floor_divide, remainder, copysign: none yet, so they refuse on Duals).
# The rest are functions of the value only: booleans and integers carry no derivative.
abs = _wrap1(np.absolute)  # noqa: A001
acos = _wrap1(np.arccos)
acosh = _wrap1(np.arccosh)
asin = _wrap1(np.arcsin)
asinh = _wrap1(np.arcsinh)
atan = _wrap1(np.arctan)
atanh = _wrap1(np.arctanh)
cos = _wrap1(np.cos)
cosh = _wrap1(np.cosh)
sin = _wrap1(np.sin)
sinh = _wrap1(np.sinh)
tan = _wrap1(np.tan)
tanh = _wrap1(np.tanh)
exp = _wrap1(np.exp)
expm1 = _wrap1(np.expm1)
log = _wrap1(np.log)
log1p = _wrap1(np.log1p)
log2 = _wrap1(np.log2)
log10 = _wrap1(np.log10)
negative = _wrap1(np.negative)
positive = _wrap1(np.positive)
square = _wrap1(np.square)
sqrt = _wrap1(np.sqrt)
sign = _wrap1(np.sign)
ceil = _wrap1(np.ceil)
floor = _wrap1(np.floor)
trunc = _wrap1(np.trunc)
add = _wrap2(np.add)
subtract = _wrap2(np.subtract)
multiply = _wrap2(np.multiply)
divide = _wrap2(np.divide)
pow = _wrap2(np.power)  # noqa: A001
atan2 = _wrap2(np.arctan2)
logaddexp = _wrap2(np.logaddexp)
hypot = _wrap2(np.hypot)
maximum = _wrap2(np.maximum)
minimum = _wrap2(np.minimum)
copysign = _wrap2(np.copysign)
floor_divide = _wrap2(np.floor_divide)
remainder = _wrap2(np.remainder)
isfinite = _value1(np.isfinite)
isinf = _value1(np.isinf)
isnan = _value1(np.isnan)
signbit = _value1(np.signbit)
logical_not = _value1(np.logical_not)
bitwise_invert = _value1(np.invert)
equal = _value2(np.equal)
not_equal = _value2(np.not_equal)
greater = _value2(np.greater)
greater_equal = _value2(np.greater_equal)
less = _value2(np.less)
less_equal = _value2(np.less_equal)
logical_and = _value2(np.logical_and)
logical_or = _value2(np.logical_or)
logical_xor = _value2(np.logical_xor)
bitwise_and = _value2(np.bitwise_and)
bitwise_or = _value2(np.bitwise_or)
bitwise_xor = _value2(np.bitwise_xor)
bitwise_left_shift = _value2(np.left_shift)
bitwise_right_shift = _value2(np.right_shift)


def round(x, /):  # noqa: A001
    """Round half to even; derivative 0 (piecewise constant)."""
    x = _in(x)
    if isinstance(x, Dual):
        return np.rint(x)
    return _out(np.round(x))


def clip(x, /, min=None, max=None):  # noqa: A002
    x = _in(x)
    if min is None and max is None:
        return x
    if not isinstance(x, Dual) and not isinstance(min, Dual) and not isinstance(max, Dual):
        r = np.clip(x, min, max)
        return _out(r.astype(x.dtype) if isinstance(x, np.ndarray) else r)
    lo = -np.inf if min is None else min
    hi = np.inf if max is None else max
    return np.clip(x, lo, hi)


def real(x, /):
    x = _in(x)
    return _out(np.real(x)) if _is_complex(x) else _out(x)


def imag(x, /):
    x = _in(x)
    return _out(np.imag(x)) if _is_complex(x) else zeros_like(x)


def conj(x, /):
    x = _in(x)
    return _out(np.conj(x)) if _is_complex(x) else _out(x)


def _is_complex(x):
    return isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "c"


# ------------------------------------------------------------------ statistics
def _cast(x, dtype):
    return x if dtype is None else astype(x, dtype)


def _reduce(f, name):
    def g(x, /, *, axis=None, dtype=None, keepdims=False):
        _check_real(dtype)
        x = _cast(_in(x), dtype)
        if isinstance(x, Dual):
            return _out(f(x, axis=_axis(axis), keepdims=keepdims))
        # integers: NumPy would accumulate small dtypes in its default int/uint
        return _out(f(x, axis=_axis(axis), keepdims=keepdims, dtype=dtype))
    g.__name__ = name
    return g


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


sum = _reduce(np.sum, "sum")  # noqa: A001
prod = _reduce(np.prod, "prod")


def mean(x, /, *, axis=None, keepdims=False):
    return _out(np.mean(_in(x), axis=_axis(axis), keepdims=keepdims))


def max(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _out(np.max(_in(x), axis=_axis(axis), keepdims=keepdims))


def min(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _out(np.min(_in(x), axis=_axis(axis), keepdims=keepdims))


def var(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _out(np.var(_in(x), axis=_axis(axis), ddof=correction, keepdims=keepdims))


def std(x, /, *, axis=None, correction=0.0, keepdims=False):
    return _out(np.std(_in(x), axis=_axis(axis), ddof=correction, keepdims=keepdims))


def _cumulative(f, name):
    def g(x, /, *, axis=None, dtype=None, include_initial=False):
        x = _cast(_in(x), dtype)
        if axis is None:
            if x.ndim > 1:
                raise ValueError(f"{name}: axis is required for arrays of more than one "
                                 "dimension")
            axis = 0
        r = f(x, axis=axis) if isinstance(x, Dual) else f(x, axis=axis, dtype=dtype)
        if include_initial:
            shape = list(x.shape)
            shape[axis] = 1
            first = np.full(shape, 0 if f is np.cumsum else 1, dtype=_p(x).dtype)
            r = concat([first, r], axis=axis)
        return _out(r)
    g.__name__ = name
    return g


cumulative_sum = _cumulative(np.cumsum, "cumulative_sum")
cumulative_prod = _cumulative(np.cumprod, "cumulative_prod")


def all(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _out(np.all(_p(_in(x)), axis=_axis(axis), keepdims=keepdims))


def any(x, /, *, axis=None, keepdims=False):  # noqa: A001
    return _out(np.any(_p(_in(x)), axis=_axis(axis), keepdims=keepdims))


def diff(x, /, *, axis=-1, n=1, prepend=None, append=None):
    x = _in(x)
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat([asarray(p) if not isinstance(p, (Dual, np.ndarray)) else p
                    for p in parts], axis=axis)
    for _ in range(n):
        nd = x.ndim
        hi = [slice(None)] * nd
        lo = [slice(None)] * nd
        hi[axis] = slice(1, None)
        lo[axis] = slice(None, -1)
        x = x[tuple(hi)] - x[tuple(lo)]
    return _out(x)


# ------------------------------------------------------------------ searching and sets
def argmax(x, /, *, axis=None, keepdims=False):
    return np.asarray(np.argmax(_p(_in(x)), axis=axis, keepdims=keepdims))


def argmin(x, /, *, axis=None, keepdims=False):
    return np.asarray(np.argmin(_p(_in(x)), axis=axis, keepdims=keepdims))


def nonzero(x, /):
    x = _p(_in(x))
    if x.ndim == 0:
        raise ValueError("nonzero of a 0-d array is not defined by the standard")
    return np.nonzero(x)


def count_nonzero(x, /, *, axis=None, keepdims=False):
    return np.asarray(np.count_nonzero(_p(_in(x)), axis=axis, keepdims=keepdims))


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    return np.asarray(np.searchsorted(_p(_in(x1)), _p(_in(x2)), side=side,
                                      sorter=_p(sorter)))


def where(condition, x1, x2, /):
    c = _p(_in(condition))
    x1, x2 = _mix(_in(x1), _in(x2))
    if isinstance(x1, Dual) or isinstance(x2, Dual):
        return np.where(np.asarray(c, np.bool_), x1, x2)
    return _out(np.where(c, x1, x2))


def _unique(x):
    x = _in(x)
    # equal_nan=False: the standard counts each NaN as a distinct value
    vals, index, inverse, counts = np.unique(_p(x).ravel(), return_index=True,
                                             return_inverse=True, return_counts=True,
                                             equal_nan=False)
    values = x.reshape(-1)[index] if isinstance(x, Dual) else _out(vals)
    return values, index, inverse.reshape(x.shape), counts


UniqueAllResult = namedtuple("UniqueAllResult", "values indices inverse_indices counts")
UniqueCountsResult = namedtuple("UniqueCountsResult", "values counts")
UniqueInverseResult = namedtuple("UniqueInverseResult", "values inverse_indices")


def unique_all(x, /):
    return UniqueAllResult(*_unique(x))


def unique_counts(x, /):
    values, _, _, counts = _unique(x)
    return UniqueCountsResult(values, counts)


def unique_inverse(x, /):
    values, _, inverse, _ = _unique(x)
    return UniqueInverseResult(values, inverse)


def unique_values(x, /):
    return _unique(x)[0]


# ------------------------------------------------------------------ sorting
def argsort(x, /, *, axis=-1, descending=False, stable=True):
    v = _p(_in(x))
    if descending:
        # flip, sort stably, flip back: equal values keep their order
        r = np.flip(np.argsort(np.flip(v, axis=axis), axis=axis, kind="stable"), axis=axis)
        return (v.shape[axis] - 1 - r) if v.ndim else r
    return np.argsort(v, axis=axis, kind="stable")


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """Sorted copy; a Dual's tangent follows its elements (at ties: their order in the
    stable sort)."""
    x = _in(x)
    return take_along_axis(x, argsort(x, axis=axis, descending=descending), axis=axis)


# ------------------------------------------------------------------ indexing
def take(x, indices, /, *, axis=None):
    x = _in(x)
    if axis is None:
        if x.ndim != 1:
            raise ValueError("take: axis is required for arrays of more than one dimension")
        axis = 0
    return _out(np.take(x, np.asarray(_p(indices)), axis=axis))


def take_along_axis(x, indices, /, *, axis=-1):
    return _out(np.take_along_axis(_in(x), np.asarray(_p(indices)), axis=axis))


# ------------------------------------------------------------------ manipulation
def broadcast_arrays(*arrays):
    arrays = [_in(a) for a in arrays]
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    return [broadcast_to(a, shape) for a in arrays]


def broadcast_to(x, /, shape):
    return _out(np.broadcast_to(_in(x), tuple(shape)))


def concat(arrays, /, *, axis=0):
    arrays = list(_mix(*[_in(a) for a in arrays]))
    return _out(np.concatenate(arrays, axis=axis))


def expand_dims(x, /, *, axis=0):
    return _out(np.expand_dims(_in(x), axis))


def flip(x, /, *, axis=None):
    return _out(np.flip(_in(x), axis=_axis(axis)))


def moveaxis(x, source, destination, /):
    return _out(np.moveaxis(_in(x), source, destination))


def permute_dims(x, /, axes):
    return _out(np.transpose(_in(x), tuple(axes)))


def reshape(x, /, shape, *, copy=None):
    x = _in(x)
    if copy is not None and not isinstance(x, Dual):
        return _out(np.reshape(x, tuple(shape), copy=copy))
    return _out(np.reshape(x, tuple(shape)))


def roll(x, /, shift, *, axis=None):
    return _out(np.roll(_in(x), shift, axis=_axis(axis)))


def squeeze(x, /, axis):
    return _out(np.squeeze(_in(x), axis=_axis(axis)))


def stack(arrays, /, *, axis=0):
    return _out(np.stack(list(_mix(*[_in(a) for a in arrays])), axis=axis))


def repeat(x, repeats, /, *, axis=None):
    return _out(np.repeat(_in(x), _p(repeats), axis=axis))


def tile(x, repetitions, /):
    return _out(np.tile(_in(x), tuple(repetitions)))


def unstack(x, /, *, axis=0):
    x = moveaxis(_in(x), axis, 0)
    return tuple(x[i] for i in range(x.shape[0]))


# ------------------------------------------------------------------ linear algebra
def matmul(x1, x2, /):
    return _out(np.matmul(*_mix(_in(x1), _in(x2))))


def matrix_transpose(x, /):
    x = _in(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got shape {x.shape}")
    return _out(np.swapaxes(x, -1, -2))


def tensordot(x1, x2, /, *, axes=2):
    return _out(np.tensordot(*_mix(_in(x1), _in(x2)), axes=axes))


def vecdot(x1, x2, /, *, axis=-1):
    x1, x2 = _mix(_in(x1), _in(x2))
    n1, n2 = np.shape(x1)[axis], np.shape(x2)[axis]
    if n1 != n2:
        raise ValueError(f"vecdot: the axis {axis} has sizes {n1} and {n2}")
    if _is_complex(x1):  # the standard's vecdot conjugates its first argument
        x1 = np.conj(x1)
    xy = x1 * x2
    if isinstance(xy, Dual):
        return _out(np.sum(xy, axis=axis))
    return _out(np.sum(xy, axis=axis, dtype=xy.dtype))  # no int widening


# ------------------------------------------------------------------ inspection
class _Info:
    """``__array_namespace_info__()``: devices and dtypes of this namespace."""

    def capabilities(self):
        return {"boolean indexing": True, "data-dependent shapes": True,
                "max dimensions": 64}

    def default_device(self):
        return "cpu"

    def devices(self):
        return ["cpu"]

    def default_dtypes(self, *, device=None):
        return {"real floating": float64, "complex floating": complex128,
                "integral": int64, "indexing": int64}

    def dtypes(self, *, device=None, kind=None):
        every = {"bool": bool, "int8": int8, "int16": int16, "int32": int32,
                 "int64": int64, "uint8": uint8, "uint16": uint16, "uint32": uint32,
                 "uint64": uint64, "float32": float32, "float64": float64,
                 "complex64": complex64, "complex128": complex128}
        if kind is None:
            return every
        return {k: v for k, v in every.items() if isdtype(v, kind)}


def __array_namespace_info__():
    return _Info()


# The inspection functions also at module level: the 2023.12 stubs list them in the
# namespace's "info" category, and the standard's test suite looks for them there.
capabilities = _Info().capabilities
default_device = _Info().default_device
default_dtypes = _Info().default_dtypes
devices = _Info().devices
dtypes = _Info().dtypes


def _namespace(api_version=None):
    if api_version is not None and api_version not in _VERSIONS:
        raise ValueError(f"dualnum implements the array API standard {__array_api_version__}"
                         f" (and earlier {', '.join(_VERSIONS[:-1])}); got {api_version!r}")
    return _SELF


from . import linalg  # noqa: E402,F401  (the extension; it uses the functions above)
from . import special  # noqa: E402,F401

import sys as _sys  # noqa: E402

_SELF = _sys.modules[__name__]
_dual.array_namespace_hook = _namespace
del _sys
