"""Run by tests/test_scipy.py in a subprocess with SCIPY_ARRAY_API=1 (SciPy reads the
variable once, at import). Prints one JSON object: check name -> [ok, detail].

Every check differentiates SciPy's own, unmodified code with dn.grad and compares with
central differences in float64 (or SciPy's own derivative where it has one). A check
passes when the derivative is right, or when the call raises a TypeError that names the
function (a clear refusal); a wrong number fails it.
"""
import json
import os
import sys

import numpy as np

import dualnum as dn
from dualnum.core.rules import table

RNG = np.random.default_rng(0)
RESULTS = {}


def fd_grad(f, x, eps=1e-6):
    """Central differences of f, evaluated on Duals with zero tangents (so a function
    that closes over a Dual runs, as SciPy refuses to mix namespaces)."""
    def val(v):
        r = f(dn.Dual(v))
        return float(r.primal if isinstance(r, dn.Dual) else r)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (val(x + e) - val(x - e)) / (2 * eps)
    return g


def check(name, f, x, want=None, rtol=1e-5, atol=1e-7, refuse=None):
    try:
        got = dn.grad(f)(x)
        if want is None:
            want = fd_grad(f, x)
        ok = bool(np.allclose(got, want, rtol=rtol, atol=atol))
        RESULTS[name] = [ok, f"max |err| {np.max(np.abs(got - want)):.3g}"]
    except TypeError as e:
        RESULTS[name] = [refuse is not None and refuse in str(e), f"TypeError: {e}"]
    except Exception as e:  # noqa: BLE001  (reported, and fails the test)
        RESULTS[name] = [False, f"{type(e).__name__}: {e}"]


def main():
    assert os.environ.get("SCIPY_ARRAY_API") == "1", "run with SCIPY_ARRAY_API=1"
    import scipy.integrate as si
    import scipy.optimize as so
    import scipy.special as sc
    import scipy.stats as ss
    from scipy._lib import array_api_extra as xpx

    x = RNG.uniform(0.2, 1.8, 6)
    check("scipy.optimize.rosen", so.rosen, x, want=so.rosen_der(x))
    if hasattr(dn, "hessian"):
        try:
            ok = np.allclose(dn.hessian(so.rosen)(x), so.rosen_hess(x), rtol=1e-9, atol=1e-9)
            RESULTS["scipy.optimize.rosen (hessian)"] = [bool(ok), "dn.hessian vs rosen_hess"]
        except Exception as e:  # noqa: BLE001
            RESULTS["scipy.optimize.rosen (hessian)"] = [False, f"{type(e).__name__}: {e}"]
    check("scipy.special.logsumexp", sc.logsumexp, x)
    check("scipy.special.logsumexp (axis, b)", lambda v: sc.logsumexp(
        v.reshape(2, 3), axis=1, b=dn.Dual(np.arange(1.0, 7.0).reshape(2, 3)))[1], x)
    check("scipy.special.softmax", lambda v: sc.softmax(v)[2], x)
    check("scipy.special.log_softmax", lambda v: sc.log_softmax(v)[3], x)
    check("scipy.special.expit", lambda v: sc.expit(v).sum(), x)
    check("scipy.special.erf", lambda v: sc.erf(v).sum(), x)
    check("scipy.special.gammaln", lambda v: sc.gammaln(v).sum(), x)
    check("scipy.special.xlogy", lambda v: sc.xlogy(v, 3.0 - v).sum(), x)
    check("scipy.special.polygamma", lambda v: sc.polygamma(2, v).sum(), x)
    check("scipy.special.zeta", lambda v: sc.zeta(3.0, v).sum(), x)
    check("scipy.special.softplus", lambda v: sc.softplus(v).sum(), x)
    check("scipy.special.chdtr", lambda v: sc.chdtr(3.0, v).sum(), x)
    check("scipy.stats.zscore", lambda v: ss.zscore(v)[1], x)
    check("scipy.stats.zmap", lambda v: ss.zmap(v, 2.0 * v)[0], x)
    check("scipy.stats.skew", ss.skew, x)
    check("scipy.stats.kurtosis", ss.kurtosis, x)
    check("scipy.stats.gmean", ss.gmean, x)
    check("scipy.stats.hmean", ss.hmean, x)
    check("scipy.stats.pmean", lambda v: ss.pmean(v, 2.5), x)
    check("scipy.stats.entropy", ss.entropy, x)
    check("scipy.stats.sem", ss.sem, x)
    check("scipy.stats.trim_mean", lambda v: ss.trim_mean(v, 0.1), x)
    check("scipy.integrate.cumulative_trapezoid",
          lambda v: si.cumulative_trapezoid(v)[-1], x)
    check("scipy.integrate.cumulative_simpson", lambda v: si.cumulative_simpson(v)[-1], x)
    check("scipy.optimize.rosen_der", lambda v: so.rosen_der(v)[2], x,
          want=so.rosen_hess(x)[2])
    check("scipy.stats.tmean (refuses)", ss.tmean, x, refuse="Multiple namespaces")
    check("scipy.integrate.simpson (refuses)", si.simpson, x, refuse="no array-API path")
    check("scipy.integrate.trapezoid", lambda v: si.trapezoid(v * v), x)
    check("scipy.integrate.trapezoid (x=)", lambda v: si.trapezoid(v, x=np.cumsum(v)), x)
    check("array_api_extra.cov", lambda v: xpx.cov(v.reshape(2, 3))[0, 1], x)
    check("array_api_extra.at", lambda v: xpx.at(v)[1:3].multiply(v[:2]).sum(), x)
    check("scipy.special.ber (no rule)", lambda v: sc.ber(v).sum(), x,
          refuse="scipy.special.ber")
    check("scipy.special.zeta (Riemann, no rule)", lambda v: sc.zeta(v + 1.5).sum(), x,
          refuse="scipy.special.zeta")

    # Every scipy.special rule, called as scipy.special.<name>: each differentiable argument
    # in turn, the others fixed, inside its domain.
    for rule in table():
        if not rule.name.startswith("scipy.special.") or rule.name.endswith("polygamma"):
            continue
        fn = getattr(sc, rule.name.rsplit(".", 1)[1])
        doms = rule.domain
        mids = [0.5 * (d.lo + d.hi) + 0.1 for d in doms]
        for i, p in enumerate(rule.partials):
            if p is None:
                continue
            d = doms[i]
            xi = RNG.uniform(d.lo + d.margin, d.hi - d.margin, 4)
            for a in d.avoid:
                xi = np.where(np.abs(xi - a) < 2 * d.margin, a + 3 * d.margin, xi)

            def f(v, i=i, fn=fn, mids=mids):
                args = list(mids)
                args[i] = v
                return fn(*args).sum()
            check(f"{rule.name} (d/d{rule.argnames[i]})", f, xi, rtol=2e-5, atol=1e-6)

    json.dump(RESULTS, sys.stdout)


if __name__ == "__main__":
    main()
