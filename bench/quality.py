"""Forward gradients against backprop on MNIST: held-out accuracy at equal steps and the
wall-clock time to reach 90 %, 95 % and 97 %, for every forward-gradient estimator.

    python bench/quality.py                   # every run; writes bench/QUALITY.md and
                                              # bench/figures/quality_{mlp,cnn}.png, .json
    python bench/quality.py --only mlp        # the MLP's runs (--only cnn: the CNN's)
    python bench/quality.py --report          # rewrite QUALITY.md from quality.json
    python bench/quality.py --quick --out DIR # 60 steps per run, a few runs (a smoke test)

Setup: MNIST as shipped in ``--data-dir`` (default ``../shared/data/mnist``), dualnum's
fixed split (8,000 training images, 2,000 held out), batch 64, ``--steps`` steps (3,000),
the models of ``dualnum train`` (``dualnum.models``: MLP 784-64-10, the small CNN), the
same seeded batches and the same initial weights for every run of a model (PyTorch's
networks are given dualnum's initial weights). Held-out accuracy is measured every
``--eval-every`` steps; times count training steps only (data, gradient, update), never
the evaluations.

Backprop: PyTorch (``loss.backward()``, ``torch.optim``), when it is installed (``pip
install torch==2.13.0``); without it the report says so and lists dualnum's runs alone.
Forward gradients: ``dn.fgrad.Estimator`` (forward mode only: no reverse pass, no tape)
and ``dn.optim``. Every run is a worker process of its own, started with ``--threads``
(default 1) threads for BLAS, numba and PyTorch alike: on this shared 2-core machine
OpenBLAS's threads waiting for each other made small GEMMs 30x slower under load.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"
TARGETS = (0.90, 0.95, 0.97)

BAYDIN = "Baydin et al. 2022"
REN = "Ren et al. 2023"
FLUGEL = "Flügel et al. 2025"


def fg(perturbation, k, combination="mean", distribution="normal", local_losses=True):
    return {"perturbation": perturbation, "directions": k, "distribution": distribution,
            "combination": combination, "local_losses": local_losses}


# Every run: name, the estimator (None: backprop), optimizer, learning rate, decay k of
# lr·exp(-k·step), local heads. The learning rates of the forward-gradient runs are the
# best of short runs at 3e-4, 1e-3 and 3e-3 (Adam) on this setup.
RUNS = {
    "mlp": [
        dict(name="backprop, Adam 3e-3", system="torch", optimizer="adam", lr=3e-3,
             seeds=True),
        dict(name="backprop, Adam 1e-3", system="torch", optimizer="adam", lr=1e-3),
        dict(name="backprop, SGD 0.1", system="torch", optimizer="sgd", lr=0.1),
        dict(name="weight, outer, mean, K=64, SGD 0.005 (before this issue)",
             estimator=fg("weight", 64, distribution="outer"), optimizer="sgd", lr=0.005,
             paper=BAYDIN),
        dict(name="weight, normal, mean, K=64", estimator=fg("weight", 64),
             optimizer="adam", lr=1e-3, paper=BAYDIN),
        dict(name="weight, rademacher, mean, K=64",
             estimator=fg("weight", 64, distribution="rademacher"), optimizer="adam",
             lr=1e-3, paper=BAYDIN),
        dict(name="weight, normal, projection, K=64",
             estimator=fg("weight", 64, "projection"), optimizer="adam", lr=1e-3,
             paper=f"{BAYDIN}; {FLUGEL}"),
        dict(name="weight, normal, mean, K=64, local losses", estimator=fg("weight", 64),
             optimizer="adam", lr=1e-3, heads=True, paper=f"{BAYDIN}; {REN}"),
        dict(name="activity, mean, K=16", estimator=fg("activity", 16), optimizer="adam",
             lr=1e-3, paper=REN),
        dict(name="activity, projection, K=16", estimator=fg("activity", 16, "projection"),
             optimizer="adam", lr=3e-3, paper=f"{REN}; {FLUGEL}"),
        dict(name="activity, projection, K=32", estimator=fg("activity", 32, "projection"),
             optimizer="adam", lr=3e-3, paper=f"{REN}; {FLUGEL}"),
        dict(name="activity, projection, K=64 (exact: K = width 64)",
             estimator=fg("activity", 64, "projection"), optimizer="adam", lr=3e-3,
             paper=f"{REN}; {FLUGEL}", default=True, seeds=True),
        dict(name="activity, projection, K=64, local losses",
             estimator=fg("activity", 64, "projection"), optimizer="adam", lr=3e-3,
             heads=True, paper=f"{REN}; {FLUGEL}"),
    ],
    "cnn": [
        dict(name="backprop, Adam 3e-3", system="torch", optimizer="adam", lr=3e-3,
             seeds=True),
        dict(name="backprop, Adam 1e-3", system="torch", optimizer="adam", lr=1e-3),
        dict(name="backprop, SGD 0.1", system="torch", optimizer="sgd", lr=0.1),
        dict(name="backprop, Adam 3e-3, decay 1e-3", system="torch", optimizer="adam",
             lr=3e-3, lr_decay=1e-3),
        dict(name="weight, normal, mean, K=16", estimator=fg("weight", 16),
             optimizer="adam", lr=1e-3, paper=BAYDIN),
        dict(name="weight, normal, mean, K=16, local losses", estimator=fg("weight", 16),
             optimizer="adam", lr=1e-3, heads=True, paper=f"{BAYDIN}; {REN}"),
        dict(name="activity, mean, K=16", estimator=fg("activity", 16), optimizer="adam",
             lr=1e-3, paper=REN),
        dict(name="activity, projection, K=64, local losses",
             estimator=fg("activity", 64, "projection"), optimizer="adam", lr=3e-3,
             heads=True, paper=f"{REN}; {FLUGEL}", default=True, seeds=True),
        dict(name="activity, projection, K=64, local losses, decay 1e-3",
             estimator=fg("activity", 64, "projection"), optimizer="adam", lr=3e-3,
             lr_decay=1e-3, heads=True, paper=f"{REN}; {FLUGEL}"),
    ],
    # The embedded 8x8 digits (1,437 / 360): the default that `dualnum train` runs with no
    # flag at all, which must stay at 96 % or more within 5 s of training.
    "digits": [
        dict(name="backprop, Adam 3e-3", system="torch", optimizer="adam", lr=3e-3),
        dict(name="weight, rademacher, mean, K=16, SGD 0.02 (before this issue)",
             estimator=fg("weight", 16, distribution="rademacher"), optimizer="sgd",
             lr=0.02, paper=BAYDIN),
        dict(name="activity, projection, K=64 (exact: K = width 64)",
             estimator=fg("activity", 64, "projection"), optimizer="adam", lr=1e-3,
             paper=f"{REN}; {FLUGEL}", default=True),
        dict(name="activity, projection, K=64 (exact), Adam 3e-3",
             estimator=fg("activity", 64, "projection"), optimizer="adam", lr=3e-3,
             paper=f"{REN}; {FLUGEL}"),
    ],
}
QUICK = {"mlp": [0, 4, 8, 11, 12], "cnn": [0, 4, 7], "digits": [1, 2]}


# ====================================================================== worker
def _set_threads(n):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


def _torch_twin(model, torch):
    """The PyTorch network of a dualnum Sequential (Linear, Conv2d, ReLU, MaxPool2d,
    Flatten), with the same weights."""
    import dualnum as dn

    layers = []
    for m in model:
        if isinstance(m, dn.nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features)
        elif isinstance(m, dn.nn.Conv2d):
            t = torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride,
                                m.padding)
        elif isinstance(m, dn.nn.ReLU):
            t = torch.nn.ReLU()
        elif isinstance(m, dn.nn.MaxPool2d):
            t = torch.nn.MaxPool2d(m.kernel_size, m.stride)
        elif isinstance(m, dn.nn.Flatten):
            t = torch.nn.Flatten()
        else:
            raise TypeError(f"no PyTorch twin for {type(m).__name__}")
        if hasattr(m, "weight"):
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(m.weight))
                t.bias.copy_(torch.from_numpy(m.bias))
        layers.append(t)
    return torch.nn.Sequential(*layers)


def worker(spec):
    """One run (in its own process): the curve and the times, as a dict."""
    _set_threads(spec["threads"])
    import numpy as np

    import dualnum as dn
    from dualnum.models import build_model

    if spec.get("data") == "digits":
        ds = dn.data.digits()
    else:
        ds = dn.data.mnist(data_dir=spec["data_dir"], download=False)
    init_rng, dir_rng = (np.random.default_rng(s)
                         for s in np.random.SeedSequence(spec["seed"]).spawn(2))
    torch_run = spec.get("system") == "torch"
    model = build_model(spec.get("net", spec["model"]), ds.input_shape, ds.n_classes,
                        rng=init_rng,
                        local_heads=bool(spec.get("heads")) and not torch_run)
    it = ds.batches(64, seed=spec["seed"]).stream(0)
    decay = spec.get("lr_decay") or 0.0
    x_test, y_test = ds.x_test, ds.y_test
    if torch_run:
        import torch

        torch.set_num_threads(spec["threads"])
        net = _torch_twin(model, torch)
        cls = torch.optim.Adam if spec["optimizer"] == "adam" else torch.optim.SGD
        opt = cls(net.parameters(), lr=spec["lr"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: math.exp(-decay * i))
        xt, yt = torch.from_numpy(x_test), torch.from_numpy(y_test)

        def step(x, y):
            x, y = torch.from_numpy(x), torch.from_numpy(y)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return float(loss)

        def held_out():
            with torch.no_grad():
                out = net(xt)
                return (float((out.argmax(1) == yt).float().mean()),
                        float(torch.nn.functional.cross_entropy(out, yt)))
    else:
        params = dict(model.named_parameters())
        names, leaves = list(params), list(params.values())
        lr = dn.optim.ExponentialDecay(spec["lr"], k=decay) if decay else spec["lr"]
        opt = (dn.optim.Adam(params, lr=lr) if spec["optimizer"] == "adam"
               else dn.optim.SGD(params, lr=lr))
        est = dn.fgrad.Estimator.from_recipe(spec["estimator"])

        def apply(ls, x):
            return dn.nn.functional_call(model, dict(zip(names, ls)), x)

        def step(x, y):
            loss, g = est.estimate(apply, leaves, x, y, dn.cross_entropy, dir_rng)
            opt.step(dict(zip(names, g)))
            return float(loss)

        def held_out():
            model.eval()
            out = np.concatenate([model(x_test[i:i + 500]) for i in range(0, len(x_test), 500)])
            model.train()
            if not np.all(np.isfinite(out)):
                return math.nan, math.nan
            return (float(np.mean(np.argmax(out, 1) == y_test)),
                    float(dn.cross_entropy(out, y_test)))

    curve, seconds, diverged = [], 0.0, False
    for i in range(1, spec["steps"] + 1):
        x, y = next(it)
        t0 = time.perf_counter()
        loss = step(x, y)
        seconds += time.perf_counter() - t0
        if not math.isfinite(loss):
            diverged = True
            curve.append([i, seconds, math.nan, math.nan])
            break
        if i % spec["eval_every"] == 0 or i == spec["steps"]:
            acc, test_loss = held_out()
            curve.append([i, seconds, acc, test_loss])
            if not math.isfinite(test_loss):
                diverged = True
                break
    accs = [c[2] for c in curve if math.isfinite(c[2])]
    out = {"spec": spec, "curve": curve, "seconds": seconds, "steps_done": curve[-1][0],
           "ms_per_step": 1000 * seconds / curve[-1][0], "diverged": diverged,
           "final_accuracy": curve[-1][2], "best_accuracy": max(accs) if accs else math.nan}
    for t in TARGETS:
        hit = next((c for c in curve if math.isfinite(c[2]) and c[2] >= t), None)
        out[f"time_to_{round(100 * t)}"] = None if hit is None else hit[1]
        out[f"step_to_{round(100 * t)}"] = None if hit is None else hit[0]
    return out


# ====================================================================== driver
def _have_torch():
    try:
        import importlib.util

        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def _loadavg():
    try:
        return os.getloadavg()
    except OSError:
        return (math.nan,) * 3


def run_all(args):
    results = {}
    for model in args.only:
        runs = RUNS[model]
        if args.quick:
            runs = [runs[i] for i in QUICK[model]]
        jobs = [(run, args.seed) for run in runs]
        jobs += [(run, seed) for seed in args.more_seeds for run in runs if run.get("seeds")]
        results[model] = []
        for run, seed in jobs:
            extra = dict(data="digits", net="mlp") if model == "digits" else {}
            spec = dict(run, model=model, steps=args.steps, seed=seed, **extra,
                        eval_every=args.eval_every, threads=args.threads,
                        data_dir=str(args.data_dir))
            if spec.get("system") == "torch" and not _have_torch():
                print(f"{model}: {run['name']}: skipped (PyTorch is not installed)",
                      flush=True)
                continue
            before = _loadavg()
            proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)],
                                  capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"{model}: {run['name']} failed:\n{proc.stderr}")
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            res["load_before"], res["load_after"] = before, _loadavg()
            results[model].append(res)
            print(f"{model}: {run['name']} (seed {seed}): {_pct(res['final_accuracy'])} in "
                  f"{res['seconds']:.1f} s ({res['ms_per_step']:.2f} ms/step), "
                  f"load {before[0]:.1f}", flush=True)
    return results


def _pct(x):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f} %"


def _secs(x):
    return "not reached" if x is None else f"{x:.1f} s"


def _machine():
    sys.path.insert(0, str(HERE))
    from _common import cpu_model

    import numpy as np

    import dualnum as dn
    lines = [f"- machine: {cpu_model()}, {os.cpu_count()} cores (shared with other "
             f"sessions); Python {platform.python_version()}, NumPy {np.__version__}, "
             f"dualnum {dn.__version__}"]
    if _have_torch():
        import torch

        lines[0] += f", PyTorch {torch.__version__}"
    return lines


def write_figures(results, out, seed):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made = []
    for model, runs in results.items():
        fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
        colors = iter(plt.get_cmap("tab20").colors)
        for res in runs:
            if res["spec"]["seed"] != seed:
                continue
            c = [p for p in res["curve"] if math.isfinite(p[2])]
            if not c:
                continue
            spec = res["spec"]
            style = dict(lw=2.4 if spec.get("default") else 1.2,
                         ls="--" if spec.get("system") == "torch" else "-",
                         color="black" if spec.get("default") else next(colors))
            label = ("PyTorch " if spec.get("system") == "torch" else "dualnum ") + spec["name"]
            axes[0].plot([p[0] for p in c], [100 * p[2] for p in c], label=label, **style)
            axes[1].plot([p[1] for p in c], [100 * p[2] for p in c], **style)
        axes[0].set_xlabel("step")
        axes[1].set_xlabel("training seconds (log)")
        axes[1].set_xscale("log")
        axes[0].set_ylabel("held-out accuracy (%)")
        lo = 85
        for ax in axes:
            ax.set_ylim(lo, 100)
            ax.grid(alpha=0.3)
            for t in TARGETS:
                ax.axhline(100 * t, color="grey", lw=0.6, ls=":")
        axes[0].legend(fontsize=7, loc="lower right")
        data = ("digits (1,437 / 360), MLP" if model == "digits"
                else f"MNIST (8,000 / 2,000), {model.upper()}")
        fig.suptitle(f"{data}, batch 64: forward gradients (solid) and backprop (dashed)")
        fig.tight_layout()
        path = out / f"quality_{model}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    return made


def report(results, meta):
    lines = ["# Forward gradients against backprop: quality and time (`bench/quality.py`)", "",
             "Commands (each wrote the sections named):", ""]
    by_command = {}
    for model in results:
        run = meta["runs"][model]
        by_command.setdefault((run["command"], run["date"]), []).append(model)
    lines += [f"- `{cmd}`, {date}: {', '.join(models)}"
              for (cmd, date), models in by_command.items()] + [""]
    lines += meta["machine"]
    lines += [f"- {meta['threads']} thread(s) for BLAS, numba and PyTorch in every run, each "
              f"run a process of its own; the 1-minute load average before each run is in "
              f"the table (2 cores: above 2, other sessions took CPU meanwhile).",
              "- MNIST as shipped in `../shared/data/mnist`: dualnum's fixed split of the "
              "10,000 t10k images, 8,000 to train on and 2,000 held out (the digits: "
              "dualnum's embedded 8×8 set, 1,437 and 360); batch 64, "
              f"{meta['steps']:,} steps, seed {meta['seed']}: the same batches and the same "
              "initial weights for every run of a model (PyTorch's networks start from "
              "dualnum's weights).",
              f"- held-out accuracy every {meta['eval_every']} steps; times count training "
              "steps only (batch, gradient, update), not the evaluations. Time to a target: "
              "the training time at the first evaluation at or above it.", ""]
    names = {"digits": "Digits (8×8, 1,437 / 360, the embedded set), MLP 64-64-10: the "
                       "default run of `dualnum train`",
             "mlp": "MLP 784-64-10 (`dualnum.models`, `--model mlp`)",
             "cnn": "CNN (`dualnum.models`, `--model cnn`: conv 3×3 ×8, pool, conv 3×3 ×16, "
                    "pool, linear)"}
    for model, all_runs in results.items():
        runs = [r for r in all_runs if r["spec"]["seed"] == meta["seed"]]
        lines += [f"## {names[model]}", "",
                  "| method | paper | optimizer | held-out at the end | best | time to 90 % | "
                  "to 95 % | to 97 % | training time | ms / step | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for res in runs:
            s = res["spec"]
            who = "PyTorch " if s.get("system") == "torch" else "**dualnum** " \
                if s.get("default") else "dualnum "
            opt = f"{'Adam' if s['optimizer'] == 'adam' else 'SGD'} {s['lr']:g}"
            if s.get("lr_decay"):
                opt += f", exp. decay {s['lr_decay']:g}"
            end = _pct(res["final_accuracy"])
            if res["diverged"]:
                end = f"diverged at step {res['steps_done']:,}"
            lines.append(
                f"| {who}{s['name']} | {s.get('paper', 'backprop')} | {opt} | {end} | "
                f"{_pct(res['best_accuracy'])} | {_secs(res['time_to_90'])} | "
                f"{_secs(res['time_to_95'])} | {_secs(res['time_to_97'])} | "
                f"{res['seconds']:.1f} s | {res['ms_per_step']:.2f} | "
                f"{res['load_before'][0]:.1f} |")
        lines += ["", f"![{model}](figures/quality_{model}.png)", ""]
        seeds = sorted({r["spec"]["seed"] for r in all_runs})
        if len(seeds) > 1:
            lines += [f"Seeds {', '.join(map(str, seeds))} (initial weights, batch order "
                      f"and directions all change with the seed), held-out accuracy at the "
                      f"end:", "", "| method | " + " | ".join(f"seed {s}" for s in seeds)
                      + " | mean |", "|---|" + "---|" * (len(seeds) + 1)]
            for name in dict.fromkeys(r["spec"]["name"] for r in all_runs):
                by_seed = {r["spec"]["seed"]: r for r in all_runs if r["spec"]["name"] == name}
                if len(by_seed) < len(seeds):
                    continue
                accs = [by_seed[s]["final_accuracy"] for s in seeds]
                who = "PyTorch " if by_seed[seeds[0]]["spec"].get("system") == "torch" \
                    else "dualnum "
                lines.append(f"| {who}{name} | " + " | ".join(_pct(a) for a in accs)
                             + f" | {_pct(sum(accs) / len(accs))} |")
            lines.append("")
    lines += meta.get("notes", [])
    return "\n".join(lines) + "\n"


NOTES = """## How to read it

