"""dualnum.array_api against the array API standard (2023.12, with linalg).

The standard's own suite (data-apis/array-api-tests) is not a package and is not run in
CI (docs/array-api.md gives its measured result); this file checks the namespace against
the 2023.12 function list itself: every function and constant exists with the standard's
signature (parameter names and kinds), and each group of functions behaves as specified
(values, dtypes, shapes), with derivatives on Duals checked against central differences.
"""
import inspect

import numpy as np
import pytest

import dualnum as dn
from dualnum import array_api as xp
from dualnum.core.rules import lookup
from dualnum.core.pytree import flatten, unflatten
from dualnum.testing import check_jvp as _check_jvp


def check_jvp(f, primals):
    """check_jvp for namespace functions, which return Duals (zero tangents) for plain
    arrays: those are read as the plain arrays they stand for."""
    def plain(*args):
        leaves, td = flatten(f(*args))
        return unflatten(td, [v.primal if isinstance(v, dn.Dual) and v.is_symbolic_zero
                              else v for v in leaves])
    _check_jvp(plain, primals)


# name -> parameters as in the standard: "/" ends positional-only, "*" starts keyword-only
SPEC = {
    # creation
    "arange": "start / stop step * dtype device", "asarray": "obj / * dtype device copy",
    "empty": "shape * dtype device", "empty_like": "x / * dtype device",
    "eye": "n_rows n_cols / * k dtype device", "from_dlpack": "x / * device copy",
    "full": "shape fill_value * dtype device", "full_like": "x / fill_value * dtype device",
    "linspace": "start stop / num * dtype device endpoint", "meshgrid": "*arrays indexing",
    "ones": "shape * dtype device", "ones_like": "x / * dtype device",
    "tril": "x / * k", "triu": "x / * k", "zeros": "shape * dtype device",
    "zeros_like": "x / * dtype device",
    # data types
    "astype": "x dtype / * copy device", "can_cast": "from_ to /", "finfo": "type /",
    "iinfo": "type /", "isdtype": "dtype kind", "result_type": "*arrays_and_dtypes",
    # elementwise, with their special signatures
    "clip": "x / min max", "round": "x /",
    # indexing, linear algebra, manipulation
    "take": "x indices / * axis", "matmul": "x1 x2 /", "matrix_transpose": "x /",
    "tensordot": "x1 x2 / * axes", "vecdot": "x1 x2 / * axis",
    "broadcast_arrays": "*arrays", "broadcast_to": "x / shape", "concat": "arrays / * axis",
    "expand_dims": "x / * axis", "flip": "x / * axis", "moveaxis": "x source destination /",
    "permute_dims": "x / axes", "repeat": "x repeats / * axis", "reshape": "x / shape * copy",
    "roll": "x / shift * axis", "squeeze": "x / axis", "stack": "arrays / * axis",
    "tile": "x repetitions /", "unstack": "x / * axis",
    # searching, sets, sorting
    "argmax": "x / * axis keepdims", "argmin": "x / * axis keepdims", "nonzero": "x /",
    "searchsorted": "x1 x2 / * side sorter", "where": "condition x1 x2 /",
    "unique_all": "x /", "unique_counts": "x /", "unique_inverse": "x /",
    "unique_values": "x /", "argsort": "x / * axis descending stable",
    "sort": "x / * axis descending stable",
    # statistics and utilities
    "cumulative_sum": "x / * axis dtype include_initial", "max": "x / * axis keepdims",
    "mean": "x / * axis keepdims", "min": "x / * axis keepdims",
    "prod": "x / * axis dtype keepdims", "std": "x / * axis correction keepdims",
    "sum": "x / * axis dtype keepdims", "var": "x / * axis correction keepdims",
    "all": "x / * axis keepdims", "any": "x / * axis keepdims",
    "__array_namespace_info__": "",
}
UNARY = ("abs acos acosh asin asinh atan atanh bitwise_invert ceil conj cos cosh exp expm1 "
         "floor imag isfinite isinf isnan log log1p log2 log10 logical_not negative positive "
         "real sign signbit sin sinh square sqrt tan tanh trunc").split()
