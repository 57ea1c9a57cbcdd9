import time
import numpy as np
import dualnum as dn
from dualnum.kernels import conv
def cpu(fn, r=5):
    fn(); ts=[]
    for _ in range(r):
        t0=time.process_time(); fn(); ts.append(time.process_time()-t0)
    return min(ts)*1e3
rng=np.random.default_rng(0); f=np.float32
for (c,o,h) in [(1,64,28),(64,64,28),(64,64,14)]:
    x=rng.standard_normal((64,c,h,h)).astype(f); w=rng.standard_normal((o,c,3,3)).astype(f); b=rng.standard_normal(o).astype(f)
    tx,tw,tb=(rng.standard_normal(a.shape).astype(f) for a in (x,w,b))
    txx = None if c == 1 else tx
    print(c,o,h, "wino F %.1f J %.1f | im2col F %.1f J %.1f" % (
        cpu(lambda: conv._winograd(x,None,w,None,b,None,(1,1),None)),
        cpu(lambda: conv._winograd(x,txx,w,tw,b,tb,(1,1),None)),
        cpu(lambda: conv._im2col_conv(x,None,w,None,b,None,(1,1),(1,1),None)),
        cpu(lambda: conv._im2col_conv(x,txx,w,tw,b,tb,(1,1),(1,1),None))))
