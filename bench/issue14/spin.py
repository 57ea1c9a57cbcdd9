import sys, time
order = sys.argv[1]
if order == "numpy-first":
    import numpy as np
    if sys.argv[2] == "dn": import dualnum
elif order == "dualnum-first":
    import dualnum
    import numpy as np
a = np.ones((512, 512), np.float32)
spins = []
for _ in range(5):
    a @ a
    c0 = time.process_time(); time.sleep(0.2); spins.append(time.process_time() - c0)
print(order, sys.argv[2:], "CPU burnt by idle BLAS threads in 0.2 s after a GEMM: %.3f s" % (sorted(spins)[2]))