BINARY = ("add atan2 bitwise_and bitwise_left_shift bitwise_or bitwise_right_shift "
          "bitwise_xor copysign divide equal floor_divide greater greater_equal hypot less "
          "less_equal logaddexp logical_and logical_or logical_xor maximum minimum multiply "
          "not_equal pow remainder subtract").split()
SPEC.update({n: "x /" for n in UNARY})
SPEC.update({n: "x1 x2 /" for n in BINARY})
LINALG = {
    "cholesky": "x / * upper", "cross": "x1 x2 / * axis", "det": "x /",
    "diagonal": "x / * offset", "eigh": "x /", "eigvalsh": "x /", "inv": "x /",
    "matmul": "x1 x2 /", "matrix_norm": "x / * keepdims ord", "matrix_power": "x n /",
    "matrix_rank": "x / * rtol", "matrix_transpose": "x /", "outer": "x1 x2 /",
    "pinv": "x / * rtol", "qr": "x / * mode", "slogdet": "x /", "solve": "x1 x2 /",
    "svd": "x / * full_matrices", "svdvals": "x /", "tensordot": "x1 x2 / * axes",
    "trace": "x / * offset dtype", "vecdot": "x1 x2 / * axis",
    "vector_norm": "x / * axis keepdims ord",
}
DTYPES = "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float32 float64".split()


def _params(f):
    out = []
    seen_kw = False
    ps = list(inspect.signature(f).parameters.values())
    for i, p in enumerate(ps):
        if p.kind is p.VAR_POSITIONAL:
            out.append("*" + p.name)
            seen_kw = True
            continue
        if p.kind is p.KEYWORD_ONLY and not seen_kw:
            out.append("*")
            seen_kw = True
        out.append(p.name)
        last_positional = i + 1 == len(ps) or ps[i + 1].kind is not p.POSITIONAL_ONLY
        if p.kind is p.POSITIONAL_ONLY and last_positional:
            out.append("/")
    return " ".join(out)


@pytest.mark.parametrize("name", sorted(SPEC))
def test_signature(name):
    assert _params(getattr(xp, name)) == SPEC[name]


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_signature(name):
    assert _params(getattr(xp.linalg, name)) == LINALG[name]


def test_constants_dtypes_and_version():
    assert xp.__array_api_version__ == "2023.12"
    assert (xp.e, xp.pi, xp.inf, xp.newaxis) == (np.e, np.pi, np.inf, None) and np.isnan(xp.nan)
    for n in DTYPES:
        assert getattr(xp, n) == np.dtype(n)
    x = dn.Dual(np.ones(2))
    assert x.__array_namespace__() is xp
    assert x.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError, match="2023.12"):
        x.__array_namespace__(api_version="2099.01")
    assert x.device == "cpu" and x.to_device("cpu") is x


def test_inspection():
    info = xp.__array_namespace_info__()
    assert info.capabilities()["boolean indexing"] and info.devices() == ["cpu"]
    assert info.default_device() == "cpu"
    assert info.default_dtypes()["real floating"] == xp.float64
    assert set(info.dtypes(kind="real floating")) == {"float32", "float64"}
    assert set(info.dtypes(kind="integral")) == {n for n in DTYPES if "int" in n}


