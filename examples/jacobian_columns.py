"""Jacobian columns from basis tangents.

Forward mode computes J v, the Jacobian times a tangent v, in one pass. Seed the tangent
with the basis vector e_j (1 in input j, 0 elsewhere) and J e_j is column j of the
Jacobian: n passes (or one pass with a batch of n tangents) give all of it. This script
traces each basis direction of f(r, θ, φ) = spherical → Cartesian coordinates and puts
the columns together. Change f or the point and run it again.

    python examples/jacobian_columns.py [--quick]
"""
import argparse

import numpy as np

import dualnum as dn


def spherical_to_cartesian(q):
    r, theta, phi = q[0], q[1], q[2]
    return np.stack([r * np.sin(theta) * np.cos(phi),
                     r * np.sin(theta) * np.sin(phi),
                     r * np.cos(theta)])


def by_hand(q):
    r, t, p = q
    st, ct, sp, cp = np.sin(t), np.cos(t), np.sin(p), np.cos(p)
    return np.array([[st * cp, r * ct * cp, -r * st * sp],
                     [st * sp, r * ct * sp, r * st * cp],
                     [ct, -r * st, 0.0]])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="print less (for CI)")
    args = ap.parse_args(argv)
    q = np.array([2.0, np.pi / 3, np.pi / 4])
    names = ["r", "θ", "φ"]

    # One batched pass with the three basis tangents e_0, e_1, e_2.
    t = dn.trace(spherical_to_cartesian, q, tangents="basis")
    print(f"one pass, K = {t.batch_size} basis tangents; the output's tangent, one row "
          f"per direction:")
    print(np.array2string(t.tangent_out, precision=4, suppress_small=True))
    print()

    columns = []
    for j in range(3):
        col = t.direction(j)  # the same trace seen along e_j alone
        if not args.quick or j == 0:
            print(col.table(precision=3))
            print()
        columns.append(col.tangent_out)
        print(f"column {j} = J e_{j} = ∂(x, y, z)/∂{names[j]} = "
              f"{np.array2string(col.tangent_out, precision=4, suppress_small=True)}")
    jac = np.stack(columns, axis=1)
    print("\nJacobian, columns side by side:")
    print(np.array2string(jac, precision=4, suppress_small=True))
    err_hand = np.abs(jac - by_hand(q)).max()
    err_jacfwd = np.abs(jac - dn.jacfwd(spherical_to_cartesian)(q)).max()
    print(f"\nmax |difference| from the Jacobian by hand: {err_hand:.1e}, "
          f"from dn.jacfwd: {err_jacfwd:.1e}")
    print(f"det J = {np.linalg.det(jac):.6f} (r² sin θ = {q[0] ** 2 * np.sin(q[1]):.6f})")
    assert err_hand < 1e-12 and err_jacfwd == 0.0


if __name__ == "__main__":
    main()
