"""SGD, Adam and AdamW with PyTorch's update formulas, over pytrees of ndarrays.

dualnum has no autograd, so gradients are handed to :meth:`Optimizer.step` explicitly, as
a pytree shaped like the parameters (from ``dn.grad`` or ``dn.forward_gradient``). Steps
update the parameter arrays **in place**: give the optimizer
``dict(model.named_parameters())`` and the model's own arrays change.

>>> import numpy as np, dualnum as dn
>>> model = dn.nn.Linear(3, 1, rng=0)
>>> params = dict(model.named_parameters())
>>> opt = dn.optim.SGD(params, lr=0.1)
>>> before = model.bias.copy()
>>> opt.step({"weight": np.zeros((1, 3)), "bias": np.ones(1)})
>>> bool(np.allclose(model.bias, before - 0.1))
True
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..core.errors import ShapeError
from ..core.pytree import check_same_structure

__all__ = ["Optimizer", "SGD", "Adam", "AdamW"]


def _named_leaves(tree, prefix=()):
    """``(dotted name, leaf)`` in pytree order: dict keys and list indices joined by '.'."""
    if isinstance(tree, (list, tuple)):
        for i, x in enumerate(tree):
            yield from _named_leaves(x, prefix + (str(i),))
    elif isinstance(tree, dict):
        for k, x in tree.items():
            yield from _named_leaves(x, prefix + (str(k),))
    elif tree is not None:
        yield ".".join(prefix), tree


def _paired_leaves(params, grads):
    """``(param leaf, grad leaf or None)`` for same-structured trees (grads may hold None
    where params have a leaf)."""
    if isinstance(params, (list, tuple)):
        for p, g in zip(params, grads):
            yield from _paired_leaves(p, g)
    elif isinstance(params, dict):
        for k in params:
            yield from _paired_leaves(params[k], grads[k])
    elif params is not None:
        yield params, grads


def _as_tree(x):
    # Accept model.parameters() (a generator) as PyTorch does.
    if isinstance(x, (dict, list, tuple, np.ndarray)) or x is None:
        return x
    if hasattr(x, "__iter__"):
        return list(x)
    return x


def _hyper(value, what, *, lo=0.0, hi=None, hi_open=False):
    """A real hyperparameter in ``[lo, hi]`` (``[lo, hi)`` with ``hi_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite real number, got {value!r}")
    if value < lo or (hi is not None and (value >= hi if hi_open else value > hi)):
        span = f"[{lo}, {hi})" if hi_open else (f"[{lo}, {hi}]" if hi is not None else f">= {lo}")
        raise ValueError(f"invalid {what}: {value!r} (must be in {span})")
    return float(value)


def _check_lr(lr):
    if callable(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) \
            or lr <= 0:
        raise ValueError(f"invalid learning rate: {lr!r} (must be a positive number or a "
                         f"schedule, a callable of the step index)")
    return float(lr)


class Optimizer:
    """Base class. Subclasses list their per-parameter state in ``_state_keys`` and define
    ``_update(name, p, g, lr)``, which changes the array ``p`` in place.

    ``params`` is a pytree (dict, list, tuple, nested) of floating ndarrays, or an
    iterable of them such as ``model.parameters()``. ``lr`` is a positive number or a
    schedule (:mod:`dualnum.optim.schedules`), a callable of the number of steps taken.
    Hyperparameters are attributes (``opt.lr = 0.01`` changes the learning rate).

    A new optimizer subclasses it:

    >>> import numpy as np, dualnum as dn
    >>> class SignSGD(dn.optim.Optimizer):
    ...     def _update(self, name, p, g, lr):
    ...         p -= lr * np.sign(g)
    >>> w = {"w": np.array([1.0, 1.0])}
    >>> SignSGD(w, lr=0.5).step({"w": np.array([3.0, -0.1])})
    >>> w["w"]
    array([0.5, 1.5])
    """

    _state_keys: tuple = ()

    def __init__(self, params, lr):
        self.params = _as_tree(params)
        named = list(_named_leaves(self.params))
        if not named:
            raise ValueError("optimizer got an empty parameter list")
        seen_names, seen_arrays = set(), {}
        for name, p in named:
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                kind = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
                raise TypeError(f"parameter {name!r} must be a floating ndarray (it is updated "
                                f"in place), got {kind}")
            if not p.flags.writeable:
                raise ValueError(f"parameter {name!r} is a read-only array")
            if name in seen_names:
                raise ValueError(f"two parameters are both named {name!r}")
            if id(p) in seen_arrays:
                raise ValueError(f"parameters {seen_arrays[id(p)]!r} and {name!r} are the same "
                                 f"array; list it once")
            seen_names.add(name)
            seen_arrays[id(p)] = name
        self._names = [name for name, _ in named]
        self._arrays = [p for _, p in named]
        self.lr = lr
        self.step_count = 0
        self.state = {name: {} for name in self._names}

    @property
    def lr(self):
        """The learning rate as given: a number or a schedule."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _check_lr(value)

    @property
    def current_lr(self):
        """The learning rate the next :meth:`step` uses (a schedule evaluated at
        ``step_count``).

        >>> import numpy as np, dualnum as dn
        >>> opt = dn.optim.SGD({"w": np.ones(1)}, lr=dn.optim.StepDecay(1.0, 1, gamma=0.5))
        >>> opt.step({"w": np.ones(1)})
        >>> opt.current_lr
        0.5
        """
        if not callable(self._lr):
            return self._lr
        lr = self._lr(self.step_count)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) \
                or lr < 0:
            raise ValueError(f"the schedule {self._lr!r} gave learning rate {lr!r} at step "
                             f"{self.step_count}")
        return float(lr)

    def step(self, grads):
        """Update every parameter in place from ``grads``, a pytree shaped like the
        parameters; a ``None`` gradient leaves its parameter (and its state) alone.
        Nothing is updated unless every gradient's shape matches its parameter's.

        >>> import numpy as np, dualnum as dn
        >>> p = {"a": np.ones(2), "b": np.ones(1)}
        >>> opt = dn.optim.SGD(p, lr=0.5)
        >>> opt.step({"a": np.array([1.0, 2.0]), "b": None})
        >>> p
        {'a': array([0.5, 0. ]), 'b': array([1.])}
        """
        grads = _as_tree(grads)
        check_same_structure(self.params, grads, ("params", "grads"),
                             leaf_ok=lambda p, g: g is None)
        work = []
        for name, (p, g) in zip(self._names, _paired_leaves(self.params, grads)):
            if g is None:
                continue
            structured = getattr(g, "is_structured_tangent", False)
            if structured and not self._takes_structured():
                g = np.asarray(g)  # materialise factored estimates this update cannot use
                structured = False
            if not structured:
                g = np.asarray(g)
            if g.shape != p.shape:
                raise ShapeError(f"grads[{name!r}] has shape {g.shape} but the parameter has "
                                 f"shape {p.shape}")
            if g.dtype.kind not in "fiub":
                raise TypeError(f"grads[{name!r}] has dtype {g.dtype}; gradients must be real")
            work.append((name, p, g if structured else g.astype(p.dtype, copy=False)))
        lr = self.current_lr
        for name, p, g in work:
            self._update(name, p, g, lr)
        self.step_count += 1

    def _update(self, name, p, g, lr):
        raise NotImplementedError

    def _takes_structured(self):
        """Whether _update applies factored (LowRank) gradients without densifying."""
        return False

    def _required_state(self):
        """The state keys each parameter has once it has been stepped."""
        return set(self._state_keys)

    # ------------------------------------------------------------ checkpoints
    def state_dict(self):
        """The optimizer's state as ``{key: ndarray}`` copies: ``"step_count"`` and, per
        parameter and kind of state, ``"<kind>.<parameter name>"`` (e.g.
        ``"exp_avg.0.weight"``). Save with ``np.savez(path, **sd)``; no pickles.
        Hyperparameters and schedules are not included: they come from the constructor.

        >>> import numpy as np, dualnum as dn
        >>> opt = dn.optim.SGD({"w": np.ones(2)}, lr=0.1, momentum=0.9)
        >>> opt.step({"w": np.ones(2)})
        >>> sorted(opt.state_dict())
        ['momentum_buffer.w', 'step_count']
        """
        sd = {"step_count": np.array(self.step_count, dtype=np.int64)}
        for name in self._names:
            for kind, value in self.state[name].items():
                sd[f"{kind}.{name}"] = np.array(value)
        return sd

    def load_state_dict(self, state_dict):
        """Restore state saved by :meth:`state_dict` (any mapping, e.g. ``np.load``'s
        result). Every problem (unknown keys, a parameter with part of its state, a shape
        that differs from the parameter's) is collected into one ``ValueError``, and
        nothing is changed unless all is well.

        >>> import numpy as np, dualnum as dn
        >>> a = dn.optim.Adam({"w": np.ones(2)}, lr=0.1)
        >>> a.step({"w": np.ones(2)})
        >>> b = dn.optim.Adam({"w": np.ones(2)}, lr=0.1)
        >>> b.load_state_dict(a.state_dict())
        >>> b.step_count, int(b.state["w"]["step"])
        (1, 1)
        """
        errors = []
        keys = list(state_dict.keys())
        by_name = {name: {} for name in self._names}
        shapes = dict(zip(self._names, (p.shape for p in self._arrays)))
        required = self._required_state()
        step_count = None
        for key in keys:
            value = np.asarray(state_dict[key])
            if key == "step_count":
                if value.shape != () or value.dtype.kind not in "iu" or value < 0:
                    errors.append(f"step_count must be a non-negative integer, got {value!r}")
                else:
                    step_count = int(value)
                continue
            kind, _, name = key.partition(".")
            if kind not in required or name not in by_name:
                errors.append(f"unexpected key {key!r}")
                continue
            want = () if kind == "step" else shapes[name]
            if value.shape != want:
                errors.append(f"size mismatch for {key}: shape {value.shape} in the state "
                              f"dict, {want} expected")
                continue
            by_name[name][kind] = value
        if step_count is None:
            errors.append("missing key 'step_count'")
        for name, got in by_name.items():
            if got and set(got) != required:
                errors.append(f"parameter {name!r} has state {sorted(got)} but needs "
                              f"{sorted(required)}")
        if errors:
            raise ValueError(f"cannot load the state dict into {type(self).__name__}:\n\t"
                             + "\n\t".join(errors))
        self.step_count = step_count
        for name, p in zip(self._names, self._arrays):
            st = by_name[name]
            self.state[name] = {
                kind: (int(st[kind]) if kind == "step" else np.array(st[kind], dtype=p.dtype))
                for kind in self._state_keys if kind in st
            }

    def __repr__(self):
        hypers = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({hypers})"

    def _hyperparameters(self):
        return {"lr": self.lr}


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov momentum
    and (L2) weight decay, exactly as ``torch.optim.SGD``:

    .. code-block:: text

        g = grad + weight_decay * p
        b = g                                  (first step)
        b = momentum * b + (1 - dampening) * g (later steps)
        g = g + momentum * b  if nesterov else  b     (when momentum != 0)
        p = p - lr * g

    >>> import numpy as np, dualnum as dn
    >>> p = {"w": np.array([1.0, 2.0])}
    >>> opt = dn.optim.SGD(p, lr=0.5, momentum=0.9)
    >>> opt.step({"w": np.array([1.0, 1.0])}); p["w"]
    array([0.5, 1.5])
    >>> opt.step({"w": np.array([1.0, 1.0])}); p["w"]  # buffer 0.9 * 1 + 1
    array([-0.45,  0.55])
    """

    _state_keys = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        self.momentum = _hyper(momentum, "momentum")
        self.dampening = _hyper(dampening, "dampening")
        self.weight_decay = _hyper(weight_decay, "weight_decay")
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={momentum!r}, dampening={dampening!r}")
        self.nesterov = bool(nesterov)
        super().__init__(params, lr)

    def _required_state(self):
        return {"momentum_buffer"} if self.momentum else set()

    def _takes_structured(self):
        # Plain SGD (the paper's Algorithm 1) applies a rank-K estimate in one fused
        # pass; momentum and weight decay need the dense gradient.
        return not self.momentum and not self.weight_decay

    def _update(self, name, p, g, lr):
        if getattr(g, "is_structured_tangent", False):
            from ..kernels.update import subtract_structured

            subtract_structured(p, g, lr)
            return
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            state = self.state[name]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        from ..kernels.update import subtract_scaled

        subtract_scaled(p, g, lr)

    def _hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction, exactly as ``torch.optim.Adam``
    (``weight_decay`` adds an L2 term to the gradient; see :class:`AdamW` for decoupled
    decay). With step count t for the parameter:

    .. code-block:: text

        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                            (amsgrad only; then v := v_max)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    >>> import numpy as np, dualnum as dn
    >>> p = {"w": np.array([1.0])}
    >>> opt = dn.optim.Adam(p, lr=0.1)
    >>> opt.step({"w": np.array([3.0])}); p["w"]  # the first step moves by ~lr
    array([0.9])
    """

    _state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_hyper(betas[0], "beta parameter at index 0", hi=1.0, hi_open=True),
                      _hyper(betas[1], "beta parameter at index 1", hi=1.0, hi_open=True))
        self.eps = _hyper(eps, "epsilon value")
        self.weight_decay = _hyper(weight_decay, "weight_decay")
        self.amsgrad = bool(amsgrad)
        super().__init__(params, lr)

    def _required_state(self):
        keys = {"step", "exp_avg", "exp_avg_sq"}
        return keys | {"max_exp_avg_sq"} if self.amsgrad else keys

    def _update(self, name, p, g, lr):
        beta1, beta2 = self.betas
        state = self.state[name]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        if self.weight_decay:
            if self._decoupled:
                p *= 1 - lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        denom = np.sqrt(v) / math.sqrt(bias_correction2) + self.eps
        p -= (lr / bias_correction1) * (m / denom)

    def _hyperparameters(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), exactly as
    ``torch.optim.AdamW``: ``p = p * (1 - lr * weight_decay)`` first, then the Adam step
    on the plain gradient. The default ``weight_decay`` is ``1e-2``, as in PyTorch.

    >>> import numpy as np, dualnum as dn
    >>> p = {"w": np.array([1.0])}
    >>> opt = dn.optim.AdamW(p, lr=0.1, weight_decay=0.5)
    >>> opt.step({"w": np.array([0.0])}); p["w"]  # decay only: 1 * (1 - 0.1 * 0.5)
    array([0.95])
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
