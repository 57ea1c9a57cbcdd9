import time
import numpy as np
from dualnum.kernels import conv, winograd
def cpu(fn, r=15):
    fn(); ts=[]
    for _ in range(r):
        t0=time.process_time(); fn(); ts.append(time.process_time()-t0)
    return min(ts)*1e3
rng=np.random.default_rng(0); f=np.float32
x=rng.standard_normal((64,64,28,28)).astype(f); w=rng.standard_normal((64,64,3,3)).astype(f); b=rng.standard_normal(64).astype(f)
tx,tw,tb=(rng.standard_normal(a.shape).astype(f) for a in (x,w,b))
geo=winograd.Geometry(x.shape,(1,1),f); v=np.empty((16,128,geo.cols),f)
u=geo.weights(w); us=np.concatenate([u,u],axis=2); m=np.matmul(u, v[:, 64:])
r = {
 "J wino": cpu(lambda: conv._winograd(x,tx,w,tw,b,tb,(1,1),None)),
 "J im2col": cpu(lambda: conv._im2col_conv(x,tx,w,tw,b,tb,(1,1),(1,1),None)),
 "in (padding included)": cpu(lambda: geo.transform(x, v, 0)),
 "gemmF": cpu(lambda: np.matmul(u, v[:, 64:])),
 "gemmT": cpu(lambda: np.matmul(us, v)),
 "out": cpu(lambda: geo.output(m, 0, b, np.empty((64,64,28,28),f))),
 "bigGEMM(ref 3.7GF)": cpu(lambda: np.matmul(w.reshape(64,-1), np.empty((576, 64*784), f))),
}
print(" ".join(f"{k}={v:.1f}" for k,v in r.items()))