def test_arrays_of_the_namespace():
    a = xp.asarray([1.0, 2.0])
    assert isinstance(a, dn.Dual) and a.is_symbolic_zero and a.dtype == xp.float64
    assert xp.asarray(np.float32(1.0)).dtype == xp.float32
    i = xp.asarray([1, 2])
    assert isinstance(i, np.ndarray) and i.dtype == xp.int64
    b = xp.asarray(a > 1.5)
    assert b.dtype == xp.bool and b.tolist() == [False, True]
    d = dn.Dual(np.ones(2), np.ones(2))
    s = xp.asarray([d, a])  # a nested sequence of Duals is stacked
    assert s.shape == (2, 2) and s.tangent.tolist() == [[1, 1], [0, 0]]
    assert xp.asarray(d) is d and xp.asarray(d, copy=True) is not d
    with pytest.raises(ValueError, match="cpu"):
        xp.zeros(2, device="gpu")


def test_integer_linspace_keeps_its_end_points_exact():
    big = 2**53 + 1  # float64 cannot hold it: NumPy's float steps would round it
    r = xp.linspace(big, big + 8, 3, dtype=xp.int64)
    assert r.tolist()[0] == big and r.tolist()[-1] == big + 8
    assert xp.linspace(big, big, 1, dtype=xp.int64).tolist() == [big]


def test_complex_data_is_a_plain_constant():
    """Complex arrays are plain NumPy arrays, as integer ones are. In the namespace's
    functions a constant Dual meets them as its value; a Dual with a tangent refuses them
    (its tangent is real), and so do the operators, by dualnum's contract."""
    c = xp.asarray([1j, 2.0])
    assert type(c) is np.ndarray and c.dtype == xp.complex128
    assert xp.zeros(2, dtype=xp.complex64).dtype == np.complex64
    assert xp.full((2,), 1j).dtype == xp.complex128
    k = xp.asarray([1.0, 2.0])  # a constant: symbolic-zero tangent
    for r in (xp.multiply(k, c), xp.add(c, k), xp.where(xp.asarray([True, False]), c, k),
              xp.concat([k, c]), xp.linalg.outer(k, c), xp.vecdot(c, k),
              xp.linalg.solve(xp.eye(2, dtype=xp.complex128), k)):
        assert type(r) is np.ndarray and r.dtype.kind == "c"
    np.testing.assert_array_equal(xp.multiply(k, c), [1j, 4.0])
    assert xp.vecdot(c, c) == 5.0  # conj(x1) . x2
    d = dn.Dual(np.ones(2), np.ones(2))
    for f in (lambda: d * c, lambda: xp.add(d, c), lambda: xp.astype(d, xp.complex128),
              lambda: k * c):
        with pytest.raises(dn.DTypeError, match="complex|tangent"):
            f()
    assert type(xp.astype(k, xp.complex64)) is np.ndarray
    np.testing.assert_array_equal(xp.real(c).primal, [0.0, 2.0])
    np.testing.assert_array_equal(xp.imag(c).primal, [1.0, 0.0])
    np.testing.assert_array_equal(xp.conj(c), [-1j, 2.0])
    # on real Duals: real(x) = conj(x) = x carry the tangent, imag(x) = 0 is constant
    assert xp.real(d).tangent.tolist() == [1.0, 1.0] and xp.conj(d).tangent.tolist() == [1, 1]
    assert xp.imag(d).is_symbolic_zero
    assert xp.__array_namespace_info__().default_dtypes()["complex floating"] == xp.complex128
    assert set(xp.__array_namespace_info__().dtypes(kind="complex floating")) == {
        "complex64", "complex128"}


