"""Forward gradient descent against gradient descent on Beale and Rosenbrock (paper Fig. 2).

Reproduces Figure 2 of Baydin, Pearlmutter, Syme, Wood and Torr, "Gradients without
Backpropagation" (2022): two-parameter test functions minimised by

* FGD, forward gradient descent: each step draws v ~ N(0, I), gets f(θ) and ∇f·v in one
  forward pass (dn.forward_gradient) and moves θ ← θ − η (∇f·v) v;
* GD, gradient descent with the exact gradient, here also computed by forward mode
  (dn.grad: one batched JVP carrying both basis tangents), θ ← θ − η ∇f.

Settings as in the paper: Beale, minimum (3, 0.5), η = 0.01, 1,000 iterations; Rosenbrock,
minimum (1, 1), η = 5e-4, 25,000 iterations; 10 runs each. All runs of a function start
at one fixed point and differ only by their seed (run r uses default_rng(seed + r)):

* Beale from (1, -1): not the minimum (f = 5.70, 2.5 away), plain GD with η = 0.01
  converges from it, and FGD's early steps stay stable. From (1, 1.5), which looks like a
  natural choice, GD converges but ∇f = (34.5, 92.5) is so steep that about four FGD runs
  in ten overshoot and overflow within a few dozen steps.
* Rosenbrock from (-1.2, 1), the classical start: GD follows the curved valley and ends
  about 0.006 from (1, 1) after 25,000 steps with η = 5e-4.

GD is deterministic, so it runs once (its spread over runs would be zero). A run whose
loss or parameters stop being finite is stopped and counted as diverged; its statistics
are left out and the count is printed, never averaged in as NaN. The wall time counts the
steps only (gradient and update), not the bookkeeping.

    python examples/paper_test_functions.py            # full size, about 40 s
    python examples/paper_test_functions.py --quick    # 100 / 500 iterations, 3 runs

Options: --out DIR (default paper-results), --seed S, --runs R, --no-plot. It prints a
Markdown table per function and writes fig2_beale.png, fig2_rosenbrock.png (with
matplotlib, the `plot` extra) and paper_test_functions.json to DIR.

What to look for: FGD ends about as close to the minimum as GD, although each of its steps
sees the gradient only along one random direction; its runs spread around GD's path (the
trajectory panel) and its loss curves scatter around GD's. The paper's speed-up comes from
FGD skipping the backward pass; here GD is forward mode too, and with two parameters its
exact gradient is one pass carrying two tangents, which costs about what FGD's pass with
one tangent costs. So the printed FGD/GD ratio of time per iteration is near 1 (a little
above: forward_gradient's work around the pass, drawing v and forming (∇f·v) v, costs a
few µs more than grad's), and the loss-against-time panel looks like the
loss-against-iterations one with FGD slightly stretched.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import dualnum as dn  # before NumPy: dualnum/__init__.py explains why
import numpy as np


def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


PROBLEMS = [
    dict(key="beale", name="Beale", f=beale, minimum=(3.0, 0.5), start=(1.0, -1.0),
         lr=0.01, iters=1000, quick_iters=100),
    dict(key="rosenbrock", name="Rosenbrock", f=rosenbrock, minimum=(1.0, 1.0),
         start=(-1.2, 1.0), lr=5e-4, iters=25000, quick_iters=500),
]


def fgd_step(f, lr, rng):
    def step(theta):
        value, g = dn.forward_gradient(f, theta, rng=rng)
        return value, theta - lr * g
    return step


def gd_step(f, lr):
    grad_f = dn.grad(f)

    def step(theta):
        # dn.grad does not hand back f(θ); the loss is evaluated outside the timed step
        return None, theta - lr * grad_f(theta)
    return step


def descend(f, theta0, iters, step):
    """losses[t] = f(θ_t), times[t] = step time spent before θ_t, traj[t] = θ_t."""
    theta = np.array(theta0, dtype=np.float64)
    losses = np.empty(iters + 1)
    times = np.zeros(iters + 1)
    traj = np.empty((iters + 1, theta.size))
    traj[0] = theta
    elapsed = 0.0
    diverged_at = None
    # overflow in a diverging run is detected and reported below; numpy's warnings about
    # it would only repeat that, once per op
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(iters):
            t0 = time.perf_counter()
            value, new = step(theta)
            elapsed += time.perf_counter() - t0
            losses[t] = f(theta) if value is None else float(value)
            theta = new
            traj[t + 1] = theta
            times[t + 1] = elapsed
            if not (np.isfinite(losses[t]) and np.all(np.isfinite(theta))):
                diverged_at = t
                break
        else:
            losses[iters] = f(theta)
            if not np.isfinite(losses[iters]):
                diverged_at = iters
    if diverged_at is not None:
        # keep only the finite prefix: θ_0 … θ_k and their losses
        k = diverged_at if not np.isfinite(losses[diverged_at]) else diverged_at + 1
        losses, times, traj = losses[:k], times[:k], traj[:k]
    return dict(losses=losses, times=times, traj=traj, diverged_at=diverged_at,
                step_times=np.diff(times))


def summarize(runs, minimum, deterministic=False):
    ok = [r for r in runs if r["diverged_at"] is None]
    dist = np.array([np.linalg.norm(r["traj"][-1] - minimum) for r in ok])
    loss = np.array([r["losses"][-1] for r in ok])
    steps = np.concatenate([r["step_times"] for r in runs]) if runs else np.array([])
    s = dict(runs=len(runs), diverged=len(runs) - len(ok),
             diverged_at=[r["diverged_at"] for r in runs if r["diverged_at"] is not None],
             deterministic=deterministic,
             median_us_per_iter=float(np.median(steps) * 1e6) if steps.size else None,
             total_step_seconds=float(steps.sum()))
    if ok:
        q25, q50, q75 = np.percentile(dist, [25, 50, 75])
        s.update(distance_median=float(q50), distance_min=float(dist.min()),
                 distance_max=float(dist.max()), distance_q25=float(q25),
                 distance_q75=float(q75), final_loss_median=float(np.median(loss)),
                 final_theta_median=np.median([r["traj"][-1] for r in ok], axis=0).tolist())
    return s


def table(name, problem, n_runs, fgd, gd):
    print(f"\n### {name}: η = {problem['lr']:g}, {problem['n_iters']:,} iterations, "
          f"start {problem['start']}, minimum θ* = {problem['minimum']}\n")
    print("| method | runs | diverged | ‖θ_T − θ*‖ median | min – max | IQR (25–75 %) "
          "| final loss median | µs / iteration (median) | step time, all runs (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, s in (("FGD", fgd), ("GD", gd)):
        runs = f"{s['runs']}" + (" (deterministic)" if s["deterministic"] else "")
        if "distance_median" in s:
            spread = "0 (deterministic)" if s["deterministic"] else \
                f"{s['distance_min']:.2e} – {s['distance_max']:.2e}"
            iqr = "0" if s["deterministic"] else \
                f"{s['distance_q25']:.2e} – {s['distance_q75']:.2e}"
            cells = (f"{s['distance_median']:.3e}", spread, iqr, f"{s['final_loss_median']:.3e}")
        else:
            cells = ("—", "— (all runs diverged)", "—", "—")
        print(f"| {label} | {runs} | {s['diverged']} | " + " | ".join(cells) +
              f" | {s['median_us_per_iter']:.1f} | {s['total_step_seconds']:.2f} |")
    if fgd["diverged"]:
        print(f"\n{fgd['diverged']} of {n_runs} FGD runs diverged (non-finite loss or θ), at "
              f"iterations {fgd['diverged_at']}; they are left out of the distance and loss "
              "columns.")
    ratio = fgd["median_us_per_iter"] / gd["median_us_per_iter"]
    print(f"\nFGD / GD time per iteration: {ratio:.2f}. GD ran once: it is deterministic, "
          f"so {n_runs} runs of it would coincide (spread 0).")
    return ratio


def atomic_write(path, write):
    """Write through a temporary file in the same directory and rename it into place,
    so that an interrupted run never leaves a half-written file under the final name."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def plot(plt, problem, fgd_runs, gd_run, path):
    from matplotlib.colors import LogNorm

    f, minimum = problem["f"], np.array(problem["minimum"])
    ok = [r for r in fgd_runs if r["diverged_at"] is None]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))

    ax = axes[0]
    # frame what converged (a diverged run would stretch the box to its overflow point)
    pts = np.concatenate([r["traj"] for r in ok] + [gd_run["traj"], minimum[None],
                                                    np.array(problem["start"])[None]])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.15 * (hi - lo) + 0.1
    lo, hi = lo - pad, hi + pad
    X, Y = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    Z = f(np.stack([X, Y]))
    zmin = max(float(Z.min()), 1e-4)
    levels = np.logspace(np.log10(zmin), np.log10(float(Z.max())), 25)
    ax.contour(X, Y, np.maximum(Z, zmin), levels=levels, norm=LogNorm(), cmap="viridis",
               linewidths=0.7)
    labelled = set()
    for r in fgd_runs:
        label = "FGD runs" if r["diverged_at"] is None else "FGD runs (diverged)"
        ax.plot(r["traj"][:, 0], r["traj"][:, 1], lw=0.8, alpha=0.6,
                color="tab:blue" if r["diverged_at"] is None else "tab:red",
                label=None if label in labelled else label)
        labelled.add(label)
    # dashed, so that FGD runs that follow GD's path stay visible beneath it
    ax.plot(gd_run["traj"][:, 0], gd_run["traj"][:, 1], color="black", lw=1.4, ls="--",
            label="GD")
    ax.plot(*problem["start"], "o", color="tab:orange", ms=7, label=f"start {problem['start']}")
    ax.plot(*minimum, "*", color="tab:red", ms=14, mec="black",
            label=f"minimum {problem['minimum']}")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("trajectories over log-spaced contours")
    ax.legend(fontsize=8, loc="best")

    # scale the loss axes to the runs that converged: a diverged run's loss climbs towards
    # 1e308 before it overflows, which would flatten every other curve (and can overflow
    # matplotlib's log tick locator); clipped, it runs off the top edge instead
    kept = np.concatenate([r["losses"] for r in ok] + [gd_run["losses"]])
    top = 10 * float(kept.max())
    floor = float(kept[kept > 0].min()) / 2 if np.any(kept > 0) else 1e-20
    for ax, xkey in ((axes[1], "iters"), (axes[2], "times")):
        labelled = set()
        for r in fgd_runs:
            x = np.arange(r["losses"].size) if xkey == "iters" else r["times"]
            label = "FGD runs" if r["diverged_at"] is None else "FGD runs (diverged)"
            ax.semilogy(x, np.clip(r["losses"], floor, top), lw=0.6, alpha=0.5,
                        color="tab:blue" if r["diverged_at"] is None else "tab:red",
                        label=None if label in labelled else label)
            labelled.add(label)
        if ok:
            med = np.median([r["losses"] for r in ok], axis=0)
            x = np.arange(med.size) if xkey == "iters" else \
                np.median([r["times"] for r in ok], axis=0)
            ax.semilogy(x, np.clip(med, floor, top), color="navy", lw=2,
                        label=f"FGD median ({len(ok)} runs)")
        x = np.arange(gd_run["losses"].size) if xkey == "iters" else gd_run["times"]
        ax.semilogy(x, np.clip(gd_run["losses"], floor, top), color="black", lw=1.5, ls="--",
                    label="GD")
        ax.set_ylim(floor, top)
        ax.set_ylabel("loss f(θ)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    axes[1].set_xlabel("iteration")
    axes[1].set_title("loss against iterations")
    axes[2].set_xlabel("wall time of the steps (s)")
    axes[2].set_title("loss against time")
    fig.suptitle(f"{problem['name']}: FGD vs GD, η = {problem['lr']:g}, "
                 f"{problem['n_iters']:,} iterations, {len(fgd_runs)} FGD runs "
                 "(GD deterministic, 1 run)")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)


