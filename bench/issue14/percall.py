import numpy as np, time
import dualnum as dn
x = np.linspace(0.1, 0.4, 4); v = np.ones(4); w = np.full(4, 0.5); b = np.full(4, 0.1)
f = lambda a: np.tanh(a * w + b)
for _ in range(1000): dn.jvp(f, (x,), (v,))
import gc; gc.disable()
def t(fn, n=20000):
    best = 1e9
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(n): fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6
print("jvp tiny: %.2f us" % t(lambda: dn.jvp(f, (x,), (v,))))
d = dn.Dual(x, v)
print("Dual ops: %.2f us" % t(lambda: np.tanh(d * w + b)))
print("numpy: %.2f us" % t(lambda: (np.tanh(x * w + b), (1 - np.tanh(x*w+b)**2) * (v * w))))
