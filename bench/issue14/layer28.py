"""The CNN's 28×28 layer as one FG step runs it (64 images, 64 → 64 channels, one input
tangent, a rank-one weight tangent, bias tangent, ReLU and 2×2 max-pool fused), wall
clock on 1 and 2 kernel threads, medians:

    python bench/issue14/layer28.py
"""
import time

import numba
import numpy as np

import dualnum  # noqa: F401  (starts the kernel threads as a user's import does)
from dualnum.kernels import conv

rng = np.random.default_rng(0)
f = np.float32
x = rng.standard_normal((64, 64, 28, 28)).astype(f)
w = rng.standard_normal((64, 64, 3, 3)).astype(f)
b = rng.standard_normal(64).astype(f)
tx = rng.standard_normal((1,) + x.shape).astype(f)
fa, fb = rng.standard_normal((1, 64)).astype(f), rng.standard_normal((1, 64, 3, 3)).astype(f)
tb = rng.standard_normal((1, 64)).astype(f)


def run():
    return conv._winograd(x, tx, w, None, b, tb, (1, 1), 1, fa, fb, 4, True, True)


for nt in (1, 2):
    numba.set_num_threads(nt)
    run()
    ts = []
    for _ in range(9):
        t0 = time.perf_counter()
        run()
        ts.append(time.perf_counter() - t0)
    print(f"{nt} thread(s): {1e3 * np.median(ts):.1f} ms")
