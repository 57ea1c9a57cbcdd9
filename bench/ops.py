"""Core-engine benchmarks (issue: core engine). Run as a script:

    python bench/ops.py            # full run, prints a Markdown report
    python bench/ops.py --quick    # a few seconds, smaller sizes (used by CI)

Measures, in one process and one run (medians; this machine is shared and noisy, so
compare ratios measured side by side, never figures from different runs):

1. per-call overhead of ``tanh(x*w + b)`` at x of shape (4,), value and tangent, beside
   hand-written NumPy value+tangent (and torch forward AD / JAX jvp when installed);
2. throughput at 10^6 float32 elements: each elementwise rule's value+tangent against
   NumPy's value alone;
3. a matmul jvp with K = 16 batched tangents against 16 single jvps;
4. compile cost: first call of each fused kernel with a cold cache, and ``import dualnum``
   plus a first jvp with a warm cache, each in a fresh process.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit

import numpy as np


def median_time(f, repeat, number=1):
    f()
    gc.disable()
    try:
        ts = timeit.repeat(f, number=number, repeat=repeat)
    finally:
        gc.enable()
    return float(np.median(ts)) / number


def overhead(quick):
    import dualnum as dn

    rng = np.random.default_rng(0)
    xp, xt = rng.standard_normal(4), rng.standard_normal(4)
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    x = dn.Dual(xp, xt)
    number = 2000 if quick else 20000
    rep = 5 if quick else 15

    def hand():
        u = xp * w + b
        y = np.tanh(u)
        return y, (1 - y * y) * (xt * w)

    rows = {"dualnum": median_time(lambda: np.tanh(x * w + b), rep, number),
            "hand-written NumPy": median_time(hand, rep, number)}
    try:
        import torch
        import torch.autograd.forward_ad as fwAD

        tx, tt = torch.tensor(xp), torch.tensor(xt)
        tw, tb = torch.tensor(w), torch.tensor(b)

        def torch_fw():
            with fwAD.dual_level():
                d = fwAD.make_dual(tx, tt)
                return fwAD.unpack_dual(torch.tanh(d * tw + tb))

        rows["torch forward AD"] = median_time(torch_fw, rep, number // 10)
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        jw, jb = jnp.asarray(w), jnp.asarray(b)
        rows["JAX eager jvp"] = median_time(
            lambda: jax.block_until_ready(jax.jvp(lambda v: jnp.tanh(v * jw + jb), (xp,), (xt,))),
            rep, max(number // 100, 10))
    except ImportError:
        pass
    return {k: v * 1e6 for k, v in rows.items()}


def throughput(quick, only=None):
    import dualnum as dn
    from dualnum.core.rules import table

    n = 10**5 if quick else 10**6
    rep = 5 if quick else 25
    rng = np.random.default_rng(0)
    rows = []
    for rule in table():
        if rule.kind != "elementwise" or rule.normalize is not None:
            continue
        if only and rule.name not in only:
            continue
        if not only and rule.name.startswith("scipy."):
            continue  # NumPy's ufuncs and dualnum's own (scipy.special: --only NAMES)
        if any(not hasattr(dom, "lo") for dom in rule.domain):
            continue  # integer or boolean arguments: no float32 throughput to measure
        args = []
        for dom in rule.domain:
            lo, hi = dom.lo + dom.margin, dom.hi - dom.margin
            a = rng.uniform(lo, hi, n)
            for p in dom.avoid:
                a = np.where(np.abs(a - p) < dom.margin, p + 2 * dom.margin, a)
            args.append(a.astype(np.float32))
        # one perturbation (one level) for every differentiable argument
        lvl = dn.Dual(0.0).level
        duals = [a if p is None else
                 dn.Dual(a, rng.standard_normal(n).astype(np.float32), level=lvl)
                 for a, p in zip(args, rule.partials)]
        fn = rule.fn
        t_dual = median_time(lambda: fn(*duals), rep)
        t_np = median_time(lambda: fn(*args), rep)
        rows.append({"op": rule.name, "fused": bool(rule.kernel),
                     "dual_ms": t_dual * 1e3, "numpy_ms": t_np * 1e3, "ratio": t_dual / t_np})
    return n, rows


def batched_matmul(quick):
    import dualnum as dn

    rng = np.random.default_rng(0)
    m, n, p, k = (64, 256, 256, 16) if quick else (64, 784, 1024, 16)
    x = rng.standard_normal((m, n)).astype(np.float32)
    w = rng.standard_normal((n, p)).astype(np.float32)
    tw = rng.standard_normal((k, n, p)).astype(np.float32)
    tx = rng.standard_normal((k, m, n)).astype(np.float32)
    f = lambda x, w: x @ w  # noqa: E731
    rep = 5 if quick else 21
    t_batch = median_time(lambda: dn.jvp(f, (x, w), (tx, tw), batched=True), rep)
    t_single = median_time(lambda: [dn.jvp(f, (x, w), (tx[i], tw[i])) for i in range(k)], rep)
    # the GEMM form the batched path uses, as a floor
    return {"shape": f"x {x.shape} @ w {w.shape}, K={k}", "batched_ms": t_batch * 1e3,
            "k_singles_ms": t_single * 1e3, "ratio": t_batch / t_single}


_FIRST_CALLS = textwrap.dedent("""
    import time, json, numpy as np
    t0 = time.perf_counter()
    import dualnum as dn
    from dualnum.core.rules import table
    t_import = time.perf_counter() - t0
    out = {"import_s": t_import, "kernels": {}}
    n = 1000
    rng = np.random.default_rng(0)
    for rule in table():
        if not rule.kernel or rule.kind != "elementwise":
            continue
        lvl = dn.Dual(0.0).level  # one perturbation for every argument
        args = [rng.uniform(0.5, 2, n) > 1 if p is None else
                dn.Dual(rng.uniform(0.5, 2, n), np.ones(n), level=lvl)
                for p in (rule.partials or ())]
        t = time.perf_counter()
        rule.fn(*args)
        out["kernels"][rule.name] = time.perf_counter() - t
    print(json.dumps(out))