- **Estimators** (`dn.fgrad`, one `dn.fgrad.Estimator` per row): *weight* perturbation
  draws K directions over all parameters (Baydin et al. 2022); *activity* perturbation
  draws K directions per example over every Linear/Conv2d pre-activation and turns them
  into weight gradients by each layer's local product (Ren et al. 2023); *mean* averages
  (∇f·v)v, *projection* projects ∇f onto the span of the K tangents (Flügel et al. 2025);
  *local losses* train each block by its own head (`dn.nn.LocalHead`), with no gradient
  across blocks (Ren et al. 2023). Everything is forward mode: no reverse pass, no tape.
- **When the forward gradient is the gradient.** With activity perturbation and
  projection, a layer whose per-example width is at most K gets its standard basis as
  directions, and its activity gradient is then exact: the MLP's default (K = 64 = the
  hidden width; the output layer's 10) trains on the exact gradient, computed by 74
  tangents that each travel only through the layers above their layer. It is not a
  stochastic estimate any more, and it is why it matches backprop step for step (same
  weights, same batches: the curves coincide; the small differences at the end are
  float32 rounding that the 3,000 steps amplify).
- **The CNN.** Its activations are too wide for that (6,272 and 3,136 per image), so its
  default gives each block a local head (`build_model(..., local_heads=True)`): a Linear
  layer on the block's output average-pooled to a 7×7 grid. Each block's loss then sees
  its last convolution window by window (2×2 max-pooling windows), and K = C·2·2
  directions per window (32, 64) make each block's local gradient exact; the head's own
  Linear layer gives the gradient at its input exactly (its 10 basis slots, times its
  weight). The network is then trained greedily, block by block, with exact local
  gradients: a different objective from backprop's, which on this CNN lands level with
  backprop over three seeds (the seeds table). The stochastic global estimator
  (activity, mean, K = 16, no heads) comes a point short and costs twice the time per
  step.
