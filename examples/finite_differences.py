"""Where finite differences break down, and forward mode does not.

A finite difference (f(x + h) - f(x)) / h has two errors that pull against each other:
truncation, about h f''/2, which shrinks with h, and rounding, about ε_mach |f| / h,
which grows as h shrinks. The best you can do is an h near sqrt(ε_mach) ≈ 1e-8 (forward
difference) or ε_mach^(1/3) ≈ 1e-5 (central difference), and even there half the digits
or a third of them are lost. Forward mode has no h: its error is rounding in the rules
alone, about ε_mach, at every point. This prints (and with --plot FILE draws) the error
against h. Change f, x or the dtype and run it again.

    python examples/finite_differences.py [--quick] [--float32] [--plot errors.png]
"""
import argparse

import numpy as np

import dualnum as dn


def f(x):
    return np.exp(x) * np.sin(3 * x) / (1 + x * x)


def f_prime(x):  # by hand, in float64, as the reference
    u, du = np.exp(x) * np.sin(3 * x), np.exp(x) * (np.sin(3 * x) + 3 * np.cos(3 * x))
    w, dw = 1 + x * x, 2 * x
    return (du * w - u * dw) / (w * w)


def bar(err, lo=-17, hi=1, width=36):
    """A log-scale bar: one '#' per half decade of error above 1e-17."""
    e = np.log10(max(err, 10.0 ** lo))
    return "#" * int(round((e - lo) / (hi - lo) * width))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer step sizes (for CI)")
    ap.add_argument("--float32", action="store_true", help="single precision")
    ap.add_argument("--plot", metavar="FILE", help="also save a log-log plot (matplotlib)")
    args = ap.parse_args(argv)
    dtype = np.float32 if args.float32 else np.float64
    x = dtype(0.7)
    exact = float(f_prime(np.float64(x)))
    step = 2 if args.quick else 1
    hs = [10.0 ** -k for k in range(1, 17, step)] if dtype == np.float64 else \
        [10.0 ** -k for k in range(1, 9, 1 if not args.quick else 2)]

    ad = float(dn.derivative(f)(x))
    ad_err = abs(ad - exact) / abs(exact)
    print(f"f(x) = exp(x) sin(3x) / (1 + x²) at x = {float(x)} in {np.dtype(dtype).name}; "
          f"f'(x) = {exact:.15f}")
    print(f"machine epsilon {np.finfo(dtype).eps:.1e}; relative errors "
          f"(bars: log scale, one # per half decade)\n")
    print(f"{'h':>8}  {'forward diff':>12}  {'central diff':>12}  {'forward mode':>12}")
    rows = []
    for h in hs:
        hh = dtype(h)
        fwd = float((f(x + hh) - f(x)) / hh)
        cen = float((f(x + hh) - f(x - hh)) / (2 * hh))
        e_f = abs(fwd - exact) / abs(exact)
        e_c = abs(cen - exact) / abs(exact)
        rows.append((h, e_f, e_c))
        print(f"{h:8.0e}  {e_f:12.2e}  {e_c:12.2e}  {ad_err:12.2e}   central {bar(e_c)}")
    best_f = min(rows, key=lambda r: r[1])
    best_c = min(rows, key=lambda r: r[2])
    print(f"\nbest forward difference: {best_f[1]:.1e} at h = {best_f[0]:.0e}; "
          f"best central difference: {best_c[2]:.1e} at h = {best_c[0]:.0e}")
    print(f"forward mode (dual numbers): {ad_err:.1e}, with no step size to choose")
    assert ad_err < 50 * np.finfo(dtype).eps
    assert best_c[2] > ad_err

    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("\n--plot needs matplotlib (pip install matplotlib); the table above "
                  "shows the same curves")
            return
        h, e_f, e_c = (np.array(c) for c in zip(*rows))
        floor = np.finfo(dtype).eps / 10
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.loglog(h, np.maximum(e_f, floor), "o-", label="forward difference")
        ax.loglog(h, np.maximum(e_c, floor), "s-", label="central difference")
        ax.axhline(max(ad_err, floor), color="k", ls="--", label="forward mode (no h)")
        ax.set_xlabel("step size h")
        ax.set_ylabel("relative error")
        ax.set_title("Finite differences against forward mode")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"\nplot saved to {args.plot}")


if __name__ == "__main__":
    main()
