"""Hessians by forward over forward: dualnum against torch.func.hessian, and against n²
scalar passes. Run as a script:

    python bench/hessian.py            # full run, prints a Markdown report
    python bench/hessian.py --quick    # a few seconds, smaller sizes

The function is f(x) = sum(tanh(A x)) + logsumexp(x) · sum(x²) / n for x of n float64
elements (A fixed, n × n): dense Hessians, matmul, reductions and a nonlinearity.

* ``dn.hessian`` is ``jacfwd(grad(f))``: one forward-over-forward pass with a batch of up
  to 64 basis directions at each of the two levels (chunks beyond 64);
* ``torch.func.hessian`` is ``jacfwd(jacrev(f))``: forward over reverse, vmapped;
* "n² scalar passes" is the same Hessian from one ``jvp`` of a ``jvp`` per entry, what
  nesting without batched tangents would cost (small n only).

dualnum and PyTorch run in separate processes, taking turns round by round; each figure
is the median over the rounds of a per-round median. Compare the ratios of one run.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _problem(n):
    rng = np.random.default_rng(n)
    return rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)


def _time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def worker(system, sizes, reps, scalar_max):
    """Times for one system, in this process: {n: seconds} (and scalar passes)."""
    out = {}
    if system == "dualnum":
        sys.path.insert(0, str(ROOT))
        import dualnum as dn

        for n in sizes:
            A, x = _problem(n)

            def f(v, A=A, n=n):
                return np.sum(np.tanh(A @ v)) + dn.logsumexp(v) * np.sum(v * v) / n

            H = dn.hessian(f)(x)
            out[f"hessian/{n}"] = _time(lambda: dn.hessian(f)(x), reps)
            out[f"check/{n}"] = float(np.abs(H - H.T).max())
            if n <= scalar_max:
                eye = np.eye(n)

                def scalar(f=f, x=x, n=n, eye=eye):
                    return np.array([[dn.jvp(lambda u: dn.jvp(f, (u,), (eye[j],))[1],
                                             (x,), (eye[i],))[1] for j in range(n)]
                                     for i in range(n)])

                np.testing.assert_allclose(scalar(), H, rtol=1e-10, atol=1e-12)
                out[f"scalar/{n}"] = _time(scalar, max(3, reps // 4))
    else:
        import torch
        from torch.func import hessian

        torch.set_num_threads(1)
        for n in sizes:
            A, x = _problem(n)
            At, xt = torch.tensor(A), torch.tensor(x)

            def f(v, At=At, n=n):
                return torch.sum(torch.tanh(At @ v)) + torch.logsumexp(v, 0) * torch.sum(v * v) / n

            out[f"hessian/{n}"] = _time(lambda: hessian(f)(xt), reps)
            out[f"value/{n}"] = hessian(f)(xt).numpy().tolist()
    return out


def _run(system, sizes, reps, scalar_max):
    cmd = [sys.executable, __file__, "--worker", system, "--sizes", ",".join(map(str, sizes)),
           "--reps", str(reps), "--scalar-max", str(scalar_max)]
    env = {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PATH": "/usr/bin:/bin"}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if res.returncode:
        raise RuntimeError(f"{system} worker failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--worker", choices=["dualnum", "torch"])
    ap.add_argument("--sizes", default="")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--scalar-max", type=int, default=8)
    a = ap.parse_args(argv)
    if a.worker:
        sizes = [int(s) for s in a.sizes.split(",")]
        print(json.dumps(worker(a.worker, sizes, a.reps, a.scalar_max)))
        return 0
    sizes = [4, 16] if a.quick else [4, 16, 64, 128]
    rounds = a.rounds or (1 if a.quick else 3)
    reps = 5 if a.quick else 15
    try:
        import torch  # noqa: F401
        systems = ["dualnum", "torch"]
    except ImportError:
        systems = ["dualnum"]
    results = {s: [] for s in systems}
    for _ in range(rounds):
        for s in systems:
            results[s].append(_run(s, sizes, reps, 8))

    def med(s, key):
        return float(np.median([r[key] for r in results[s]]))

    print("## Hessians: dualnum (forward over forward) against torch.func.hessian "
          "(`python bench/hessian.py`)\n")
    print(f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import cpu_model

    print(f"- machine: {cpu_model()}, Python "
          f"{platform.python_version()}, NumPy {np.__version__}, one thread per process, "
          f"{rounds} rounds, float64\n")
    head = "| n | dualnum `dn.hessian` (ms) |"
    sep = "|---|---|"
    if "torch" in systems:
        head += " `torch.func.hessian` (ms) | dualnum / torch | max |H_dn − H_torch| |"
        sep += "---|---|---|"
    head += " n² scalar jvp-of-jvp passes (ms) |"
    sep += "---|"
    print(head)
    print(sep)
    for n in sizes:
        d = med("dualnum", f"hessian/{n}") * 1e3
        row = f"| {n} | {d:.3f} |"
        if "torch" in systems:
            t = med("torch", f"hessian/{n}") * 1e3
            sys.path.insert(0, str(ROOT))
            import dualnum as dn

            A, x = _problem(n)
            H = dn.hessian(lambda v: np.sum(np.tanh(A @ v)) + dn.logsumexp(v) *
                           np.sum(v * v) / n)(x)
            err = np.abs(H - np.array(results["torch"][0][f"value/{n}"])).max()
            row += f" {t:.3f} | {d / t:.2f} | {err:.1e} |"
        key = f"scalar/{n}"
        row += f" {med('dualnum', key) * 1e3:.1f} |" if key in results["dualnum"][0] else " – |"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
