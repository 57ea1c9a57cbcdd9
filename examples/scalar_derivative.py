"""A scalar derivative three ways: by hand, with a ten-line dual number, and with dualnum.

A dual number is a + bε with ε² = 0. Multiply two of them and the ε² term vanishes:

    (a + bε)(c + dε) = ac + (ad + bc)ε

which is exactly the product rule in the ε part. Evaluate any f built from such
operations at x + 1ε and you get f(x) + f'(x)ε: the derivative comes out alongside the
value, exact to rounding, with no step size. Change f below (and its derivative by hand)
and run again.

    python examples/scalar_derivative.py [--quick]
"""
import argparse
import math

import numpy as np

import dualnum as dn


# ----------------------------------------------------------------------- the function
def f(x, sin=np.sin, exp=np.exp):
    """x² sin(x) / (1 + e^(-x)); works on floats, on DualNumber and on dn.Dual."""
    return x * x * sin(x) / (1 + exp(-x))


def f_prime_by_hand(x):
    """Product and quotient rules, written out: u = x² sin x, w = 1 + e^(-x)."""
    u = x * x * math.sin(x)
    du = 2 * x * math.sin(x) + x * x * math.cos(x)
    w = 1 + math.exp(-x)
    dw = -math.exp(-x)
    return (du * w - u * dw) / (w * w)


# ----------------------------------------------------------------------- a dual number
class DualNumber:
    """a + bε with ε² = 0: just enough arithmetic for f above."""

    def __init__(self, a, b=0.0):
        self.a, self.b = a, b

    def _lift(self, o):
        return o if isinstance(o, DualNumber) else DualNumber(o)

    def __add__(self, o):
        o = self._lift(o)
        return DualNumber(self.a + o.a, self.b + o.b)

    __radd__ = __add__

    def __neg__(self):
        return DualNumber(-self.a, -self.b)

    def __mul__(self, o):  # (a + bε)(c + dε) = ac + (ad + bc)ε, since ε² = 0
        o = self._lift(o)
        return DualNumber(self.a * o.a, self.a * o.b + self.b * o.a)

    __rmul__ = __mul__

    def __truediv__(self, o):  # (a + bε)/(c + dε) = a/c + (bc - ad)/c² ε
        o = self._lift(o)
        return DualNumber(self.a / o.a, (self.b * o.a - self.a * o.b) / (o.a * o.a))

    def __rtruediv__(self, o):
        return self._lift(o) / self

    def __repr__(self):
        return f"{self.a:.6g} + {self.b:.6g}ε"


def d_sin(x):  # sin(a + bε) = sin a + b cos(a) ε  (Taylor: the ε² terms vanish)
    return DualNumber(math.sin(x.a), x.b * math.cos(x.a))


def d_exp(x):  # exp(a + bε) = e^a + b e^a ε
    return DualNumber(math.exp(x.a), x.b * math.exp(x.a))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points (for CI)")
    args = ap.parse_args(argv)

    eps_squared = DualNumber(0.0, 1.0) * DualNumber(0.0, 1.0)
    print(f"ε·ε = {eps_squared}   (the rule that makes it work)")
    print(f"(3 + ε)² = {DualNumber(3.0, 1.0) * DualNumber(3.0, 1.0)}   (9 + 2·3 ε)")
    print()

    xs = [0.5, 2.0] if args.quick else [-2.0, -0.5, 0.5, 1.0, 2.0, 3.0]
    print(f"f(x) = x² sin(x) / (1 + e^(-x))")
    print(f"{'x':>5}  {'by hand':>20}  {'DualNumber':>20}  {'dn.derivative':>20}  "
          f"{'|difference|':>12}")
    worst = 0.0
    for x in xs:
        hand = f_prime_by_hand(x)
        ours = f(DualNumber(x, 1.0), sin=d_sin, exp=d_exp).b
        theirs = float(dn.derivative(f)(x))
        diff = max(abs(hand - ours), abs(hand - theirs))
        worst = max(worst, diff / max(1.0, abs(hand)))
        print(f"{x:5.2f}  {hand:20.15f}  {ours:20.15f}  {theirs:20.15f}  {diff:12.2e}")
    print()

    # What dualnum does is the same, for whole arrays at once, and it prints the pair:
    x = dn.Dual(np.array(xs), np.ones(len(xs)))
    print("f on a Dual of all the x at once (tangent 1 everywhere):")
    print(f(x))
    print()
    print("The steps, one per line (dn.trace):")
    print(dn.trace(f, xs[0]))
    assert worst < 1e-12, worst
    print(f"\nall three agree to {worst:.1e} (relative): the derivative is exact, "
          "up to rounding")


if __name__ == "__main__":
    main()