def test_creation():
    assert xp.zeros((2, 3)).shape == (2, 3) and isinstance(xp.ones(2), dn.Dual)
    assert xp.empty(3, dtype=xp.float32).dtype == xp.float32
    assert xp.zeros(2, dtype=xp.int32).dtype == xp.int32
    assert xp.full((2,), 3).dtype == xp.int64 and xp.full((2,), 3.0).dtype == xp.float64
    assert xp.full((2,), True).dtype == xp.bool
    np.testing.assert_array_equal(xp.arange(5).tolist(), [0, 1, 2, 3, 4])
    np.testing.assert_allclose(xp.arange(1.0, 2.0, 0.5).primal, [1.0, 1.5])
    np.testing.assert_allclose(xp.linspace(0, 1, 3, endpoint=False).primal, [0, 1 / 3, 2 / 3])
    np.testing.assert_allclose(xp.eye(2, 3, k=1).primal, np.eye(2, 3, k=1))
    x = dn.Dual(np.arange(6.0).reshape(2, 3), np.ones((2, 3)))
    assert xp.zeros_like(x).is_symbolic_zero and xp.ones_like(x, dtype=xp.int8).dtype == xp.int8
    assert xp.full_like(x, 2.0).primal.tolist() == [[2.0] * 3] * 2
    np.testing.assert_array_equal(xp.triu(x).tangent, np.triu(np.ones((2, 3))))
    np.testing.assert_array_equal(xp.tril(x, k=-1).primal, np.tril(x.primal, -1))
    g = xp.meshgrid(xp.asarray([1.0, 2.0]), xp.asarray([3.0, 4.0, 5.0]))
    want = np.meshgrid([1.0, 2.0], [3.0, 4.0, 5.0])
    for a, b in zip(g, want):
        np.testing.assert_array_equal(a.primal, b)
    g = xp.meshgrid(xp.asarray([1.0, 2.0]), xp.asarray([3.0, 4.0, 5.0]), indexing="ij")
    assert g[0].shape == (2, 3)
    # linspace is differentiable in its ends
    check_jvp(lambda a, b: xp.linspace(a, b, 4), (np.array(0.5), np.array(2.0)))


def test_data_type_functions():
    x = dn.Dual(np.array([1.7, -2.2]), np.ones(2))
    y = xp.astype(x, xp.float32)
    assert y.dtype == xp.float32 and y.tangent.dtype == np.float32
    k = xp.astype(x, xp.int32)  # piecewise constant: a plain integer array
    assert isinstance(k, np.ndarray) and k.tolist() == [1, -2]
    assert xp.can_cast(xp.float32, xp.float64) and not xp.can_cast(x, xp.int8)
    assert xp.finfo(xp.float32).eps == np.finfo(np.float32).eps and xp.finfo(x).bits == 64
    assert xp.iinfo(xp.int8).max == 127
    assert xp.isdtype(xp.float32, "real floating") and xp.isdtype(xp.int8, ("integral",))
    assert not xp.isdtype(xp.float64, "integral")
    assert xp.result_type(x, xp.float32) == xp.float64
    assert xp.result_type(xp.astype(x, xp.float32), 1.0) == xp.float32


RNG = np.random.default_rng(0)
POS = RNG.uniform(0.2, 0.9, (2, 3))
ANY = RNG.uniform(-2, 2, (2, 3))


@pytest.mark.parametrize("name,x", [
    ("abs", ANY), ("acos", POS), ("acosh", POS + 1.5), ("asin", POS), ("asinh", ANY),
    ("atan", ANY), ("atanh", POS), ("cos", ANY), ("cosh", ANY), ("exp", ANY),
    ("expm1", ANY), ("log", POS), ("log1p", POS), ("log2", POS), ("log10", POS),
    ("negative", ANY), ("positive", ANY), ("real", ANY), ("conj", ANY), ("sin", ANY),
    ("sinh", ANY), ("square", ANY), ("sqrt", POS), ("tan", POS), ("tanh", ANY)])
def test_unary_derivatives(name, x):
    f = getattr(xp, name)
    check_jvp(lambda v: f(v), (x,))
    assert isinstance(f(x), dn.Dual)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "pow", "atan2",
                                  "hypot", "logaddexp", "maximum", "minimum"])
def test_binary_derivatives(name):
    f = getattr(xp, name)
    check_jvp(lambda a, b: f(a, b), (POS + 0.5, POS[::-1] * 1.3 + 0.1))
    assert f(POS, 2.0).shape == POS.shape


