"""Cost of forward gradients and backprop against depth: the paper's Figure 6.

Baydin et al., "Gradients without Backpropagation" (2022), measure for MLPs of growing
depth the cost of a training step relative to a forward pass: R_f for a forward-gradient
step, R_b for a backprop step, and find R_f/R_b rising from about 0.55 to about 0.85 as
the network deepens; they also compare memory. This script measures, for MLPs
784→[1024]×L→10 (ReLU, batch 64) with L = 1, 2, 4, 8, 16 and 32 hidden layers:

* dualnum: the loss alone (F) and one forward-gradient step (``dn.forward_gradient`` then
  ``dn.optim.SGD.step``) for each ``--distribution`` (default ``normal``, the paper's v ~
  N(0, I), and ``outer``, dualnum's rank-one directions per weight matrix);
  R_f = step / F;
* PyTorch (when installed): F under ``torch.no_grad`` and a backprop step (forward,
  ``backward``, ``torch.optim.SGD.step``); R_b = step / F;
* the peak memory one step adds above the memory held before it (parameters, data):
  Linux's peak-RSS counter, reset just before the step.

Every point runs in fresh processes (``_paper.py``'s workers; memory in a separate one):
memory peaks cannot leak from one point into the next, and dualnum and PyTorch never share a process (their
OpenMP runtimes slow each other down). Timings are medians of 15 samples; data is a
seeded random batch (the cost does not depend on the pixel values).

    python examples/paper_depth_sweep.py             # full sweep (a few minutes)
    python examples/paper_depth_sweep.py --quick     # two small points (CI)

Writes ``fig6_depth.png`` (matplotlib) and ``paper_depth_sweep.json`` to ``--out``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _paper  # first: it imports dualnum before NumPy (see _paper.py)

import numpy as np

#: Environment of the worker processes: large blocks are mmapped and given back when
#: freed, so that resident memory follows live memory (glibc's heap keeps freed memory).
WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}


def point(system, depth, args, distribution=None):
    """Times from one worker process, peak memory from another: the memory worker runs
    with WORKER_ENV, which would slow the timed steps down (every large allocation would
    be fresh pages from the kernel)."""
    spec = _paper.mlp_spec(784, args.width, depth)
    cfg = {"task": "cost", "spec": spec, "data": "random", "input_shape": [784],
           "batch_size": args.batch_size, "seed": args.seed, "lr0": 1e-5,
           "repeats": 3 if args.quick else 15, "distribution": distribution}
    res = _paper.run_worker(system, cfg)
    mem = _paper.run_worker(system, dict(cfg, memory=True, timing=False), env=WORKER_ENV)
    res["peak_extra_bytes"] = mem["peak_extra_bytes"]
    return res


def mb(b):
    return "-" if b is None else f"{b / 2**20:.1f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", default=None,
                    help="comma-separated hidden-layer counts (default 1,2,4,8,16,32)")
    ap.add_argument("--width", type=int, default=None, help="hidden width (default 1024)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--distribution", default="normal,outer",
                    help="comma-separated forward-gradient distributions")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="paper-results")
    ap.add_argument("--quick", action="store_true", help="two small points (CI)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    try:
        depths = [int(d) for d in (args.depths or ("1,2" if args.quick else "1,2,4,8,16,32"))
                  .split(",")]
    except ValueError:
        ap.error(f"--depths must be comma-separated integers, got {args.depths!r}")
    if any(d < 1 for d in depths):
        ap.error(f"--depths must be at least 1, got {depths}")
    args.width = args.width or (128 if args.quick else 1024)
    if args.width < 1 or args.batch_size < 1:
        ap.error("--width and --batch-size must be positive")
    dists = [d.strip() for d in args.distribution.split(",") if d.strip()]
    from dualnum import fgrad as fg

    bad = [d for d in dists if d not in fg.DISTRIBUTIONS]
    if bad or not dists:
        ap.error(f"--distribution {args.distribution!r}: choose from "
                 f"{', '.join(fg.DISTRIBUTIONS)}")
    use_torch = _paper.HAVE_TORCH and not args.no_torch

    started = time.perf_counter()
    print(f"# Cost against depth: MLP 784→[{args.width}]×L→10, batch {args.batch_size} "
          f"({_paper.now()})\nmachine: {_paper.machine()}\n"
          + ("" if use_torch else "PyTorch is not used: no backprop columns (R_b).\n"))
    rows = []
    for depth in depths:
        row = {"depth": depth,
               "parameters": sum(a * b + b for a, b in
                                 zip([784] + [args.width] * depth, [args.width] * depth + [10]))}
        for d in dists:
            row[d] = point("dualnum", depth, args, d)
        if use_torch:
            row["torch"] = point("torch", depth, args)
        rows.append(row)
        print(f"L = {depth:2d}: " + ", ".join(
            f"{name} step {row[name]['step_s'] * 1e3:.1f} ms (F {row[name]['F_s'] * 1e3:.2f} ms)"
            for name in dists + (["torch"] if use_torch else [])), flush=True)

    head = ["L", "parameters"] + [f"R_f {d}" for d in dists]
    if use_torch:
        head += ["R_b", *[f"R_f/R_b {d}" for d in dists]]
    head += [f"peak MB {d}" for d in dists] + (["peak MB backprop"] if use_torch else [])
    print("\n| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for r in rows:
        rf = {d: r[d]["step_s"] / r[d]["F_s"] for d in dists}
        for d in dists:
            r[d]["R_f"] = rf[d]
        cells = [str(r["depth"]), f"{r['parameters']:,}"] + [f"{rf[d]:.2f}" for d in dists]
        if use_torch:
            rb = r["torch"]["step_s"] / r["torch"]["F_s"]
            r["torch"]["R_b"] = rb
            cells += [f"{rb:.2f}"] + [f"{rf[d] / rb:.2f}" for d in dists]
        cells += [mb(r[d]["peak_extra_bytes"]) for d in dists]
        if use_torch:
            cells.append(mb(r["torch"]["peak_extra_bytes"]))
        print("| " + " | ".join(cells) + " |")
    print("\nR = (time of a training step) / (time of the loss alone), each engine against "
          "its own forward pass.\nPaper (GPU, its own engine): R_f/R_b rises from about 0.55 "
          "to about 0.85 with depth.")

    plt = None if args.no_plot else _paper.pyplot()
    out = Path(args.out)
    if plt is not None:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
        L = [r["depth"] for r in rows]
        for i, d in enumerate(dists):
            a1.plot(L, [r[d]["R_f"] for r in rows], "o-", color=f"C{i}",
                    label=f"R_f, FGD ({d} directions)")
            if use_torch:
                a1.plot(L, [r[d]["R_f"] / r["torch"]["R_b"] for r in rows], "s:",
                        color=f"C{i}", label=f"R_f/R_b ({d})")
            a2.plot(L, [(r[d]["peak_extra_bytes"] or 0) / 2**20 for r in rows], "o-",
                    color=f"C{i}", label=f"FGD step, dualnum ({d})")
        if use_torch:
            a1.plot(L, [r["torch"]["R_b"] for r in rows], "o-", color="C3",
                    label="R_b, backprop (PyTorch)")
            a2.plot(L, [(r["torch"]["peak_extra_bytes"] or 0) / 2**20 for r in rows], "o-",
                    color="C3", label="backprop step (PyTorch)")
        a1.set_ylabel("step time / forward time")
        a2.set_ylabel("peak memory added by one step (MB)")
        for ax in (a1, a2):
            ax.set_xscale("log", base=2)
            ax.set_xticks(L, [str(x) for x in L])
            ax.set_xlabel("hidden layers L")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        a2.set_yscale("log")
        fig.suptitle(f"MLP 784→[{args.width}]×L→10, batch {args.batch_size}: cost of a "
                     f"training step against depth", fontsize=10)
        fig.tight_layout()
        print(f"figure: {_paper.save_figure(fig, out / 'fig6_depth.png')}")
    duration = time.perf_counter() - started
    path = _paper.write_json(out / "paper_depth_sweep.json", {
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "date": _paper.now(),
        "machine": _paper.machine(), "width": args.width, "batch_size": args.batch_size,
        "duration_s": duration, "rows": rows})
    print(f"results: {path}\ntotal {duration:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
