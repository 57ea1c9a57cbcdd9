"""Quick start: differentiate plain NumPy code with dual numbers.

    python examples/quickstart.py
"""
import argparse

import numpy as np

import dualnum as dn


def model(w, b, x):
    # Ordinary NumPy code: nothing here knows about derivatives.
    return np.mean(np.tanh(x @ w + b) ** 2)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (for CI)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    n = 3 if args.quick else 5
    x = rng.standard_normal((4, n))
    w = rng.standard_normal(n)
    b = 0.1

    # One forward pass gives the value and the directional derivative along v.
    v = np.zeros(n)
    v[0] = 1.0
    value, dv = dn.jvp(lambda w: model(w, b, x), (w,), (v,))
    print(f"f(w) = {value:.6f},  df/dw0 = {dv:.6f}")

    # The exact gradient by forward mode (n basis directions in one batched pass)...
    g = dn.grad(lambda w: model(w, b, x))(w)
    print("gradient:", np.array2string(g, precision=6))

    # ...checked against central finite differences.
    dn.testing.check_jvp(lambda w: model(w, b, x), (w,))
    print("check_jvp: forward mode agrees with finite differences")


if __name__ == "__main__":
    main()
