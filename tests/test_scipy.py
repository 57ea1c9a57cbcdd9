"""SciPy on Duals: scipy.special's ufuncs through the rule table, and SciPy's array-API
code (SCIPY_ARRAY_API=1) through dualnum.array_api. Skipped without SciPy.

The rules themselves are tested like every rule, by tests/test_rules.py. Here: what a
user of SciPy sees (dispatch, names in errors, the shared erf/expit rules, the edge
conventions in the rules' notes) and, in one subprocess with SCIPY_ARRAY_API=1, SciPy's
own functions differentiated against central differences and SciPy's derivatives.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dualnum as dn
from dualnum.core.rules import by_name, lookup

sc = pytest.importorskip("scipy.special")
from scipy.special import _ufuncs  # noqa: E402

HERE = Path(__file__).parent
DOCS = HERE.parent / "docs" / "scipy.md"


def _d(x, t=None):
    x = np.asarray(x, float)
    return dn.Dual(x, np.ones_like(x) if t is None else t)


# ------------------------------------------------------------------ in this process
def test_ufuncs_dispatch_to_rules():
    x = _d([0.3, 1.7])
    y = _ufuncs.gammaln(x)
    np.testing.assert_allclose(y.primal, _ufuncs.gammaln(x.primal))
    np.testing.assert_allclose(y.tangent, _ufuncs.psi(x.primal), rtol=1e-14)


def test_scipy_copies_share_dualnum_rules():
    assert lookup(_ufuncs.erf) is by_name("erf") and lookup(_ufuncs.erfc) is by_name("erfc")
    assert lookup(_ufuncs.expit) is by_name("sigmoid")
    assert lookup(_ufuncs.expm1) is lookup(np.expm1)
    x = np.linspace(-5, 5, 11)
    for f, g in ((_ufuncs.erf, dn.erf), (_ufuncs.erfc, dn.erfc), (_ufuncs.expit, dn.sigmoid)):
        np.testing.assert_allclose(g(x), f(x), rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(f(_d(x)).primal, f(x), rtol=1e-14, atol=1e-300)


def test_errors_name_scipy_special():
    with pytest.raises(TypeError, match=r"scipy\.special\.ber has no dualnum rule"):
        _ufuncs.ber(_d([1.0]))
    with pytest.raises(TypeError, match=r"scipy\.special\.zeta has no dualnum rule"):
        _ufuncs._riemann_zeta(_d([2.0]))
    with pytest.raises(TypeError, match=r"scipy\.special\.jv: argument 'v' is not "):
        _ufuncs.jv(_d([1.0]), _d([2.0]))
    with pytest.raises(TypeError, match=r"scipy\.special\.beta\.outer is not supported"):
        _ufuncs.beta.outer(_d([1.0]), _d([2.0]))


def test_numpy_paths_refuse_with_the_array_api_hint():
    if os.environ.get("SCIPY_ARRAY_API"):
        pytest.skip("this process runs SciPy's array-API paths")
    from scipy.optimize import rosen

    with pytest.raises(TypeError, match="set SCIPY_ARRAY_API=1 to run SciPy's array-API "
                                        "code on Duals"):
        dn.grad(rosen)(np.ones(3))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_edge_conventions():
    """The conventions in the rules' notes, at the points the table's tests avoid."""
    t = lambda f, *a: f(*a).tangent  # noqa: E731
    # xlogy(0, b) is 0; its partials are log(b) and a/b (JAX)
    y = _ufuncs.xlogy(_d(0.0), 2.0)
    assert float(y.primal) == 0.0 and float(y.tangent) == pytest.approx(np.log(2.0))
    # boxcox, inv_boxcox at lmbda == 0: the limits of the partials in lmbda
    x = 1.7
    assert float(t(_ufuncs.boxcox, x, _d(0.0))) == pytest.approx(0.5 * np.log(x) ** 2)
    assert float(t(_ufuncs.inv_boxcox, x, _d(0.0))) == pytest.approx(-0.5 * x * x * np.exp(x))
    fd = (_ufuncs.boxcox(x, 1e-5) - _ufuncs.boxcox(x, -1e-5)) / 2e-5
    assert float(t(_ufuncs.boxcox, x, _d(0.0))) == pytest.approx(fd, rel=1e-6)
    assert float(t(_ufuncs.exprel, _d(0.0))) == 0.5
    assert float(t(_ufuncs.spence, _d(1.0))) == -1.0
    assert float(t(_ufuncs.i0e, _d(0.0))) == 0.0  # kink: sign(0) = 0
    # huber is C1: at |r| == delta both branches give delta * sign(r)
    assert float(t(_ufuncs.huber, 1.5, _d(-1.5))) == -1.5
    assert float(t(_ufuncs.huber, _d(1.5), 1.5)) == 0.0
    # log_ndtr and log_expit far in the tails: no 0/0
    assert float(t(_ufuncs.log_ndtr, _d(-30.0))) == pytest.approx(30.0332, rel=1e-4)
    assert float(t(_ufuncs.log_expit, _d(800.0))) == 0.0
    assert float(t(_ufuncs.log_expit, _d(-800.0))) == 1.0


def test_polygamma_in_x():
    from dualnum.ops.special import polygamma

    x = np.array([0.5, 2.0])
    y = polygamma(np.array([0, 2]), _d(x))
    np.testing.assert_allclose(y.primal, sc.polygamma([0, 2], x))
    np.testing.assert_allclose(y.tangent, sc.polygamma([1, 3], x), rtol=1e-12)


def test_erf_float32_accuracy():
    """float32 erf/erfc within 2 float32 ulp of SciPy's float64 values, rounded."""
    x = np.linspace(-9, 9, 200001).astype(np.float32)
    for f, ref in ((dn.erf, _ufuncs.erf), (dn.erfc, _ufuncs.erfc)):
        got = f(x).astype(np.float64)
        want = ref(x.astype(np.float64))
        ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
        ok = np.abs(want) > np.finfo(np.float32).tiny
        assert np.max(np.abs(got - want)[ok] / ulp[ok]) <= 2.0, f.__name__


# ------------------------------------------------------------------ SCIPY_ARRAY_API=1
@pytest.fixture(scope="module")
def array_api_results():
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    r = subprocess.run([sys.executable, str(HERE / "scipy_array_api_checks.py")], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def test_scipy_array_api_paths(array_api_results):
    bad = {k: v[1] for k, v in array_api_results.items() if not v[0]}
    assert not bad, bad
    sample = [k for k in array_api_results if k.startswith("scipy.special.") and "(d/d" in k]
    assert len({k.split(" ")[0] for k in sample}) >= 30


def test_docs_list_is_tested(array_api_results):
    """Every SciPy function the docs list as working is a passing check here."""
    listed = set(re.findall(r"^\| `(scipy\.[\w.]+)` \|", DOCS.read_text(), re.M))
    checked = {k.split(" ")[0] for k, v in array_api_results.items() if v[0]}
    assert listed and listed <= checked, sorted(listed - checked)
