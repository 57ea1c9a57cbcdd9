"""Which weight-perturbation distribution should be the default: quality per direction.

    python bench/issue14/distributions.py [--steps 3000] [--data-dir ../shared/data/mnist]

MLP 784-64-10 (dualnum.models) on MNIST t10k (dualnum's split: 8,000 train, 2,000
held out), batch 64, seed 0, the same batches and initial weights for every run, 1
thread. For "normal", "rademacher" and "outer":

* estimator statistics at the initial weights on one batch of 64
  (``dn.diagnostics.estimator_stats``, 200 estimates per K, against the exact gradient):
  cosine similarity and relative variance E‖ĝ − ∇f‖² / ‖∇f‖² for K = 1 and 64;
* training: ``dn.train.fit`` with K = 1 and K = 64 directions (``--runs``: Adam lr 1e-4
  for K = 1 and 1e-3 for K = 64 by default), held-out accuracy and loss at the end, and
  milliseconds per step (Adam densifies rank-one estimates; plain SGD applies them
  factored).

Prints a Markdown table.
"""
import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

import dualnum as dn  # noqa: E402
from dualnum.models import build_model  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=3000)
ap.add_argument("--data-dir", type=Path,
                default=Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist")
ap.add_argument("--dists", default="normal,rademacher,outer")
ap.add_argument("--seeds", type=int, nargs="*", default=[0],
                help="training seeds (batch order and directions; the weights stay seed 0)")
ap.add_argument("--no-stats", action="store_true")
ap.add_argument("--runs", nargs="*", default=["1:adam:1e-4", "64:adam:1e-3"],
                help="training runs as K:optimizer:lr (optimizer adam or sgd)")
args = ap.parse_args()
DISTS = args.dists.split(",")

data = dn.data.mnist(data_dir=args.data_dir, download=False)
xtr, ytr, xte, yte = data.x_train, data.y_train, data.x_test, data.y_test


def model_and_params():
    m = build_model("mlp", (1, 28, 28), 10, rng=0)
    return m, dict(m.named_parameters())


# ------------------------------------------------------------ estimator statistics
m, params = model_and_params()
xb, yb = xtr[:64], ytr[:64]


def loss(p):
    return dn.cross_entropy(dn.nn.functional_call(m, p, xb), yb)


stats = None if args.no_stats else dn.diagnostics.estimator_stats(
    loss, params, rng=np.random.default_rng(1), n_directions=(1, 64), samples=200,
    estimators={d: {"distribution": d} for d in DISTS})
print(f"n_params = {sum(p.size for p in params.values())}")
print("| distribution | K | cosine to ∇f | relative variance E‖ĝ−∇f‖²/‖∇f‖² |")
print("|---|---|---|---|")
for r in [] if stats is None else stats["rows"]:
    print(f"| {r['estimator']} | {r['n_directions']} | {r['cosine_mean']:.4f} ± "
          f"{r['cosine_se']:.4f} | {r['relative_variance']:.0f} |")

# ------------------------------------------------------------ training
print()
print(f"| distribution | K | optimizer | seed | held-out accuracy after {args.steps} steps | "
      f"held-out loss | ms / step | load |")
print("|---|---|---|---|---|---|---|---|")
for run in args.runs:
  k, name, lr = run.split(":")  # noqa: E111
  k, lr = int(k), float(lr)  # noqa: E111
  for seed in args.seeds:  # noqa: E111
    for d in DISTS:
        m, params = model_and_params()
        opt = (dn.optim.Adam if name == "adam" else dn.optim.SGD)(params, lr=lr)
        batches = dn.train.batches(xtr, ytr, 64, np.random.default_rng(seed))
        t0 = time.perf_counter()
        res = dn.train.fit(m, dn.cross_entropy, batches, steps=args.steps, optimizer=opt,
                           rng=np.random.default_rng(seed + 2), n_directions=k, distribution=d,
                           record=False)
        dt = time.perf_counter() - t0
        ev = dn.train.evaluate(m, dn.cross_entropy, (xte, yte))
        print(f"| {d} | {k} | {name} {lr:g} | {seed} | {100 * ev['accuracy']:.2f} % | {ev['loss']:.3f} | "
              f"{1e3 * dt / args.steps:.2f} | {os.getloadavg()[0]:.1f} |", flush=True)
