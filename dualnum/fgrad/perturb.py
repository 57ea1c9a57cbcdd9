r"""One forward-gradient evaluation: weight or activity perturbation, with or without
local losses, in one batched forward pass.

The pass opens a perturbation level of its own (:mod:`dualnum.core.levels`) and runs
``f`` once. Layers that own parameters (``dn.nn.Linear``, ``dn.nn.Conv2d``) report to
the running evaluation through :func:`layer_output`, and ``dn.nn.LocalHead`` through
:func:`local_head`; outside an evaluation both return their input untouched, so models
run as usual everywhere else.

Weight perturbation (Baydin, Pearlmutter, Syme, Wood, Torr, "Gradients without
Backpropagation", 2022): every parameter leaf carries K random directions; the loss's
tangent gives d_k = ∇f·v_k.

Activity perturbation (Ren, Kornblith, Liao, Hinton, "Scaling Forward Gradient with
Local Losses", ICLR 2023): parameters carry no tangent. At each layer's pre-activation
z = layer(x) the evaluation adds K_l fresh tangent slots holding per-example directions
u (a slot is one entry of the tangent batch), so the tangent batch grows layer by layer
and each layer's slots travel only through the layers above it. The per-example loss's
tangent in layer l's slots is d[k, b] = ∇_{z_b} ℓ_b · u[k, b]; combining them
(:mod:`dualnum.fgrad.combine`) estimates ĝ_z, and the weight gradient is the layer's
local product with its own input, e.g. ĝ_zᵀ x for a Linear layer, exact given ĝ_z. No
signal travels backwards through layers. The estimate's variance scales with the width
of z (per example), not with the number of weights; with ``"projection"`` and K ≥ the
width the layer's slots are the standard basis and ĝ_z is exact.

Local losses (same paper): a ``dn.nn.LocalHead`` gives the block of layers before it a
loss of its own (its head's output under ``local_loss``) and passes its input on with
this evaluation's tangent removed, so no gradient crosses a block boundary. Each block's
parameters are estimated from its own loss's tangent, and with activity perturbation its
tangent batch starts empty. Both perturbations compose with local losses.

Windows (activity perturbation, ``LocalHead(pool=k)``): the head reads the block's output
h only through s = avg_pool2d(h, k). When the block's last layer is a convolution whose
output relates to h position by position (activations, non-overlapping pooling, so that
each window of it feeds one position of h), every window reaches the loss through its own
cell of s. Its directional derivatives are then read window by window, as ∇_s ℓ · (the
window's pooled tangent), and combined per (example, window): with projection and K ≥ the
window's size (channels × the pooling window) the window basis makes the convolution's
local gradient exact. ∇_s ℓ is exact too: the head's first Linear layer (when it gets its
basis slots) gives ∇ℓ at its output, and its weight maps it back to s (that layer's local
product with respect to its input); any other head gets one probe slot per entry of s. A
primal pass (:func:`make_plan`) finds the windowed layers and their windows first.
"""
from __future__ import annotations

import contextvars
import math

import numpy as np

from ..core import levels as _levels
from ..core.dual import Dual
from ..core.errors import ShapeError
from ..kernels import conv as _conv
from . import combine
from .directions import activity_directions, draw_key, sample_directions, slots_of
from .losses import check_per_example

__all__ = ["layer_output", "pre_activation_read", "local_head", "evaluate", "forward",
           "finish", "Result", "Partial"]

_RUN = contextvars.ContextVar("dualnum_fgrad_run", default=None)


# ------------------------------------------------------------------ hooks for layers
def layer_output(module, x, y):
    """Called by every parameterised layer with its input ``x`` and its output ``y`` (the
    pre-activation): returns ``y``, with activity tangents added while an activity
    perturbation runs. The layer's parameters are read from ``module.weight`` and
    ``module.bias``; its kind from ``module.local_product``."""
    run = _RUN.get()
    return y if run is None else run.layer(module, x, y)


def pre_activation_read():
    """Whether the running evaluation reads layers' pre-activations (activity
    perturbation adds its directions there): a layer may then not fuse its activation
    into its own op, as ``dn.nn.Sequential`` does for a Conv2d followed by a ReLU."""
    run = _RUN.get()
    return run is not None and run.activity


