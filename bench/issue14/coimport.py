"""One model's forward-gradient step (every default: dn.forward_gradient(loss, params,
rng=rng) + SGD.step), 2 threads, with torch imported first in the same process or not:

    python bench/issue14/coimport.py torch-first|numpy-first [mlp|cnn]
"""
import sys, os, time
if sys.argv[1] == "torch-first":
    import torch
import numpy as np
import dualnum as dn
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), ".."))
import train_step as ts
name = sys.argv[2] if len(sys.argv) > 2 else "mlp"
spec, in_shape, desc = ts.arch(name, False)
x, y, _ = ts.load_batch(64, "auto", 0)
x = x.reshape((64,) + in_shape)
model = ts.build_dualnum(spec, 0); params = dict(model.named_parameters())
loss = ts.dualnum_loss(model, x, y); opt = dn.optim.SGD(params, lr=1e-5); rng = np.random.default_rng(0)
def step():
    _, g = dn.forward_gradient(loss, params, rng=rng); opt.step(g)  # every default
for _ in range(5): step()
tt = []
for _ in range(40 if name == "mlp" else 10):
    t0 = time.perf_counter(); step(); tt.append(time.perf_counter() - t0)
import dualnum._threads as t
print(sys.argv[1], name, os.environ.get("NUMBA_THREADING_LAYER", "-"), "%.2f ms" % (1e3 * np.median(tt)), t.report()["numba layer in use"], "load %.1f" % os.getloadavg()[0])
