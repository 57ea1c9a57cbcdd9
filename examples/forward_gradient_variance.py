"""Forward-gradient variance against dimension.

A forward gradient (Baydin et al., "Gradients without Backpropagation", 2022) draws a
random direction v with E[v vᵀ] = I, computes the directional derivative ∇f·v in one
forward pass, and uses (∇f·v) v as the gradient. It is unbiased,
E[(∇f·v) v] = E[v vᵀ] ∇f = ∇f, but it is noisy, and the noise grows with the number of
parameters n: for normal v the total variance is E‖ĝ − ∇f‖² = (n + 1)‖∇f‖² / K with
K directions, and its cosine with ∇f is about sqrt(K / (n + K)). This measures both for
growing n and compares them with the formulas (dn.diagnostics). Change f, K or the
distribution and run it again.

    python examples/forward_gradient_variance.py [--quick] [--plot variance.png]
"""
import argparse

import numpy as np

import dualnum as dn


def f(w):
    # A smooth function of n parameters with a gradient that is not axis-aligned.
    return np.sum(np.sin(w) * w) + 0.5 * np.sum(w) ** 2 / w.size


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sizes and samples (for CI)")
    ap.add_argument("--directions", type=int, default=1, help="K directions per estimate")
    ap.add_argument("--plot", metavar="FILE", help="also save a log-log plot (matplotlib)")
    args = ap.parse_args(argv)
    dims = [2, 8, 32, 128] if args.quick else [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    samples = 400 if args.quick else 4000
    k = args.directions
    rng = np.random.default_rng(0)

    print(f"{samples} forward-gradient estimates per row, K = {k} direction(s) each\n")
    print(f"{'n':>5}  {'distribution':<11} {'var/|∇f|²':>10} {'theory':>8}  "
          f"{'cosine':>7} {'theory':>7}  {'bias z':>6}")
    rows = []
    for n in dims:
        w = rng.uniform(-2, 2, n)
        stats = dn.diagnostics.forward_gradient_stats(
            f, w, rng=rng, n_directions=k, distributions=("normal", "rademacher"),
            samples=samples)
        for r in stats["rows"]:
            theory_cos = r["cosine_theory"]
            print(f"{n:5d}  {r['distribution']:<11} {r['relative_variance']:10.2f} "
                  f"{r['relative_variance_theory']:8.2f}  {r['cosine_mean']:7.3f} "
                  f"{'-' if theory_cos is None else format(theory_cos, '7.3f'):>7}  "
                  f"{r['max_abs_z']:6.2f}")
            rows.append((n, r["distribution"], r["relative_variance"],
                         r["relative_variance_theory"]))
            # the measurement agrees with (n + 1)/K or (n - 1)/K within sampling error
            if r["relative_variance_theory"] > 0:
                assert abs(r["relative_variance"] / r["relative_variance_theory"] - 1) < 0.5
    print("\nThe variance grows linearly with n (theory: (n + 1)/K for normal directions, "
          "(n − 1)/K for ±1 signs)\nand the cosine with the true gradient falls like "
          "1/sqrt(n): each estimate says less as the model grows.\n'bias z' is the "
          "largest |mean − ∇f| / standard error over the n coordinates, about the size "
          "of the largest of n standard normals\n(about sqrt(2 ln n)), so no sign of bias.")

    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("\n--plot needs matplotlib (pip install matplotlib); the table above "
                  "shows the same numbers")
            return
        fig, ax = plt.subplots(figsize=(6, 4))
        for dist, marker in (("normal", "o"), ("rademacher", "s")):
            ns = [r[0] for r in rows if r[1] == dist]
            ax.loglog(ns, [r[2] for r in rows if r[1] == dist], marker, label=f"{dist}, measured")
            ax.loglog(ns, [max(r[3], 1e-3) for r in rows if r[1] == dist], "--",
                      label=f"{dist}, theory")
        ax.set_xlabel("number of parameters n")
        ax.set_ylabel("total variance / |∇f|²")
        ax.set_title(f"Forward-gradient variance, K = {k}")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"\nplot saved to {args.plot}")


if __name__ == "__main__":
    main()