def local_head(module, h):
    """Called by ``dn.nn.LocalHead``: while an evaluation with local losses runs, records
    ``module.head(h)``'s loss for the block that ends here and returns ``h`` without this
    evaluation's tangent; otherwise returns ``h``."""
    run = _RUN.get()
    return h if run is None or run.local_loss is None else run.head(module, h)


# ------------------------------------------------------------------ local products
def _linear_grads(x, g):
    """(∂L/∂W, ∂L/∂b) of y = x Wᵀ + b given g = ∂L/∂y: gᵀx and Σ g over leading axes."""
    o = g.shape[-1]
    g2 = g.reshape(-1, o)
    return g2.T @ np.asarray(x).reshape(g2.shape[0], -1), g2.sum(axis=0)


def _conv2d_grads(x, g, weight_shape, stride, padding):
    """(∂L/∂W, ∂L/∂b) of y = conv2d(x, W) + b given g = ∂L/∂y (B, O, Ho, Wo): the
    unfolded input times g, one GEMM."""
    x = np.asarray(x)
    cols = _conv.im2col(x.reshape((-1,) + x.shape[-3:]), weight_shape[-2:], stride, padding)
    b, o = cols.shape[0], g.shape[1]
    g3 = g.reshape(b, o, -1)  # (B, O, Ho·Wo), the columns of im2col's (B, rows, Ho·Wo)
    gw = np.tensordot(g3, cols, axes=([0, 2], [0, 2]))
    return gw.reshape(weight_shape), g.sum(axis=(0, 2, 3))


def _local_grads(module, x, g):
    kind = getattr(module, "local_product", None)
    if kind == "linear":
        return _linear_grads(x, g)
    if kind == "conv2d":
        return _conv2d_grads(x, g, module.weight.shape, module.stride, module.padding)
    raise TypeError(f"{type(module).__name__} reports its pre-activations but has no local "
                    f"product ('linear' or 'conv2d'); activity perturbation cannot turn "
                    f"its activity gradient into a weight gradient")


# ------------------------------------------------------------------ the evaluation
class _Site:
    """A perturbed pre-activation: its layer, input, weight, directions and tangent
    slots. A windowed site (``window`` set) feeds a pooled LocalHead position by
    position; its directional derivatives are read per window, not from the loss's
    tangent."""

    __slots__ = ("module", "x", "u", "basis", "start", "stop", "leaves", "window",
                 "weight", "stream", "n_slots", "shape", "dtype")

    def __init__(self):
        self.window = None


class _Segment:
    """One loss and what it trains: a block ended by a LocalHead, or the rest of the
    model, ended by f's own loss."""

    __slots__ = ("sites", "slots", "loss", "leaves", "probe", "patch", "count")

    def __init__(self):
        self.sites, self.slots, self.loss, self.leaves = [], 0, None, set()
        self.probe = self.patch = None
        self.count = 0


class Result:
    """What :func:`evaluate` returns: ``value`` (f's loss, a float ndarray), ``grads``
    (one estimate per leaf, in leaf order), ``local_values`` (the local losses, one per
    LocalHead met, in order)."""

    __slots__ = ("value", "grads", "local_values")

    def __init__(self, value, grads, local_values):
        self.value, self.grads, self.local_values = value, grads, local_values


def _at(x, lvl):
    """(primal, tangent or None, K or None) of ``x`` seen from level ``lvl``."""
    if isinstance(x, Dual) and x.level is lvl:
        return x.primal, x._tangent, x._k
    return x, None, None


def _mean_value(v):
    v = np.asarray(v)
    return v.mean() if v.ndim else v