def main(argv=None):
    started = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="100 Beale and 500 Rosenbrock iterations, 3 runs (for CI)")
    ap.add_argument("--out", default="paper-results", help="output directory")
    ap.add_argument("--seed", type=int, default=0, help="run r uses default_rng(seed + r)")
    ap.add_argument("--runs", type=int, help="FGD runs per function (default 10, 3 quick)")
    ap.add_argument("--no-plot", action="store_true", help="skip the figures")
    args = ap.parse_args(argv)
    n_runs = args.runs if args.runs is not None else (3 if args.quick else 10)
    if n_runs < 1:
        ap.error("--runs must be at least 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    plt = None
    if not args.no_plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: `pip install matplotlib` (or the `plot` "
                  "extra, pip install -e \".[plot]\") would draw the figures; the tables "
                  "below have the numbers")

    print(f"Figure 2 of 'Gradients without Backpropagation': FGD ({n_runs} runs, seeds "
          f"{args.seed}…{args.seed + n_runs - 1}) vs GD (exact gradient by forward mode)"
          + (" — quick mode" if args.quick else ""))
    summary = dict(command=" ".join([sys.executable] + sys.argv), quick=args.quick,
                   seed=args.seed, runs=n_runs,
                   date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                   dualnum=getattr(dn, "__version__", None), numpy=np.__version__,
                   functions={}, figures=[])
    for problem in PROBLEMS:
        problem["n_iters"] = problem["quick_iters"] if args.quick else problem["iters"]
        f, lr, iters = problem["f"], problem["lr"], problem["n_iters"]
        theta0 = np.array(problem["start"])
        minimum = np.array(problem["minimum"])
        # the first calls compile and cache numba kernels; keep that out of the timings
        gd_step(f, lr)(theta0)
        fgd_step(f, lr, np.random.default_rng())(theta0)

        fgd_runs = [descend(f, theta0, iters,
                            fgd_step(f, lr, np.random.default_rng(args.seed + r)))
                    for r in range(n_runs)]
        gd_run = descend(f, theta0, iters, gd_step(f, lr))
        fgd = summarize(fgd_runs, minimum)
        gd = summarize([gd_run], minimum, deterministic=True)
        ratio = table(problem["name"], problem, n_runs, fgd, gd)
        summary["functions"][problem["key"]] = dict(
            lr=lr, iterations=iters, start=list(problem["start"]),
            minimum=list(problem["minimum"]), fgd=fgd, gd=gd,
            fgd_over_gd_time_per_iteration=ratio)

        if plt is not None:
            path = out / f"fig2_{problem['key']}.png"
            plot(plt, problem, fgd_runs, gd_run, path)
            summary["figures"].append(str(path))
            print(f"\nfigure saved to {path}")

    duration = time.perf_counter() - started
    summary["duration_seconds"] = duration
    json_path = out / "paper_test_functions.json"
    atomic_write(json_path, lambda tmp: tmp.write_text(json.dumps(summary, indent=2) + "\n"))
    print(f"\nsummary saved to {json_path}")
    print(f"total duration {duration:.1f} s")


if __name__ == "__main__":
    main()