def test_value_only_functions():
    x = dn.Dual(np.array([-1.5, 0.0, 2.5, np.nan]), np.ones(4))
    assert xp.isnan(x).tolist() == [False, False, False, True]
    assert xp.less(x, 1.0).tolist() == [True, True, False, False]
    assert xp.equal(x, x).tolist() == [True, True, True, False]
    assert xp.signbit(x).tolist()[:3] == [True, False, False]
    s = xp.sign(x)
    assert isinstance(s, dn.Dual) and not np.any(s.tangent[:3])
    r = xp.round(dn.Dual(np.array([0.5, 1.5, 2.6]), np.ones(3)))
    assert r.primal.tolist() == [0.0, 2.0, 3.0] and not np.any(r.tangent)
    assert xp.imag(x).is_symbolic_zero
    assert xp.logical_and(np.array([True, False]), True).tolist() == [True, False]
    assert xp.bitwise_xor(np.array([5]), np.array([3])).tolist() == [6]
    assert xp.floor_divide(np.array([7]), 2).tolist() == [3]
    c = xp.clip(dn.Dual(np.array([-2.0, 0.5, 3.0]), np.ones(3)), min=-1.0, max=1.0)
    assert c.primal.tolist() == [-1.0, 0.5, 1.0] and c.tangent.tolist() == [0.0, 1.0, 0.0]
    assert xp.clip(np.array([1, 5]), max=3).tolist() == [1, 3]


def test_reductions_keep_the_requested_integer_dtype():
    u = xp.asarray([200, 100], dtype=xp.uint8)
    assert xp.sum(u, dtype=xp.uint8).dtype == xp.uint8  # NumPy alone would give uint64
    assert xp.prod(u, dtype=xp.uint8).dtype == xp.uint8
    assert xp.cumulative_sum(u, dtype=xp.uint8, include_initial=True).tolist() == [0, 200, 44]
    assert xp.vecdot(u, u).dtype == xp.uint8
    assert xp.sum(u).dtype == xp.uint64 and xp.sum(xp.ones(2, dtype=xp.float32)).dtype == \
        xp.float32  # 2023.12: floating sums keep their dtype


def test_finfo_gives_python_scalars():
    f = xp.finfo(xp.float32)
    assert all(type(v) is float for v in (f.eps, f.max, f.min, f.smallest_normal))
    assert f.bits == 32 and f.dtype == xp.float32 and f.eps == np.finfo(np.float32).eps


def test_statistics():
    x = RNG.standard_normal((3, 4)) + 2
    for f, kw in ((xp.sum, {"axis": 1}), (xp.prod, {"axis": (0, 1)}), (xp.mean, {}),
                  (xp.max, {"axis": 0, "keepdims": True}), (xp.min, {"axis": -1}),
                  (xp.var, {"correction": 1}), (xp.std, {"axis": 0, "correction": 1}),
                  (xp.cumulative_sum, {"axis": 1, "include_initial": True})):
        check_jvp(lambda v: f(v, **kw), (x,))
    assert xp.sum(xp.asarray(x), dtype=xp.float32).dtype == xp.float32
    assert xp.cumulative_sum(xp.asarray(x), axis=0, include_initial=True).shape == (4, 4)
    assert xp.sum(np.array([1, 2])).dtype == xp.int64
    assert xp.all(xp.asarray(x) > 0) == np.all(x > 0)
    assert xp.any(np.zeros(2, bool), axis=0).tolist() is False
    np.testing.assert_allclose(xp.diff(xp.asarray(x), axis=0).primal, np.diff(x, axis=0))


