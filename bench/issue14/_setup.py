"""The dualnum side shared by the issue-14 scripts: one of bench/train_step.py's models on
its batch, and a forward-gradient step with SGD (every setting at its default unless
given)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np  # noqa: E402

import train_step as ts  # noqa: E402


def dualnum_step(name, **fg):
    """(step, model, params, loss) for model ``name`` of bench/train_step.py; ``step()``
    is ``dn.forward_gradient(loss, params, rng=rng, **fg)`` then ``SGD.step(g)``."""
    import dualnum as dn

    spec, in_shape, _ = ts.arch(name, False)
    x, y, _ = ts.load_batch(64, "auto", 0)
    x = x.reshape((64,) + in_shape)
    model = ts.build_dualnum(spec, 0)
    params = dict(model.named_parameters())
    loss = ts.dualnum_loss(model, x, y)
    opt = dn.optim.SGD(params, lr=1e-5)
    rng = np.random.default_rng(0)

    def step():
        _, g = dn.forward_gradient(loss, params, rng=rng, **fg)
        opt.step(g)

    return step, model, params, loss
