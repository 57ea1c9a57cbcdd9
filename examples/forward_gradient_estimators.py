"""Every forward-gradient estimator against the exact gradient, on the MLP of
``dualnum train`` (784-64-10, one MNIST batch of 64, the initial weights).

For K = 1 ... 64 directions it draws estimates with ``dn.forward_gradient`` and measures
their cosine similarity to the exact gradient (``dn.grad``, forward mode) and their
relative error E‖ĝ − ∇f‖² / ‖∇f‖² (``dn.diagnostics.estimator_stats``):

* weight perturbation (Baydin et al. 2022), normal, ±1 and rank-one ("outer")
  directions, mean of (∇f·v)v, and normal directions with the projection of Flügel et al.
  (2025): n = 50,890 parameters, so the cosine stays near sqrt(K/n);
* activity perturbation (Ren et al. 2023), mean and projection: the widths are 64 and 10
  per example, so the projection becomes exact at K = 64.

    python examples/forward_gradient_estimators.py --plot docs/figures/estimators_mlp.png
    python examples/forward_gradient_estimators.py --quick     # digits, seconds (CI)

Data: MNIST from ``--data-dir`` (default ``../shared/data/mnist``); ``--quick`` uses the
embedded digits (8x8, so the MLP is 64-64-10) and fewer samples.
"""
import argparse
from pathlib import Path

import numpy as np

import dualnum as dn
from dualnum.fgrad.losses import cross_entropy_per_example
from dualnum.models import build_model

ESTIMATORS = {
    "weight, normal, mean": {"perturbation": "weight", "distribution": "normal"},
    "weight, rademacher, mean": {"perturbation": "weight", "distribution": "rademacher"},
    "weight, outer, mean": {"perturbation": "weight", "distribution": "outer"},
    "weight, normal, projection": {"perturbation": "weight", "combination": "projection"},
    "activity, mean": {"perturbation": "activity"},
    "activity, projection": {"perturbation": "activity", "combination": "projection"},
}
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mnist"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits, few samples (for CI)")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--samples", type=int, help="estimates per point (default 30; 5 quick)")
    ap.add_argument("--plot", metavar="FILE", help="save the figure (matplotlib)")
    args = ap.parse_args(argv)
    ds = dn.data.digits() if args.quick else dn.data.mnist(args.data_dir, download=False)
    samples = args.samples or (5 if args.quick else 30)
    ks = (1, 2, 4, 8, 16, 32, 64)
    model = build_model("mlp", ds.input_shape, ds.n_classes, rng=0)
    params = dict(model.named_parameters())
    x, y = ds.x_train[:64], ds.y_train[:64]

    def f(p):  # per-example losses: every estimator takes them (the objective is the mean)
        return cross_entropy_per_example(dn.nn.functional_call(model, p, x), y)

    stats = dn.diagnostics.estimator_stats(f, params, rng=np.random.default_rng(0),
                                           estimators=ESTIMATORS, n_directions=ks,
                                           samples=samples, chunk_size=512)
    print(f"{ds.name}: MLP {ds.input_shape} -> 64 -> {ds.n_classes}, one batch of 64, "
          f"initial weights\n")
    print(dn.diagnostics.format_estimator_table(stats))
    exact = [r for r in stats["rows"]
             if r["estimator"] == "activity, projection" and r["n_directions"] == 64]
    print(f"\nactivity, projection at K = 64 (= the hidden width): cosine "
          f"{exact[0]['cosine_mean']:.6f}, the exact gradient")
    assert exact[0]["cosine_mean"] > 0.9999
    if args.plot:
        plot(stats, ks, ds, args.plot)
        print(f"saved {args.plot}")


def plot(stats, ks, ds, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = list(dict.fromkeys(r["estimator"] for r in stats["rows"]))
    for name in names:
        rows = [r for r in stats["rows"] if r["estimator"] == name]
        style = "-o" if name.startswith("activity") else "--s"
        a.errorbar(ks, [r["cosine_mean"] for r in rows], [r["cosine_se"] for r in rows],
                   fmt=style, ms=4, capsize=2, label=name)
        b.plot(ks, [max(r["relative_mse"], 1e-12) for r in rows], style, ms=4, label=name)
    n = stats["n_params"]
    a.plot(ks, [dn.diagnostics.theoretical_cosine(n, k) for k in ks], ":", color="grey",
           label="theory, weight, normal, mean")
    for ax in (a, b):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("K, directions per estimate")
        ax.grid(alpha=0.3)
    a.set_ylabel("cosine similarity to the exact gradient")
    b.set_ylabel("E‖ĝ − ∇f‖² / ‖∇f‖²")
    b.set_yscale("log")
    a.legend(fontsize=7)
    fig.suptitle(f"Forward-gradient estimators on the MLP ({n:,} parameters), {ds.name}, "
                 f"one batch of 64, {stats['samples']} estimates per point")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