def test_searching_sets_and_sorting():
    x = np.array([3.0, 1.0, 2.0, 1.0, 3.0])
    d = dn.Dual(x, np.arange(5.0))
    assert int(xp.argmax(d)) == 0 and int(xp.argmin(d)) == 1
    assert xp.nonzero(d)[0].tolist() == [0, 1, 2, 3, 4]
    assert xp.count_nonzero(d - 1.0).tolist() == 3
    s = xp.sort(d)
    assert s.primal.tolist() == [1, 1, 2, 3, 3] and s.tangent.tolist() == [1, 3, 2, 0, 4]
    s = xp.sort(d, descending=True)
    assert s.primal.tolist() == [3, 3, 2, 1, 1] and s.tangent.tolist() == [0, 4, 2, 1, 3]
    assert xp.argsort(d, descending=True).tolist() == [0, 4, 2, 1, 3]  # stable
    assert xp.searchsorted(xp.sort(d), 2.0).tolist() == 2
    u = xp.unique_all(d)
    assert u.values.primal.tolist() == [1, 2, 3] and u.values.tangent.tolist() == [1, 2, 0]
    assert u.counts.tolist() == [2, 1, 2] and u.inverse_indices.tolist() == [2, 0, 1, 0, 2]
    assert xp.unique_values(np.array([2, 2, 1])).tolist() == [1, 2]
    assert xp.unique_counts(d).counts.tolist() == [2, 1, 2]
    assert xp.unique_inverse(d).inverse_indices.shape == (5,)
    w = xp.where(x > 1.5, d, 0.0)
    assert w.tangent.tolist() == [0, 0, 2, 0, 4]
    check_jvp(lambda v: xp.sort(v, axis=0), (RNG.standard_normal((3, 2)),))


def test_unique_counts_each_nan():
    x = xp.asarray([np.nan, 1.0, np.nan, 1.0])
    r = xp.unique_counts(x)
    assert np.isnan(r.values.primal).sum() == 2 and r.counts.tolist().count(1) == 2
    assert xp.unique_all(x).inverse_indices.shape == (4,)


def test_indexing_and_item_assignment():
    x = RNG.standard_normal((3, 4))
    check_jvp(lambda v: xp.take(v, np.array([2, 0, 2]), axis=1), (x,))
    check_jvp(lambda v: xp.take_along_axis(v, np.argsort(x, axis=0), axis=0), (x,))

    def assign(v, w):
        v = xp.asarray(v, copy=True)
        v[v > 0.5] = 0.0
        v[1, :2] = w
        v[..., -1] += 1.0
        return v
    check_jvp(assign, (x, np.array([1.5, 2.5])))
    d = xp.asarray(x)
    e = xp.asarray(d, copy=True)
    e[0] = 9.0
    assert d.primal[0, 0] == x[0, 0]  # the copy's update leaves the original alone


def test_manipulation():
    x, y = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    cases = [
        lambda a, b: xp.concat([a, b], axis=1), lambda a, b: xp.stack([a, b], axis=-1),
        lambda a, b: xp.broadcast_arrays(a, b[:1]), lambda a, b: xp.expand_dims(a, axis=1),
        lambda a, b: xp.flip(a, axis=0) * b, lambda a, b: xp.moveaxis(a, 0, 1),
        lambda a, b: xp.permute_dims(a, (1, 0)), lambda a, b: xp.repeat(a, 2, axis=1),
        lambda a, b: xp.repeat(a, np.array([1, 3]), axis=0), lambda a, b: xp.reshape(a, (3, 2)),
        lambda a, b: xp.roll(a, 1, axis=1), lambda a, b: xp.squeeze(a[None], axis=0),
        lambda a, b: xp.tile(a, (2, 1, 2)), lambda a, b: xp.unstack(a, axis=1),
        lambda a, b: xp.broadcast_to(b[0], (4, 3)), lambda a, b: xp.concat([a, b], axis=None),
    ]
    for f in cases:
        check_jvp(f, (x, y))
    np.testing.assert_array_equal(xp.tile(xp.asarray(x), (2, 1, 2)).primal, np.tile(x, (2, 1, 2)))
    np.testing.assert_array_equal(xp.repeat(xp.asarray(x), 2).primal, np.repeat(x, 2))