- **Time.** Every forward-gradient step here pushes K tangents through the layers above
  each perturbed layer, where backprop pushes one adjoint: on the MLP the default costs
  about 1.7 backprop steps and reaches each accuracy after about the same number of
  steps, so it reaches 95 % in 1.2 to 1.7 times backprop's time: backprop keeps the
  edge in time at this size. The CNN's exact windows cost 8 to 10 backprop steps (32 and
  64 dense tangent copies of each block's activations, each touching one channel).
- **The defaults** (bold rows) for `dualnum train` (`dn.fgrad.Estimator` settings, then
  the optimizer):

  | data, model | perturbation | K | combination | local losses | optimizer |
  |---|---|---|---|---|---|
  | mnist, mlp | activity | 64 | projection | no | Adam 3e-3, constant |
  | mnist, cnn | activity | 64 | projection | yes (`local_heads=True`) | Adam 3e-3, constant |
  | digits, mlp | activity | 64 | projection | no | Adam 1e-3, constant |

  For any MLP or logistic regression, K = max(hidden width, classes) with the projection
  is the exact gradient; for the CNN, K = 64 covers its windows (4 × 16 channels).
- The weight-perturbation rows are the paper's estimator: their variance grows with the
  parameter count (50,890 for the MLP), and K = 64 directions leave them several points
  behind at this budget; projection does not change that (K ≪ n). Stochastic activity
  perturbation (K = 16, 32) is in between.
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=("mlp", "cnn", "digits"), action="append")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--more-seeds", type=int, nargs="*", default=[1, 2],
                    help="seeds on which the runs marked for it (backprop Adam 3e-3 and the "
                         "defaults) run again (default: 1 2)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, help="directory for the report, figures and JSON "
                    "(default: bench/, figures in bench/figures/)")
    ap.add_argument("--quick", action="store_true", help="60 steps, a few runs")
    ap.add_argument("--report", action="store_true",
                    help="rewrite the report from the saved JSON, run nothing")
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.quick:
        args.steps, args.eval_every, args.more_seeds = 60, 20, []
        if args.out is None:
            raise SystemExit("--quick writes nowhere by default: give --out DIR")
    args.only = args.only or ["mlp", "cnn", "digits"]
    out = args.out or HERE
    figures = out if args.out else HERE / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    saved = figures / "quality.json"
    if args.report:
        data = json.loads(saved.read_text())
        results, meta = data["results"], data["meta"]
    else:
        command = "python bench/quality.py " + " ".join(
            a for a in (argv if argv is not None else sys.argv[1:]))
        date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        meta = {"runs": {m: {"command": command.strip(), "date": date} for m in args.only},
                "machine": _machine(), "threads": args.threads, "steps": args.steps,
                "seed": args.seed, "eval_every": args.eval_every,
                "more_seeds": args.more_seeds}
        results = run_all(args)
        if saved.exists() and not args.quick:  # keep the other models' runs
            old = json.loads(saved.read_text())
            kept = {k: v for k, v in old["results"].items() if k not in results}
            results = {k: {**kept, **results}[k] for k in ("mlp", "cnn", "digits")
                       if k in kept or k in results}
            meta["runs"] = {**{k: v for k, v in old["meta"]["runs"].items() if k in kept},
                            **meta["runs"]}
        from dualnum._files import atomic_write

        text = json.dumps({"meta": meta, "results": results}, indent=1)
        atomic_write(saved, lambda f: f.write(text), mode="w")
    meta["notes"] = NOTES.splitlines()
    write_figures(results, figures, meta["seed"])
    from dualnum._files import atomic_write

    text = report(results, meta)
    atomic_write(out / "QUALITY.md", lambda f: f.write(text), mode="w")
    print(f"wrote {out / 'QUALITY.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
