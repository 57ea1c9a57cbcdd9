"""MNIST with forward gradients against backprop: the paper's Figures 3–5 and its tables.

Baydin et al., "Gradients without Backpropagation" (2022), train logistic regression, an
MLP and a CNN on MNIST with forward gradient descent (FGD: one forward-mode pass per step
gives the loss and d = ∇f·v for v ~ N(0, I); the step uses g = d·v) and with backprop,
from the same initial weights, on the same batches (64 images), with the same schedule
η_i = η_0·e^(−i·k), k = 1e-4. This script does the same on a CPU:

* FGD by dualnum: ``dn.forward_gradient`` and ``dn.optim.SGD`` with
  ``dn.optim.ExponentialDecay``;
* backprop by PyTorch (``loss.backward()``, ``torch.optim.SGD``) when PyTorch is
  installed (``pip install torch==2.13.0``, the CPU build); without it, logistic
  regression is compared with exact-gradient descent computed by forward mode
  (``dn.grad``), and the output says so;
* reports in the paper's form: T_b, the time backprop takes to reach its lowest loss;
  T_f, the time FGD takes to reach that same loss (losses smoothed by a moving average
  over ``--window`` steps, default 1/20 of the run, because one batch's loss is noisy);
  T_f/T_b; R_f = (time of an FGD step)/(time of a forward pass) and R_b = (time of a
  backprop step)/(time of a forward pass), each engine against its own forward pass,
  timed after training on one fixed batch; and held-out accuracy;
* draws loss against iterations and against time (``fig_mnist_<model>_lr<η0>.png``,
  with ``_<distribution>`` unless it is ``normal``) and writes every number to
  ``paper_mnist.json`` (``paper_mnist_<model>_<distribution>.json`` for other
  selections) in ``--out``.

Data: real MNIST from ``--data-dir`` (default ``../shared/data/mnist`` when it exists,
else $DUALNUM_DATA, the cache, or a checksummed download). A directory with only MNIST's
10,000 test images is split 8,000/2,000 with a fixed seed, and every output says so.

    python examples/paper_mnist.py                      # all five runs (below)
    python examples/paper_mnist.py --model mlp --distribution outer   # rank-one directions
    python examples/paper_mnist.py --model mlp --lr 2e-4 --steps 5000
    python examples/paper_mnist.py --quick              # seconds; CI runs this

Models: ``logreg`` (784→10), ``mlp`` (784→1024→1024→10, ReLU), ``cnn`` (four 3×3
convolutions of 64 channels, two 2×2 max-pools, 3136→1024→10; the network of
bench/train_step.py). Learning rates: the MLP's 2e-5 and 2e-4 are the paper's; for
logistic regression and the CNN we use 1e-4 and 2e-4, and the CNN runs a second time at
2e-3, because at 2e-4 neither method moves its loss much within the 1,000 steps a CPU
affords (override with ``--lr``).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import _paper  # first: it imports dualnum before NumPy (see _paper.py)

import numpy as np

import dualnum as dn

#: (model, η0) runs of the paper, in order.
PAPER_RUNS = (("logreg", 1e-4), ("mlp", 2e-5), ("mlp", 2e-4), ("cnn", 2e-4), ("cnn", 2e-3))
#: Steps of a full-size run per model (each of FGD and backprop).
FULL_STEPS = {"logreg": 50_000, "mlp": 10_000, "cnn": 1_000}
QUICK_STEPS = 40
#: The paper's numbers (Table 1 and the text) that this script's output is compared with.
PAPER = {("logreg", 1e-4): "T_f 197.3 s, T_b 356.8 s, T_f/T_b 0.553",
         ("mlp", 2e-5): "T_f/T_b 0.567, R_f 2.329, R_b 3.971",
         ("mlp", 2e-4): "T_f/T_b 0.229, R_f 2.607, R_b 4.359"}


def spec_for(model, ds, quick):
    shape = ds.input_shape
    n_in = math.prod(shape)
    if model == "logreg":
        return _paper.mlp_spec(n_in, 0, 0, ds.n_classes)
    if model == "mlp":
        return _paper.mlp_spec(n_in, 128 if quick else 1024, 2, ds.n_classes)
    return _paper.cnn_spec(shape, *((8, 64) if quick else (64, 1024)), n_out=ds.n_classes)


def describe(spec):
    names = {"linear": lambda s: f"Linear({s[1]},{s[2]})", "relu": lambda s: "ReLU",
             "conv": lambda s: f"Conv3x3({s[1]},{s[2]})", "pool": lambda s: "MaxPool2",
             "flatten": lambda s: "Flatten"}
    return " → ".join(names[s[0]](s) for s in spec)


# -------------------------------------------------------------------------- training
def descend(model, loader, steps, lr0, k, gradient):
    """SGD with the paper's schedule, ``gradient(f, params)`` returning (loss, g) for the
    batch loss f. Returns per-step losses, cumulative step times, and the step at which
    a non-finite loss stopped it (or None)."""
    params = dict(model.named_parameters())
    opt = dn.optim.SGD(params, lr=dn.optim.ExponentialDecay(lr0, k))
    losses, times = np.full(steps, np.nan), np.full(steps, np.nan)
    elapsed, stream = 0.0, loader.stream()
    for i in range(steps):
        x, y = next(stream)

        def f(p):
            return dn.cross_entropy(dn.nn.functional_call(model, p, x), y)
        t0 = time.perf_counter()
        value, g = gradient(f, params)
        if not math.isfinite(value):
            return losses[:i], times[:i], i
        opt.step(g)
        elapsed += time.perf_counter() - t0
        losses[i], times[i] = value, elapsed
    return losses, times, None


def train_fgd(model, loader, steps, lr0, k, rng, distribution):
    """Forward gradient descent: one forward-mode pass per step."""
    def forward_gradient(f, params):
        value, g = dn.forward_gradient(f, params, rng=rng, distribution=distribution,
                                       dense=False)
        return float(value), g
    return descend(model, loader, steps, lr0, k, forward_gradient)


def train_exact(model, loader, steps, lr0, k):
    """Gradient descent with exact gradients by forward mode (dn.grad: n/chunk passes).
    dn.grad returns the gradient alone, so the loss costs one more forward pass, which
    is counted (backprop gets it with its own forward pass)."""
    def exact(f, params):
        return float(f(params)), dn.grad(f, chunk_size=512)(params)
    return descend(model, loader, steps, lr0, k, exact)


# ------------------------------------------------------------------------ evaluation
def accuracy_dualnum(model, ds):
    return dn.train.evaluate(model, dn.cross_entropy, (ds.x_test, ds.y_test))


def cost_ratios(spec, ds, lr0, distribution, seed, exact, torch_side, blocks=5):
    """Median times of a forward pass and of one training step, on one fixed batch, with
    a fresh copy of the network (the trained one is left alone). PyTorch's were measured
    by its worker process; the ratios compare each engine with its own forward pass."""
    x, y = ds.x_train[:64], ds.y_train[:64]
    m = _paper.build(spec, seed)
    params = dict(m.named_parameters())
    opt = dn.optim.SGD(params, lr=lr0)
    rng = np.random.default_rng(seed)

    def f(p):
        return dn.cross_entropy(dn.nn.functional_call(m, p, x), y)

    def fg_step():
        _, g = dn.forward_gradient(f, params, rng=rng, distribution=distribution,
                                   dense=False)
        opt.step(g)

    ops = {"dualnum F": lambda: f(params), "dualnum FGD step": fg_step}
    if exact:
        ops["dualnum exact-gradient step"] = \
            lambda: opt.step(dn.grad(f, chunk_size=512)(params))
    # alternate blocks of each op, so that a noisy moment spreads over all of them
    samples = {name: [] for name in ops}
    for _ in range(blocks):
        for name, fn in ops.items():
            samples[name].append(_paper.median_seconds(fn, repeats=3))
    t = {name: float(np.median(v)) for name, v in samples.items()}
    out = {"times_s": t, "R_f": t["dualnum FGD step"] / t["dualnum F"]}
    if torch_side is not None:
        t["torch F"], t["torch backprop step"] = torch_side["F_s"], torch_side["step_s"]
        out["R_b"] = t["torch backprop step"] / t["torch F"]
        out["step_ratio"] = t["dualnum FGD step"] / t["torch backprop step"]
    elif exact:
        out["R_exact"] = t["dualnum exact-gradient step"] / t["dualnum F"]
    return out


def time_to_reach(losses, times, target, window):
    """(seconds, step) at which the smoothed loss first reaches ``target``, else None."""
    if len(losses) == 0:
        return None, None
    s = _paper.smoothed(losses, window)
    hit = np.nonzero(s <= target)[0]
    if len(hit) == 0:
        return None, None
    return float(times[hit[0]]), int(hit[0]) + 1


# ----------------------------------------------------------------------------- runs
def run(model_name, lr0, args, ds, plt):
    steps = args.steps or (QUICK_STEPS if args.quick else FULL_STEPS[model_name])
    window = args.window or max(5, steps // 20)
    spec = spec_for(model_name, ds, args.quick)
    model = _paper.build(spec, args.seed)
    n_params = int(sum(p.size for p in model.parameters()))
    use_torch = _paper.HAVE_TORCH and not args.no_torch
    baseline = "backprop (PyTorch)" if use_torch else (
        "exact-gradient descent by forward mode (dn.grad; PyTorch not installed)"
        if model_name == "logreg" else None)
    # PyTorch starts from the very same weights: a copy taken before training
    initial = {name: p.copy() for name, p in model.named_parameters()}
    print(f"\n## {model_name}, η0 = {lr0:g}, k = {args.k:g}, batch {args.batch_size}, "
          f"{steps} steps\n{describe(spec)}: {n_params:,} parameters\n"
          f"FGD directions: {args.distribution}; baseline: "
          f"{baseline or 'none (PyTorch not installed; exact forward-mode gradients of '}"
          + ("" if baseline else f"{n_params:,} parameters would take {n_params:,} JVPs a step)"),
          flush=True)

    # The same batches for both methods: one seeded, resumable loader, streamed twice.
    loader = ds.batches(args.batch_size, seed=args.seed)
    rng = np.random.default_rng([args.seed, 1])
    # Two untimed steps on a throwaway copy first: compiling kernels is not training time.
    train_fgd(_paper.build(spec, args.seed + 1), loader, 2, lr0, args.k,
              np.random.default_rng(0), args.distribution)
    t0 = time.perf_counter()
    fl, ft, f_div = train_fgd(model, loader, steps, lr0, args.k, rng, args.distribution)
    fgd_wall = time.perf_counter() - t0
    res = {"model": model_name, "lr0": lr0, "k": args.k, "steps": steps, "window": window,
           "batch_size": args.batch_size, "parameters": n_params, "layers": describe(spec),
           "distribution": args.distribution, "baseline": baseline,
           "fgd": {"seconds": float(ft[-1]) if len(ft) else 0.0, "wall_s": fgd_wall,
                   "diverged_at": f_div, "final_smoothed_loss":
                       float(_paper.smoothed(fl, window)[-1]) if len(fl) else None,
                   **({"heldout": accuracy_dualnum(model, ds)} if f_div is None else {})}}
    print(f"FGD: {len(fl)} steps in {res['fgd']['seconds']:.1f} s"
          + (f", then diverged: non-finite loss at step {f_div + 1}" if f_div is not None else ""),
          flush=True)

    bl = bt = None
    if baseline:
        t0 = time.perf_counter()
        torch_side = None
        if use_torch:
            torch_side = _paper.run_worker("torch", {
                "task": "train", "spec": spec, "data_dir": args.data_dir,
                "quick": args.quick, "batch_size": args.batch_size, "seed": args.seed,
                "steps": steps, "lr0": lr0, "k": args.k, "repeats": 3 if args.quick else 15},
                initial)
            bl, bt = np.array(torch_side["losses"]), np.array(torch_side["times"])
            b_div, held = torch_side.get("diverged_at"), torch_side["heldout"]
        else:
            exact_model = _paper.build(spec, args.seed)
            train_exact(_paper.build(spec, args.seed + 1), loader, 2, lr0, args.k)  # warm-up
            bl, bt, b_div = train_exact(exact_model, loader, steps, lr0, args.k)
            held = accuracy_dualnum(exact_model, ds)
        finite = np.isfinite(bl)
        if not finite.all():  # a diverged baseline: keep the steps before it
            bl, bt = bl[:np.argmin(finite)], bt[:np.argmin(finite)]
            b_div = len(bl) if b_div is None else b_div
        sb = _paper.smoothed(bl, window)
        best = int(np.argmin(sb))
        res["baseline_run"] = {"seconds": float(bt[-1]), "wall_s": time.perf_counter() - t0,
                               "diverged_at": b_div, "lowest_smoothed_loss": float(sb[best]),
                               "heldout": held}
        T_b = float(bt[best])
        T_f, f_step = time_to_reach(fl, ft, sb[best], window)
        res.update({"T_b": T_b, "T_b_step": best + 1, "T_f": T_f, "T_f_step": f_step,
                    "T_f/T_b": None if T_f is None else T_f / T_b})
        print(f"baseline: {len(bl)} steps in {bt[-1]:.1f} s; lowest smoothed loss "
              f"{sb[best]:.4f} at step {best + 1}", flush=True)
    else:
        torch_side = None
    res["costs"] = cost_ratios(spec, ds, lr0, args.distribution, args.seed,
                               exact=baseline is not None and not use_torch,
                               torch_side=torch_side, blocks=2 if args.quick else 5)
    res["paper"] = PAPER.get((model_name, lr0))
    print_result(res)
    if plt is not None:
        res["figure"] = str(plot(plt, res, fl, ft, bl, bt, args))
        print(f"figure: {res['figure']}")
    return res


def fmt(v, spec=".3f", none="not reached"):
    return none if v is None else format(v, spec)


def print_result(r):
    c = r["costs"]
    lines = [f"FGD step {c['times_s']['dualnum FGD step'] * 1e3:.2f} ms, forward "
             f"{c['times_s']['dualnum F'] * 1e3:.2f} ms: R_f = {c['R_f']:.2f}"]
    if "R_b" in c:
        lines.append(f"backprop step {c['times_s']['torch backprop step'] * 1e3:.2f} ms, "
                     f"forward {c['times_s']['torch F'] * 1e3:.2f} ms: R_b = {c['R_b']:.2f}; "
                     f"FGD step / backprop step = {c['step_ratio']:.2f}")
    if "R_exact" in c:
        lines.append(f"exact-gradient step {c['times_s']['dualnum exact-gradient step'] * 1e3:.2f}"
                     f" ms: {c['R_exact']:.1f} forward passes")
    if "T_b" in r:
        lines.append(f"T_b = {r['T_b']:.2f} s (step {r['T_b_step']}), T_f = "
                     f"{fmt(r['T_f'], '.2f')}" + ("" if r["T_f"] is None else
                                                  f" s (step {r['T_f_step']})")
                     + f", T_f/T_b = {fmt(r['T_f/T_b'])}")
    acc = r["fgd"].get("heldout")
    lines.append("held-out accuracy: FGD " + (f"{acc['accuracy']:.4f}" if acc else "diverged")
                 + (f", baseline {r['baseline_run']['heldout']['accuracy']:.4f}"
                    if "baseline_run" in r else ""))
    if r["paper"]:
        lines.append(f"paper (GPU, its own engine): {r['paper']}")
    print("\n".join(lines), flush=True)


def plot(plt, r, fl, ft, bl, bt, args):
    w = r["window"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    curves = [(f"FGD (dualnum, {r['distribution']} directions)", fl, ft, "C0")]
    if bl is not None:
        curves.append((r["baseline"], bl, bt, "C3"))
    # A diverging run's last losses would squash every other curve: the y axis stops at
    # twice the highest starting loss, and a line marks where the run stopped.
    top = 2 * max(float(c[1][0]) for c in curves if len(c[1]))
    diverged = r["fgd"]["diverged_at"]
    for ax, along_time in zip(axes, (False, True)):
        if diverged is not None and len(ft):
            ax.axvline(ft[-1] if along_time else diverged + 1, color="C0", ls="-.", lw=1,
                       label=f"FGD diverged (non-finite loss at step {diverged + 1})")
        for label, losses, times, color in curves:
            xs = times if along_time else np.arange(1, len(losses) + 1)
            ax.plot(xs, losses, color=color, alpha=0.25, lw=0.6)
            ax.plot(xs, _paper.smoothed(losses, w), color=color, lw=1.8,
                    label=f"{label}, moving mean of {w}")
        if "T_b" in r:
            ax.axhline(r["baseline_run"]["lowest_smoothed_loss"], color="k", ls=":", lw=1,
                       label="baseline's lowest loss")
            if along_time:
                ax.axvline(r["T_b"], color="C3", ls="--", lw=1, label=f"T_b {r['T_b']:.1f} s")
                if r["T_f"] is not None:
                    ax.axvline(r["T_f"], color="C0", ls="--", lw=1,
                               label=f"T_f {r['T_f']:.1f} s")
        ax.set_yscale("log")
        ax.set_ylim(top=top)
        ax.set_xlabel("time (s)" if along_time else "iteration")
        ax.set_ylabel("training loss (batch)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"MNIST {r['model']}: η0 = {r['lr0']:g}, k = {r['k']:g}, batch "
                 f"{r['batch_size']}, {r['steps']} steps; {args.data_label}", fontsize=10)
    fig.tight_layout()
    dist = "" if r["distribution"] == "normal" else "_" + r["distribution"]
    return _paper.save_figure(
        fig, Path(args.out) / f"fig_mnist_{r['model']}_lr{r['lr0']:g}{dist}.png")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=("logreg", "mlp", "cnn", "all"), default="all",
                    help="one model, or all five runs (default)")
    ap.add_argument("--lr", type=float, help="η0 (default: the paper's rates per model)")
    ap.add_argument("--k", type=float, default=1e-4, help="decay: η_i = η0·exp(−i·k)")
    ap.add_argument("--steps", type=int, help="steps per method (default: "
                    + ", ".join(f"{m} {n}" for m, n in FULL_STEPS.items())
                    + f"; {QUICK_STEPS} with --quick)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--distribution", default="normal",
                    help="FGD directions: normal (the paper's), rademacher, outer")
    ap.add_argument("--window", type=int, help="moving-average window for T_f, T_b")
    ap.add_argument("--data-dir", help="directory with MNIST's IDX files "
                    "(default: ../shared/data/mnist when it exists)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="paper-results", help="figures and JSON go here")
    ap.add_argument("--quick", action="store_true", help="small models, 40 steps (CI)")
    ap.add_argument("--no-torch", action="store_true", help="do not use PyTorch")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    for name in ("steps", "batch_size", "window"):
        v = getattr(args, name)
        if v is not None and v <= 0:
            ap.error(f"--{name.replace('_', '-')} must be positive, got {v}")
    if args.lr is not None and not (args.lr > 0 and math.isfinite(args.lr)):
        ap.error(f"--lr must be a positive number, got {args.lr}")

    started = time.perf_counter()
    ds, args.split_note = _paper.load_mnist(args.data_dir, quick=args.quick)
    args.data_label = (f"{ds.name}: {len(ds.y_train):,} training / {len(ds.y_test):,} "
                       f"{ds.test_name} images")
    print(f"# Forward gradients vs backprop on MNIST ({_paper.now()})\ndata: "
          f"{args.split_note}\nmachine: {_paper.machine()}")
    if not _paper.HAVE_TORCH or args.no_torch:
        print("PyTorch is not used: logistic regression is compared with exact-gradient "
              "descent by forward mode instead of backprop; the MLP and CNN run FGD only.")
    runs = [r for r in PAPER_RUNS if args.model in ("all", r[0])]
    if args.lr is not None:
        runs = list(dict.fromkeys((m, args.lr) for m, _ in runs))
    plt = None if args.no_plot else _paper.pyplot()
    results = [run(m, lr, args, ds, plt) for m, lr in runs]

    print("\n## Summary (compare with bench/PAPER.md)\n")
    print("| model | η0 | steps | T_f (s) | T_b (s) | T_f/T_b | R_f | R_b | FGD/BP step "
          "| held-out acc. FGD | baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["costs"]
        acc = r["fgd"].get("heldout")
        base = r.get("baseline_run", {}).get("heldout")
        print(f"| {r['model']} | {r['lr0']:g} | {r['steps']} | {fmt(r.get('T_f'), '.1f')} | "
              f"{fmt(r.get('T_b'), '.1f', '-')} | {fmt(r.get('T_f/T_b'), '.3f', '-') if 'T_b' in r else '-'} | "
              f"{c['R_f']:.2f} | {fmt(c.get('R_b'), '.2f', '-')} | "
              f"{fmt(c.get('step_ratio'), '.2f', '-')} | "
              f"{'diverged' if acc is None else format(acc['accuracy'], '.4f')} | "
              f"{'-' if base is None else format(base['accuracy'], '.4f')} |")
    duration = time.perf_counter() - started
    print(f"\ndata: {args.split_note}\ntotal {duration:.0f} s")
    name = "paper_mnist" + ("" if args.model == "all" else "_" + args.model) \
        + ("" if args.distribution == "normal" else "_" + args.distribution)
    path = _paper.write_json(Path(args.out) / f"{name}.json", {
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "date": _paper.now(),
        "machine": _paper.machine(), "data": args.split_note, "duration_s": duration,
        "runs": results})
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
