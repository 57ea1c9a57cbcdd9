"""CNN FG step (default estimator) and torch's BP step, wall time at 1 and 2 threads in
one process each, alternating: how the step scales with threads on this machine now.

    python bench/issue14/threads_cnn.py dn|torch [rounds]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np  # noqa: E402

import train_step as ts  # noqa: E402

which = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
spec, in_shape, _ = ts.arch("cnn", False)
x, y, _ = ts.load_batch(64, "auto", 0)
x = x.reshape((64,) + in_shape)
if which == "dn":
    from _setup import dualnum_step

    step = dualnum_step("cnn")[0]
else:
    import torch
    import torch.nn.functional as tF

    model = ts.build_torch(spec)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)

    def step():
        opt.zero_grad()
        tF.cross_entropy(model(tx), ty).backward()
        opt.step()
res = {1: [], 2: []}
for _ in range(rounds):
    for n in (1, 2):
        ts.set_threads(n, with_torch=which != "dn")
        step()
        t0 = time.perf_counter()
        for _ in range(3):
            step()
        res[n].append((time.perf_counter() - t0) / 3 * 1e3)
print(which, " ".join(f"{n} thread(s): {np.median(v):.1f} ms" for n, v in res.items()),
      f"load {os.getloadavg()[0]:.2f}")
