"""single-thread CPU-time comparison of one model: dualnum FG (per distribution), F, J vs torch BP/F"""
import sys, time
import numpy as np
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), ".."))
import train_step as ts
which = sys.argv[1]; name = sys.argv[2]; dists = sys.argv[3].split(",") if len(sys.argv) > 3 else ["normal"]
def cpu(fn, r=7):
    fn(); fn(); tt=[]
    for _ in range(r):
        t0=time.process_time(); fn(); tt.append(time.process_time()-t0)
    return np.median(tt)*1e3
spec, in_shape, desc = ts.arch(name, False)
x, y, _ = ts.load_batch(64, "auto", 0); x = x.reshape((64,) + in_shape)
if which == "dn":
    import dualnum as dn
    from dualnum.fgrad import directions as fg
    model = ts.build_dualnum(spec, 0); params = dict(model.named_parameters())
    loss = ts.dualnum_loss(model, x, y); opt = dn.optim.SGD(params, lr=1e-5)
    rng = np.random.default_rng(0)
    out = {"F": cpu(lambda: loss(params))}
    for d in dists:
        def step(d=d):
            _, g = dn.forward_gradient(loss, params, rng=rng, distribution=d, dense=False); opt.step(g)
        out["FG " + d] = cpu(step)
        vs = fg.sample_directions(rng, list(params.values()), 1, d); vt = dict(zip(params, vs))
        out["J " + d] = cpu(lambda: dn.jvp(loss, (params,), (vt,), batched=True))
        out["sample " + d] = cpu(lambda: fg.sample_directions(rng, list(params.values()), 1, d))
else:
    import torch, torch.nn.functional as tF
    torch.set_num_threads(1)
    dm = __import__("dualnum").nn  # weights from dualnum for parity is not needed here
    model = ts.build_torch(spec); tx = torch.from_numpy(x); ty = torch.from_numpy(y)
    opt = torch.optim.SGD(model.parameters(), lr=1e-5)
    def bp():
        opt.zero_grad(); tF.cross_entropy(model(tx), ty).backward(); opt.step()
    def f():
        with torch.no_grad(): tF.cross_entropy(model(tx), ty)
    out = {"torch F": cpu(f), "torch BP": cpu(bp)}
print(name, " ".join(f"{k}={v:.1f}" for k, v in out.items()))
