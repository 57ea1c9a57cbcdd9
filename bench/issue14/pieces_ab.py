"""Work in pieces on and off, alternating in one process (2 threads, every default):
the Winograd chunks and the matmul kernel (dualnum._jit.parallel_pieces) against
one parallel region per kernel and 2-thread BLAS per GEMM.

    python bench/issue14/pieces_ab.py mlp|cnn [rounds]
"""
import os
import sys
import time

import numpy as np

from _setup import dualnum_step, ts
from dualnum.core.rules import by_name
from dualnum.kernels import conv

name = sys.argv[1] if len(sys.argv) > 1 else "mlp"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
step = dualnum_step(name)[0]
rule = by_name("matmul")
on = (conv.parallel_pieces, rule.fused)
off = (lambda fn, items: [fn(i) for i in items], None)
ts.set_threads(2, with_torch=False)
number = 20 if name == "mlp" else 3
res = {"pieces": [], "no pieces": []}
for _ in range(rounds):
    for key, (pieces, fused) in (("pieces", on), ("no pieces", off)):
        conv.parallel_pieces, rule.fused = pieces, fused
        step()
        t0 = time.perf_counter()
        for _ in range(number):
            step()
        res[key].append((time.perf_counter() - t0) / number * 1e3)
print(name, {k: round(float(np.median(v)), 2) for k, v in res.items()}, "ms; load",
      round(os.getloadavg()[0], 2))