def test_linear_algebra():
    a, b = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    v, w = RNG.standard_normal(3), RNG.standard_normal(3)
    L = xp.linalg
    for f, args in ((xp.matmul, (a, b)), (xp.tensordot, (a, b)), (xp.vecdot, (a, b)),
                    (L.outer, (v, w)), (L.cross, (v, w)), (L.trace, (a,)),
                    (L.diagonal, (a,)), (xp.matrix_transpose, (a,)),
                    (lambda m: L.matrix_power(m, 3), (a,)),
                    (lambda m: L.matrix_norm(m), (a,)),
                    (lambda m: L.vector_norm(m, axis=(0, 1), ord=1), (a,)),
                    (lambda m: L.vector_norm(m, axis=1, keepdims=True), (a,)),
                    (lambda m: L.vector_norm(m, ord=np.inf), (a,))):
        check_jvp(f, args)
    assert L.matrix_power(xp.asarray(a), 0).primal.tolist() == np.eye(3).tolist()
    np.testing.assert_allclose(L.cross(xp.asarray(v), xp.asarray(w)).primal, np.cross(v, w))
    assert int(L.matrix_rank(xp.asarray(a))) == 3
    assert xp.asarray(a).mT.primal.tolist() == a.T.tolist()


SPD = (lambda m: m @ m.T + 3 * np.eye(3))(RNG.standard_normal((3, 3)))


@pytest.mark.parametrize("name,f", [
    ("inv", lambda m: xp.linalg.inv(m)), ("det", lambda m: xp.linalg.det(m)),
    ("solve", lambda m: xp.linalg.solve(m, xp.asarray(np.arange(3.0)))),
    ("cholesky", lambda m: xp.linalg.cholesky(m)),
    ("eigh", lambda m: xp.linalg.eigvalsh(m)),
    ("slogdet", lambda m: xp.linalg.slogdet(m)[1]),
    ("svd", lambda m: xp.linalg.svdvals(m)), ("pinv", lambda m: xp.linalg.pinv(m)),
    ("qr", lambda m: xp.linalg.qr(m)[1])])
def test_linalg_through_numpy_rules(name, f):
    """These need numpy.linalg's rules: without one, a TypeError names the function."""
    if lookup(getattr(np.linalg, name)) is None:
        with pytest.raises(TypeError, match=f"linalg.{name}"):
            f(dn.Dual(SPD, np.ones((3, 3))))
    else:
        check_jvp(f, (SPD,))


def test_pinv_rtol_may_be_a_dual():
    """rtol picks which singular values count: piecewise constant, so a Dual rtol is
    read by value and the derivative is that of pinv at fixed rtol."""
    a = np.array([[2.0, 1.0], [1.0, 3.0], [0.0, 1.0]])
    d = dn.Dual(a, np.arange(6.0).reshape(3, 2))
    r = xp.linalg.pinv(d, rtol=dn.Dual(np.array(0.1), np.array(1.0)))
    np.testing.assert_allclose(r.tangent, xp.linalg.pinv(d, rtol=0.1).tangent)
    check_jvp(lambda m: xp.linalg.pinv(m, rtol=xp.asarray(0.1)), [a])


def test_inspection_functions_also_at_module_level():
    info = xp.__array_namespace_info__()
    assert xp.capabilities() == info.capabilities() and xp.devices() == ["cpu"]
    assert xp.default_device() == "cpu" and xp.default_dtypes() == info.default_dtypes()
    assert xp.dtypes(kind="bool") == {"bool": xp.bool}


def test_array_object_methods_of_the_standard():
    k = xp.asarray([1.0, 2.0])
    np.testing.assert_array_equal(np.from_dlpack(k), [1.0, 2.0])  # a constant exports
    assert k.__dlpack_device__() == (1, 0)
    d = dn.Dual(np.ones(2), np.ones(2))
    with pytest.raises(dn.ConversionError, match="tangent"):
        np.from_dlpack(d)
    # bitwise operators exist on the array object; on floating data they have no rule
    for f, name in ((lambda: d & d, "bitwise_and"), (lambda: d | 1, "bitwise_or"),
                    (lambda: d ^ d, "bitwise_xor"), (lambda: d << 1, "left_shift"),
                    (lambda: d >> 1, "right_shift"), (lambda: ~d, "invert")):
        with pytest.raises(TypeError, match=name):
            f()