""")

_WARM = textwrap.dedent("""
    import time, json
    t0 = time.perf_counter()
    import numpy as np
    import dualnum as dn
    t1 = time.perf_counter()
    dn.jvp(lambda x: np.tanh(x * 2.0 + 1.0), (np.ones(1000),), (np.ones(1000),))
    t2 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "first_jvp_s": t2 - t1, "total_s": t2 - t0}))
""")


def compile_cost():
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        # empty: every kernel compiles on its first call (dualnum's kernels cache under
        # DUALNUM_CACHE_DIR, anything else of numba's under NUMBA_CACHE_DIR)
        env["DUALNUM_CACHE_DIR"] = env["NUMBA_CACHE_DIR"] = cache
        cold = json.loads(subprocess.run([sys.executable, "-c", _FIRST_CALLS], env=env,
                                         capture_output=True, text=True, check=True).stdout)
        subprocess.run([sys.executable, "-c", _WARM], env=env, check=True,
                       capture_output=True)  # fills the cache for the warm start
        warm = [json.loads(subprocess.run([sys.executable, "-c", _WARM], env=env,
                                          capture_output=True, text=True,
                                          check=True).stdout) for _ in range(3)]
    warm_total = float(np.median([w["total_s"] for w in warm]))
    return cold, warm, warm_total


def machine():
    from _common import cpu_model

    cpu = cpu_model()
    import dualnum  # noqa: F401  (before numba starts its threads: see dualnum/_threads.py)
    import numba

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, numba {numba.__version__} ({numba.get_num_threads()} threads)")


def only_throughput(quick, names):
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"## Throughput of {', '.join(sorted(names))} "
          f"(`python bench/ops.py --only {','.join(sorted(names))}`)\n")
    print(f"- date: {date}\n- machine: {machine()}\n")
    n, rows = throughput(quick, names)
    print(f"| op ({n:,} float32 elements) | fused kernel | dualnum value+tangent (ms) | "
          f"NumPy value (ms) | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['op']} | {'yes' if r['fused'] else 'no'} | {r['dual_ms']:.3f} | "
              f"{r['numpy_ms']:.3f} | {r['ratio']:.2f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="",
                    help="comma-separated op names: throughput of these ops alone")
    args = ap.parse_args(argv)
    if args.only:
        return only_throughput(args.quick, set(args.only.split(",")))
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"## Core engine (`python bench/ops.py{' --quick' if args.quick else ''}`)\n")
    print(f"- date: {date}\n- machine: {machine()}\n")

    ov = overhead(args.quick)
    print("### Per-call overhead: `tanh(x*w + b)`, x of shape (4,), value and tangent\n")
    print("| system | µs per call (median) |\n|---|---|")
    for k, v in ov.items():
        print(f"| {k} | {v:.2f} |")

    n, rows = throughput(args.quick)
    print(f"\n### Throughput at {n:,} float32 elements: value + tangent vs NumPy's value alone\n")
    print("| op | fused kernel | dualnum value+tangent (ms) | NumPy value (ms) | ratio |")
    print("|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: r["ratio"]):
        print(f"| {r['op']} | {'yes' if r['fused'] else 'no'} | {r['dual_ms']:.3f} | "
              f"{r['numpy_ms']:.3f} | {r['ratio']:.2f} |")
    fused = [r for r in rows if r["fused"]]
    worst = max(fused, key=lambda r: r["ratio"])
    within = sum(r["ratio"] <= 1.5 for r in fused)
    print(f"\nFused rules within 1.5x: {within} of {len(fused)}; worst fused op: "
          f"{worst['op']} at {worst['ratio']:.2f}x. Worst overall: "
          f"{max(rows, key=lambda r: r['ratio'])['op']}.")

    bm = batched_matmul(args.quick)
    print(f"\n### Batched tangents: matmul jvp, {bm['shape']}\n")
    print(f"- one batched jvp: {bm['batched_ms']:.2f} ms; 16 single jvps: "
          f"{bm['k_singles_ms']:.2f} ms; ratio {bm['ratio']:.2f}")

    cold, warm, warm_total = compile_cost()
    ks = cold["kernels"]
    print("\n### Compile cost (fresh processes)\n")
    print(f"- cold cache: `import dualnum` {cold['import_s']:.2f} s; first call of each "
          f"fused kernel: median {np.median(list(ks.values())):.2f} s, max "
          f"{max(ks.values()):.2f} s ({max(ks, key=ks.get)}), over {len(ks)} rules")
    print(f"- warm cache: `import dualnum` + first jvp: {warm_total:.2f} s (median of 3; "
          f"import {np.median([w['import_s'] for w in warm]):.2f} s)")


if __name__ == "__main__":
    main()
