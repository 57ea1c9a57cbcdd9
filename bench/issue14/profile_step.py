"""cProfile of one model's forward-gradient step (1 thread): where the time goes.

    python bench/issue14/profile_step.py cnn outer [n_steps]
"""
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np  # noqa: E402

import train_step as ts  # noqa: E402

name, dist = sys.argv[1], sys.argv[2]
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
import dualnum as dn  # noqa: E402

spec, in_shape, _ = ts.arch(name, False)
x, y, _ = ts.load_batch(64, "auto", 0)
x = x.reshape((64,) + in_shape)
model = ts.build_dualnum(spec, 0)
params = dict(model.named_parameters())
loss = ts.dualnum_loss(model, x, y)
opt = dn.optim.SGD(params, lr=1e-5)
rng = np.random.default_rng(0)


def step():
    _, g = dn.forward_gradient(loss, params, rng=rng, distribution=dist)
    opt.step(g)


step()
step()
import time  # noqa: E402
pr = cProfile.Profile(time.perf_counter if os.environ.get("WALL") else time.process_time)
pr.enable()
for _ in range(steps):
    step()
pr.disable()
st = pstats.Stats(pr)
st.sort_stats("tottime").print_stats(25)
