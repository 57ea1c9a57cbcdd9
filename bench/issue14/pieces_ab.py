"""Work in pieces on and off, alternating in one process (2 threads, every default):
the Winograd chunks and the matmul kernel (dualnum._jit.parallel_pieces) against
one parallel region per kernel and 2-thread BLAS per GEMM.

    python bench/issue14/pieces_ab.py mlp|cnn [rounds]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np  # noqa: E402

import train_step as ts  # noqa: E402
import dualnum as dn  # noqa: E402
from dualnum.core.rules import by_name  # noqa: E402
from dualnum.kernels import conv  # noqa: E402

name = sys.argv[1] if len(sys.argv) > 1 else "mlp"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
spec, in_shape, _ = ts.arch(name, False)
x, y, _ = ts.load_batch(64, "auto", 0)
x = x.reshape((64,) + in_shape)
model = ts.build_dualnum(spec, 0)
params = dict(model.named_parameters())
loss = ts.dualnum_loss(model, x, y)
opt = dn.optim.SGD(params, lr=1e-5)
rng = np.random.default_rng(0)


def step():
    _, g = dn.forward_gradient(loss, params, rng=rng)
    opt.step(g)


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
