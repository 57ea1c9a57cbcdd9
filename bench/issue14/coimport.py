import sys, os, time
if sys.argv[1] == "torch-first":
    import torch
import numpy as np
import dualnum as dn
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), ".."))
import train_step as ts
spec, in_shape, desc = ts.arch("mlp", False)
x, y, _ = ts.load_batch(64, "auto", 0)
model = ts.build_dualnum(spec, 0); params = dict(model.named_parameters())
loss = ts.dualnum_loss(model, x, y); opt = dn.optim.SGD(params, lr=1e-5); rng = np.random.default_rng(0)
def step():
    _, g = dn.forward_gradient(loss, params, rng=rng, distribution="normal", dense=False); opt.step(g)
for _ in range(5): step()
tt = []
for _ in range(40):
    t0 = time.perf_counter(); step(); tt.append(time.perf_counter() - t0)
import dualnum._threads as t
print(sys.argv[1], os.environ.get("NUMBA_THREADING_LAYER", "-"), "%.2f ms" % (1e3 * np.median(tt)), t.report()["numba layer in use"], "load %.1f" % os.getloadavg()[0])