def _window_basis(window, shape, dtype):
    """The n = C·wh·ww unit directions of one (wh, ww) window, repeated in every window
    of an activation of ``shape`` (B, C, H, W): (n, B, C, H, W). Rows and columns past
    the last whole window (dropped by the pooling) get zeros."""
    wh, ww = window
    b, c, h, w = shape
    n = c * wh * ww
    eye = np.eye(n, dtype=dtype).reshape(n, c, wh, ww)
    u = np.zeros((n, 1, c, h, w), dtype)
    u[:, 0, :, :h - h % wh, :w - w % ww] = np.tile(eye, (1, 1, h // wh, w // ww))
    return np.broadcast_to(u, (n,) + tuple(shape))


def _windows_of(a, window, hh, wh_):
    """(..., C, H, W) -> (..., Hh·Wh, C·wh·ww): each window's entries, windows in
    row-major order (what is past the last whole window is dropped)."""
    wh, ww = window
    lead = a.shape[:-3]
    c = a.shape[-3]
    a = a[..., :hh * wh, :wh_ * ww].reshape(lead + (c, hh, wh, wh_, ww))
    nl = len(lead)
    perm = list(range(nl)) + [nl + 1, nl + 3, nl, nl + 2, nl + 4]
    return a.transpose(perm).reshape(lead + (hh * wh_, c * wh * ww))


def _from_windows(g, window, shape):
    """Inverse of :func:`_windows_of` for (B, Hh·Wh, C·wh·ww) -> (B, C, H, W), zeros past
    the last whole window."""
    wh, ww = window
    b, c, h, w = shape
    hh, wh_ = h // wh, w // ww
    a = g.reshape(b, hh, wh_, c, wh, ww).transpose(0, 3, 1, 4, 2, 5)
    out = np.zeros(shape, g.dtype)
    out[:, :, :hh * wh, :wh_ * ww] = a.reshape(b, c, hh * wh, wh_ * ww)
    return out


class _Run:
    """The state of one evaluation (or, with ``plan=None`` and ``planning``, of the
    primal pass that finds the blocks' shapes first)."""

    def __init__(self, s, level, key, leaves, local_loss, plan=None, planning=False,
                 blocks=None):
        self.s, self.level, self.key, self.blocks = s, level, key, blocks
        self.n_sites = 0
        self.activity = s["perturbation"] == "activity"
        self.index = {id(x): i for i, x in enumerate(leaves)}
        self.local_loss = local_loss
        self.segments = [_Segment()]
        self.plan, self.planning = plan, planning

    # ---------------------------------------------------------------- hooks
    def _leaves_of(self, module):
        out = []
        for name in ("weight", "bias"):
            p = getattr(module, name, None)
            if p is not None and id(p) in self.index:
                out.append((name, self.index[id(p)]))
        return out

    def layer(self, module, x, y):
        if not self.activity:
            if self.local_loss is not None:  # which block's loss trains this layer
                self.segments[-1].leaves.update(i for _, i in self._leaves_of(module))
            return y
        seg = self.segments[-1]
        leaves = self._leaves_of(module)
        if not leaves:  # a frozen layer (its parameters are not being trained)
            return y
        if self.planning:
            seg.sites.append((module, np.shape(y)))
            return y
        yp, yt, kc = _at(y, self.level)
        shape = np.shape(yp)
        if len(shape) < 2:
            raise ValueError(f"activity perturbation needs a batch axis: "
                             f"{type(module).__name__} returned shape {shape}")
        window = None
        if self.plan is not None:
            planned = self.plan[len(self.segments) - 1]
            if planned is not None and planned[0] == seg.count:
                window = planned[1]
        seg.count += 1
        self.n_sites += 1  # stream 0 is weight perturbation's; layer l's is l + 1
        k = self.s["n_directions"]
        proj = self.s["combination"] == "projection"
        n = shape[1] * window[0] * window[1] if window else math.prod(shape[1:])
        basis = proj and k >= n
        if window and self.blocks is not None:
            raise ValueError(
                f"{type(module).__name__}'s directional derivatives are read window by window "
                f"for a pooled dn.nn.LocalHead, which needs every slot of its block in one "
                f"evaluation; evaluate all blocks (blocks=None), not a share of them")
        if basis and window:
            u = _window_basis(window, shape, yp.dtype)
        else:
            u = activity_directions(self.key, self.n_sites, n if basis else k, shape,
                                    yp.dtype, self.s["distribution"], basis, self.blocks)
        old = seg.slots
        if yt is None:
            parts = [np.zeros((old,) + shape, yp.dtype)] if old else []
        else:
            yt = np.asarray(yt)
            if kc < old:  # this path has not met the latest slots: zeros there
                yt = np.concatenate([yt, np.zeros((old - kc,) + shape, yt.dtype)])
            parts = [yt]
        site = _Site()
        site.module, site.u, site.basis, site.leaves = module, u, basis, leaves
        site.x, site.weight = _at(x, self.level)[0], getattr(module, "weight", None)
        site.start, site.stop, site.window = old, old + u.shape[0], window
        site.stream, site.n_slots = self.n_sites, n if basis else k
        site.shape, site.dtype = shape, yp.dtype
        seg.sites.append(site)
        if not u.shape[0]:  # this share holds none of this layer's directions
            return y
        seg.slots = site.stop
        t = np.concatenate(parts + [u]) if parts else np.ascontiguousarray(u)
        return Dual._new(yp, t, seg.slots, self.level)

    def head(self, module, h):
        seg = self.segments[-1]
        if not self.activity:
            seg.loss = self.local_loss(module.head(module.head_input(h)))
            self.segments.append(_Segment())
            return _at(h, self.level)[0]
        if self.planning:  # the block's own last site, before the head adds its own
            seg.loss = (getattr(module, "pool", None), np.shape(h),
                        seg.sites[-1] if seg.sites else None, len(seg.sites) - 1)
            module.head(module.head_input(h))
            self.segments.append(_Segment())
            return h
        last = seg.sites[-1] if seg.sites and isinstance(seg.sites[-1], _Site) else None
        if last is not None and last.window is not None:
            s_in = self._probe(module, h, seg, last)
        else:
            s_in = module.head_input(h)
        seg.loss = self.local_loss(module.head(s_in))
        self.segments.append(_Segment())
        return _at(h, self.level)[0]

    def _probe(self, module, h, seg, site):
        """The head's input for a windowed block: the other sites' slots pooled as
        usual. The windowed site's slots stay behind; :meth:`_window_derivatives` reads
        them against ∇_s ℓ, the loss's gradient at the pooled vector s, which comes
        exactly from the head's first layer when it is a trained Linear narrow enough to
        get its standard basis (its activity gradient times its weight, its local
        product with respect to its input), and otherwise from one probe slot per entry
        of s (its standard basis)."""
        hp, ht, kc = _at(h, self.level)
        ht = np.zeros((seg.slots,) + hp.shape, hp.dtype) if ht is None else np.asarray(ht)
        if kc is not None and kc < seg.slots:
            ht = np.concatenate([ht, np.zeros((seg.slots - kc,) + hp.shape, ht.dtype)])
        a = site.start
        seg.patch = (ht[a:site.stop], hp.shape, module.pool)
        sp = np.asarray(module.head_input(hp))
        m = sp.shape[1]
        parts = []
        if a:
            pooled = np.asarray(module.head_input(ht[:a].reshape((-1,) + hp.shape[1:])))
            parts.append(pooled.reshape(a, sp.shape[0], m))
        first = module.head
        while isinstance(getattr(first, "_modules", None), dict) and \
                getattr(first, "local_product", None) is None and len(first._modules):
            first = next(iter(first._modules.values()))  # a Sequential's first layer
        if getattr(first, "local_product", None) == "linear" and self._leaves_of(first) \
                and self.s["combination"] == "projection" \
                and first.out_features <= self.s["n_directions"]:
            seg.probe, seg.slots = first, a
            return Dual._new(sp, np.concatenate(parts), a, self.level) if parts else sp
        eye = np.eye(m, dtype=sp.dtype)[:, None, :]
        parts.append(np.broadcast_to(eye, (m,) + sp.shape))
        seg.probe = (a, a + m)
        seg.slots = a + m
        return Dual._new(sp, np.concatenate(parts), seg.slots, self.level)

    # ---------------------------------------------------------------- results
    def _tangent(self, loss, k):
        """The loss's tangent at this level: (k,) + loss shape, zeros if constant."""
        p, t, kc = _at(loss, self.level)
        p = np.asarray(p)
        if t is None:
            return np.zeros((k,) + p.shape, p.dtype)
        t = np.asarray(t)
        if kc < k:
            t = np.concatenate([t, np.zeros((k - kc,) + p.shape, t.dtype)])
        return t

    def _clip(self, d):
        c = self.s["clip"]
        return d if c is None else np.clip(d, -c, c)

    def derivatives(self):
        """This evaluation's directional derivatives, one array per segment (weight
        perturbation: (K,)) or per site (activity: (slots, B), or (K, B, windows) for a
        windowed site), over the slots of its blocks, in order."""
        if not self.activity:
            k = len(slots_of(self.blocks, self.s["n_directions"]))
            return [np.asarray(self._tangent(seg.loss, k), np.float64)
                    for seg in self.segments]
        out = []
        for seg in self.segments:
            if not seg.sites:
                continue
            d = self._tangent(seg.loss, seg.slots)  # (slots, B)
            for site in seg.sites:
                out.append(self._window_derivatives(seg, d) if site.window is not None
                           else d[site.start:site.stop])
        return out

    def counts(self):
        """The number of directions of each array :meth:`derivatives` returns, when all
        blocks are evaluated."""
        if not self.activity:
            return [self.s["n_directions"]] * len(self.segments)
        return [site.n_slots for seg in self.segments for site in seg.sites]

    def weight_grads(self, vs, leaves, dense, derivatives):
        k = self.s["n_directions"]
        grads = [None] * len(leaves)
        single = len(self.segments) == 1  # one loss: every leaf belongs to it
        for seg, d in zip(self.segments, derivatives):
            d = self._clip(np.asarray(d, np.float64))
            idx = range(len(leaves)) if single else sorted(seg.leaves)
            if self.s["combination"] == "projection":
                gram = np.zeros((k, k))
                for i in idx:
                    f = np.asarray(vs[i], np.float64).reshape(k, -1)
                    gram += f @ f.T
                w = combine.project_weights(gram, d)
            else:
                w = d / k
            for i in idx:
                grads[i] = combine.weighted(vs[i], w, dense)
        missing = [i for i, g in enumerate(grads) if g is None]
        if missing:
            raise ValueError(
                f"with local losses every parameter must belong to a dn.nn layer that the "
                f"evaluation saw (Linear, Conv2d); parameter leaves {missing} were not met, "
                f"so no loss is known for them")
        return grads

    @staticmethod
    def _window_derivatives(seg, d):
        """d[k, b, p] = ∇_{z} ℓ_b · u_k restricted to window p, for the windowed site:
        the pooled map is linear, so the loss sees window p's tangent only through its
        cell of s, and ∇_s ℓ (the probe slots' tangent) turns it into a number."""
        ht, shape, pool = seg.patch  # (K, B, C, Hh, Wh)
        if isinstance(seg.probe, tuple):
            gs = d[seg.probe[0]:seg.probe[1]].T  # (B, m)
        else:  # the head's first Linear: ∇ at its output (its basis slots) times W
            site = next(t for t in seg.sites if t.module is seg.probe)
            gs = d[site.start:site.stop].T @ np.asarray(site.weight)
        b, c, hh, wh_ = shape
        gh, gw = hh // pool, wh_ // pool
        g = np.ascontiguousarray(gs).reshape(b, c, gh, gw) / (pool * pool)
        up = np.zeros((b, c, hh, wh_), g.dtype)
        up[:, :, :gh * pool, :gw * pool] = np.repeat(np.repeat(g, pool, 2), pool, 3)
        k = ht.shape[0]
        dk = np.einsum("kbcp,bcp->kbp", ht.reshape(k, b, c, -1), up.reshape(b, c, -1))
        return dk  # (K, B, Hh·Wh)

    def _directions(self, site):
        """All of a site's directions (an evaluation of a share drew only its own)."""
        if self.blocks is None:
            return site.u
        return activity_directions(self.key, site.stream, site.n_slots, site.shape,
                                   site.dtype, self.s["distribution"], site.basis)

    def activity_grads(self, leaves, derivatives):
        grads = [None] * len(leaves)
        proj = self.s["combination"] == "projection"
        sites = [site for seg in self.segments for site in seg.sites]
        for site, d in zip(sites, derivatives):
            b = site.shape[0]
            if site.window is not None:
                gz = self._windowed_grad(site, self._clip(d), proj)
            else:
                ds = self._clip(d)
                if site.basis:  # the projection onto everything: d is ∇_z ℓ itself
                    gz = np.ascontiguousarray(ds.T).reshape(site.shape)
                elif proj:
                    gz = combine.project_per_example(self._directions(site), ds)
                else:
                    gz = combine.mean_per_example(self._directions(site), ds)
            gz = (gz / b).astype(site.dtype, copy=False)
            gw, gb = _local_grads(site.module, site.x, gz)
            for name, i in site.leaves:
                g = gw if name == "weight" else gb
                g = g.astype(leaves[i].dtype, copy=False)
                grads[i] = g if grads[i] is None else grads[i] + g
        missing = [i for i, g in enumerate(grads) if g is None]
        if missing:
            raise ValueError(
                f"activity perturbation estimates the weight and bias of dn.nn.Linear and "
                f"dn.nn.Conv2d layers from their pre-activations; parameter leaves "
                f"{missing} are not one of those (or were not used): train them with "
                f"perturbation='weight'")
        return grads

    @staticmethod
    def _windowed_grad(site, dk, proj):
        """ĝ_z of a windowed site from its per-window derivatives dk (K, B, P): every
        (example, window) pair is combined on its own."""
        shape = site.u.shape[1:]
        b, c, h, w = shape
        window = site.window
        hh, wh_ = h // window[0], w // window[1]
        k = dk.shape[0]
        if site.basis:  # slot j is entry j of every window: dk holds ∇ itself
            g = np.ascontiguousarray(np.moveaxis(dk, 0, -1))  # (B, P, n)
            return _from_windows(g, window, shape)
        uw = _windows_of(site.u, window, hh, wh_)  # (K, B, P, n)
        uw = uw.reshape(k, -1, uw.shape[-1])
        dkf = dk.reshape(k, -1)
        g = (combine.project_per_example(uw, dkf) if proj
             else combine.mean_per_example(uw, dkf))
        return _from_windows(g.reshape(b, hh * wh_, -1), window, shape)


def make_plan(f, leaves, s, local_loss):
    """For each block, the site to read window by window and its window, or None: the
    last layer of a block ended by a ``LocalHead(pool=...)`` when its output (B, C, H, W)
    and the block's output (B, C, Hh, Wh) have the same channels and H ≥ Hh, W ≥ Wh
    (the layers between act position by position or pool whole windows). Found by one
    primal pass of ``f``."""
    run = _Run(s, None, None, leaves, local_loss, planning=True)
    token = _RUN.set(run)
    try:
        f(leaves)
    finally:
        _RUN.reset(token)
    plan = []
    for seg in run.segments[:-1]:
        pool, hshape, last, index = seg.loss
        entry = None
        if pool is not None and last is not None:
            module, zshape = last
            if getattr(module, "local_product", None) == "conv2d" and len(zshape) == 4 \
                    and len(hshape) == 4 and zshape[:2] == hshape[:2] \
                    and zshape[2] >= hshape[2] and zshape[3] >= hshape[3]:
                entry = (index, (zshape[2] // hshape[2], zshape[3] // hshape[3]))
        plan.append(entry)
    plan.append(None)
    return plan


class Partial:
    """What the forward pass of an evaluation leaves (:func:`forward`): ``value`` and
    ``local_values`` as in :class:`Result`, ``derivatives`` (the directional derivatives
    of the evaluated blocks, one array per segment or site, see ``_Run.derivatives``),
    ``counts`` (each array's number of directions over all blocks), ``key``, ``blocks``,
    and what :func:`finish` needs: the layers' inputs, the blocks' structure."""

    __slots__ = ("run", "value", "local_values", "derivatives", "counts", "vs", "key",
                 "blocks", "leaves", "td")


def forward(f, leaves, s, key, *, blocks=None, local_loss=None, plan=None):
    """The forward pass of an evaluation (see :func:`evaluate`) with the directions of
    ``key`` (:func:`~dualnum.fgrad.directions.draw_key`), for the direction blocks
    ``blocks`` only (None: all; ``()``: none, a primal pass that records what
    :func:`finish` needs). Returns a :class:`Partial`.

    Every direction is a pure function of (key, stream, block), and each direction's
    derivative is computed by the same kernels whichever other blocks share the pass,
    so the derivatives of a share are those of the whole (bit for bit where the BLAS
    products of the tangent batch are computed row by row, as single-threaded OpenBLAS
    does): the shares of several processes assemble into the single-process result."""
    k = s["n_directions"]
    if plan is None and s["perturbation"] == "activity" and local_loss is not None:
        plan = make_plan(f, leaves, s, local_loss)
    lvl, token = _levels.open_level("forward_gradient")
    try:
        vs = None
        if s["perturbation"] == "weight":
            vs = sample_directions(key, leaves, k, s["distribution"], blocks)
            kb = len(slots_of(blocks, k))
            args = [Dual._new(x, v, kb, lvl) for x, v in zip(leaves, vs)] if kb \
                else list(leaves)
        else:
            args = list(leaves)
        run = _Run(s, lvl, key, args, local_loss, plan=plan, blocks=blocks)
        rtoken = _RUN.set(run)
        try:
            out = f(args)
        finally:
            _RUN.reset(rtoken)
        value = np.asarray(_at(out, lvl)[0])
        if value.dtype.kind not in "fiub":
            raise TypeError(f"f must return a loss (numbers), got dtype {value.dtype}")
        if run.activity:
            batch = _batch_of(run)
            check_per_example(out, batch, "f")
            for seg in run.segments[:-1]:
                check_per_example(seg.loss, batch, "local_loss")
        else:
            named = [("f", out)] + [("local_loss", seg.loss) for seg in run.segments[:-1]]
            for what, loss in named:
                shape = np.shape(_at(loss, lvl)[0])
                if shape != ():
                    raise ShapeError(
                        f"forward_gradient needs {what} to return a scalar, got shape "
                        f"{shape}; take the mean of per-example losses (or use "
                        f"perturbation='activity', which takes them per example)")
        run.segments[-1].loss = out
        part = Partial()
        part.run, part.vs, part.key, part.blocks = run, vs, key, blocks
        part.derivatives, part.counts = run.derivatives(), run.counts()
        part.local_values = [float(_mean_value(_at(seg.loss, lvl)[0]))
                             for seg in run.segments[:-1]]
        part.value = _mean_value(value)
        for seg in run.segments:  # the tangents are read: keep only the primals
            seg.loss = None
        return part
    finally:
        _levels.close_level(lvl, token)


def finish(part, leaves, derivatives, dense=True):
    """The :class:`Result` of an evaluation from its :class:`Partial` (any share of the
    blocks, even none) and ``derivatives``, the derivatives of all blocks (as
    ``part.derivatives`` holds them when ``part`` evaluated all of them)."""
    run = part.run
    if len(derivatives) != len(part.counts):
        raise ValueError(f"finish needs {len(part.counts)} arrays of derivatives (one per "
                         f"segment or layer), got {len(derivatives)}")
    for i, (d, n) in enumerate(zip(derivatives, part.counts)):
        if np.shape(d)[:1] != (n,):
            raise ShapeError(f"derivatives[{i}] must hold {n} directions (axis 0), got "
                             f"shape {np.shape(d)}")
    if run.activity:
        grads = run.activity_grads(leaves, derivatives)
    else:
        vs = part.vs if part.blocks is None else sample_directions(
            part.key, leaves, run.s["n_directions"], run.s["distribution"])
        grads = run.weight_grads(vs, leaves, dense, derivatives)
    return Result(part.value, grads, part.local_values)


def evaluate(f, leaves, s, rng, *, local_loss=None, dense=True, plan=None):
    """Run ``f(leaves)`` once under settings ``s`` (from :func:`~dualnum.fgrad._checks.
    settings`) and return a :class:`Result`. ``leaves`` is a list of float arrays; ``f``
    returns the loss: a scalar, or per-example losses (required by activity
    perturbation), whose mean is the objective. ``local_loss(head_output)`` gives each
    LocalHead's loss (the same kind as f's); without it LocalHeads are inactive.
    ``plan`` (from :func:`make_plan`) names the windowed sites; activity perturbation with
    local losses makes one when it is None. The directions come from one key drawn from
    ``rng``: :func:`forward` with all blocks, then :func:`finish`."""
    part = forward(f, leaves, s, draw_key(rng), local_loss=local_loss, plan=plan)
    return finish(part, leaves, part.derivatives, dense)


def _batch_of(run):
    for seg in run.segments:
        for site in seg.sites:
            return site.shape[0]
    raise ValueError("activity perturbation found no layer to perturb: f ran no dn.nn.Linear "
                     "or dn.nn.Conv2d layer with the given parameters")