def test_constants_take_the_short_path_with_the_same_result():
    """Arguments that are all constants skip the general path's bookkeeping (array-API
    code reads arrays item by item): same value, a symbolic-zero tangent, the same errors,
    and a Dual with a tangent still takes the general path."""
    e = xp.eye(3)
    v = e[1, 1]
    assert isinstance(v, dn.Dual) and v.is_symbolic_zero and v.shape == () and float(v) == 1
    assert (e + e)[2, 2].is_symbolic_zero and float((e * 3.0)[0, 0]) == 3.0
    with pytest.raises(dn.ShapeError, match="broadcast"):
        xp.ones(2) + xp.ones(3)
    d = dn.Dual(np.arange(3.0), np.ones(3))
    assert (d * xp.asarray(2.0))[1].tangent == 2.0
    trace = dn.trace(lambda x: xp.sum(x * xp.asarray(2.0)), np.arange(3.0))
    assert "multiply" in str(trace)


def test_printing_items_is_memoised_and_follows_print_options():
    """0-d Duals print from a memo of NumPy's text (array-API code formats items one at
    a time); the memo keys on the print options, so changing them changes the text."""
    x = xp.asarray([np.pi, 1.0])
    assert f"{x[0]}" == f"Dual({np.array2string(np.array(np.pi))}, tangent=0 (symbolic zero))"
    with np.printoptions(precision=3):
        assert repr(x[0]) == "Dual(3.142, tangent=0 (symbolic zero))"
    assert repr(dn.Dual(np.float32(0.5), np.float32(2.0))) == \
        "Dual(0.5, tangent=2., dtype=float32)"


def test_array_api_compat_sees_the_namespace():
    """array-api-compat as SciPy vendors it (array-api-extra's functions run on Duals in
    the SCIPY_ARRAY_API=1 checks of tests/test_scipy.py)."""
    pytest.importorskip("scipy")
    from scipy._lib import array_api_compat as compat
    from scipy._lib import array_api_extra as xpx

    d = dn.Dual(np.arange(3.0), np.ones(3))
    assert compat.is_array_api_obj(d) and compat.array_namespace(d, 1.0) is xp
    assert compat.device(d) == "cpu" and compat.size(d) == 3
    e = xpx.at(d)[1:].set(7.0)
    assert e.primal.tolist() == [0.0, 7.0, 7.0] and e.tangent.tolist() == [1.0, 0.0, 0.0]
    assert xpx.atleast_nd(d, ndim=3).shape == (1, 1, 3)


def test_hypothesis_builds_arrays_of_the_namespace():
    """Hypothesis's array-API strategies (which the standard's own suite draws its inputs
    from) accept the namespace and build arrays of every dtype it names, complex ones
    included (hypothesis's scalar_dtypes() requires those names)."""
    from hypothesis import given, settings
    from hypothesis.extra.array_api import make_strategies_namespace

    xps = make_strategies_namespace(xp, api_version="2023.12")

    dtypes = xps.scalar_dtypes()

    @settings(max_examples=20)
    @given(xps.arrays(dtype=dtypes, shape=xps.array_shapes(min_dims=0)))
    def check(x):
        assert x.__array_namespace__() is xp or isinstance(x, np.ndarray)
        assert isinstance(x, dn.Dual) == xp.isdtype(x.dtype, "real floating")
        assert isinstance(x, np.ndarray) == (not isinstance(x, dn.Dual))
        assert xp.reshape(x, (-1,)).shape == (x.size,)

    check()
