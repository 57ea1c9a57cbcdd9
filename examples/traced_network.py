"""Watch tangents flow through a small neural network, one op at a time.

A two-layer network y = W2 tanh(W1 x + b1) + b2 with a squared-error loss, written in
plain NumPy. dn.trace runs it on Duals and prints the Wengert list: every intermediate
value with its tangent and the rule that produced the tangent. The tangent seeded on the
weights is a direction v; the loss's tangent at the end is the directional derivative
∇loss·v. Change the direction, the activation or the sizes and run it again.

    python examples/traced_network.py [--quick]
"""
import argparse

import numpy as np

import dualnum as dn


def loss(w1, b1, w2, b2, x, y):
    h = np.tanh(x @ w1 + b1)          # hidden layer
    pred = h @ w2 + b2                # output layer
    return np.mean((pred - y) ** 2)   # squared error


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="(already small; for CI)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    n_in, n_hidden, batch = 2, 3, 4
    w1 = rng.standard_normal((n_in, n_hidden)).round(2)
    b1 = np.zeros(n_hidden)
    w2 = rng.standard_normal((n_hidden, 1)).round(2)
    b2 = np.zeros(1)
    x = rng.standard_normal((batch, n_in)).round(2)
    y = np.sin(x[:, :1])
    params = (w1, b1, w2, b2)

    # 1. One direction: nudge the single weight w1[0, 0]. The loss's tangent is then
    #    ∂loss/∂w1[0, 0]; every line shows how the nudge has spread so far.
    v = tuple(np.zeros_like(p) for p in params)
    v[0][0, 0] = 1.0
    t = dn.trace(loss, *params, x, y, tangents=v + (None, None))
    print(t)
    slope = float(t.tangent_out)
    eps = 1e-6
    w1p, w1m = w1.copy(), w1.copy()
    w1p[0, 0] += eps
    w1m[0, 0] -= eps
    fd = (loss(w1p, b1, w2, b2, x, y) - loss(w1m, b1, w2, b2, x, y)) / (2 * eps)
    print(f"\n∂loss/∂w1[0, 0]: forward mode {slope:.10f}, central difference {fd:.10f}")
    assert abs(slope - fd) < 1e-6

    # 2. A random direction on every weight at once: one pass, the same ops, and the
    #    tangent is ∇loss·v, the ingredient of a forward gradient.
    v = tuple(rng.standard_normal(p.shape) for p in params)
    value, dv = dn.jvp(lambda *p: loss(*p, x, y), params, v)
    g = dn.grad(lambda p: loss(*p, x, y))(params)
    exact = sum(float(np.sum(gi * vi)) for gi, vi in zip(g, v))
    print(f"random direction v: jvp gives ∇loss·v = {float(dv):.10f}; "
          f"the exact gradient dotted with v gives {exact:.10f}")
    assert abs(float(dv) - exact) < 1e-9

    # 3. The same trace as data: which ops did the tangent pass through?
    rows = t.to_dicts()
    print("\nops in order:", " → ".join(r["op"] for r in rows if r["op"] != "input"))


if __name__ == "__main__":
    main()
