"""The Winograd transforms before and after their rewrite (kernels/winograd.py), in one
process, 1 thread, on the CNN's layers (64 images, 64 channels):

    python bench/issue14/winograd_ab.py

"Before" is dualnum/kernels/conv.py at commit 882d518, read from git and loaded beside
the package (it needs this checkout's git history).
"""
import importlib.util
import pathlib
import subprocess
import tempfile
import time

import numba
import numpy as np

import dualnum.kernels  # noqa: F401  (the old module's relative imports)
from dualnum.kernels import winograd as W

BEFORE = "882d518"
root = pathlib.Path(__file__).resolve().parents[2]
src = subprocess.run(["git", "show", f"{BEFORE}:dualnum/kernels/conv.py"], cwd=root,
                     check=True, capture_output=True, text=True).stdout
path = pathlib.Path(tempfile.mkdtemp()) / "conv_before.py"
path.write_text(src)
spec = importlib.util.spec_from_file_location("dualnum.kernels._conv_before", path)
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)

numba.set_num_threads(1)
rng = np.random.default_rng(0)
f = np.float32


def timed(fn, k=9):
    fn()
    ts = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * np.median(ts)


print("| map, F | pass | before (ms) | after (ms) |")
print("|---|---|---|---|")
for hw, m in ((28, 4), (14, 2)):
    x = rng.standard_normal((64, 64, hw, hw)).astype(f)
    go, gn = old._Winograd(x.shape, (1, 1), f, m), W.Geometry(x.shape, (1, 1), f, m)
    v = np.empty((go.xi, 64, go.cols), f)
    mx = rng.standard_normal((go.xi, 65, go.cols)).astype(f)
    mo = np.ascontiguousarray(mx[:, :64])
    b, a = rng.standard_normal(64).astype(f), rng.standard_normal((1, 64)).astype(f)
    yf = np.empty((64, 64, hw, hw), f)
    ps = (64, 64, hw // 2, hw // 2)
    yp, tp, wo = np.empty(ps, f), np.empty(ps, f), np.empty(ps, np.int8)
    wn = gn.pool_index(64, 64)
    zo = go.full((64, 1))
    go.output(np.ascontiguousarray(mx[:, 64:]), None, zo)
    zn = gn.tiles(mx, 64, 1, 64)
    rows = [
        ("input transform", lambda: go.transform(x, v, 0), lambda: gn.transform(x, v, 0)),
        ("output", lambda: go.output(mo, b, yf), lambda: gn.output(mx, 0, b, yf)),
        ("output + ReLU + pool, value", lambda: go.output_pooled(mo, b, yp, 1, wo),
         lambda: gn.output_pooled(mx, 0, b, yp, 1, wn)),
        ("output + pool, tangent with a rank-one term",
         lambda: go.output_pooled(mo, b, tp, 2, wo, yp, a, zo),
         lambda: gn.output_pooled(mo, 0, b, tp, 2, wn, yp, a, zn)),
    ]
    for name, before, after in rows:
        print(f"| {hw}×{hw}, F({m}×{m}) | {name} | {timed(before):.2f} | {timed(after):.2f} |")
