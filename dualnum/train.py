"""Training loops: :func:`fit` runs a step budget with forward gradients (Baydin et al.
2022, "Gradients without Backpropagation") or exact forward-mode gradients, and
:func:`batches` cuts arrays into shuffled mini-batches.

A forward-gradient step samples K random directions ``v_k`` over all parameters, gets
the loss and every ``∇f·v_k`` from one batched forward pass, and hands the optimizer the
estimate ``mean_k (∇f·v_k) v_k``, so plain SGD does ``θ ← θ − η · d · v``.

>>> import numpy as np, dualnum as dn
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((256, 2)).astype(np.float32)
>>> y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
>>> model = dn.nn.Linear(2, 2, rng=0)
>>> opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1)
>>> result = dn.train.fit(model, dn.cross_entropy, dn.train.batches(x, y, 32, rng),
...                       steps=200, optimizer=opt, rng=rng, eval_data=(x, y))
>>> result.steps, result.eval_accuracy > 0.9
(200, True)
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from .core.dual import Dual
from .core.pytree import flatten, unflatten
from .nn.module import Module, functional_call
from .optim import Optimizer
from .fg import forward_gradient
from .transforms import grad

__all__ = ["fit", "evaluate", "batches", "Batches", "FitResult", "NonFiniteLossError",
           "GRADIENTS"]

#: The kinds of gradient :func:`fit` can train with.
GRADIENTS = ("forward", "exact")


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite.

    ``step`` is the (1-based) step whose loss it was, ``loss`` the value and ``result``
    the :class:`FitResult` of the steps before it. The failing step made no update, so
    the parameters are those after step ``step - 1`` (which may themselves be non-finite
    if that update overflowed; the message says so).

    >>> import dualnum as dn
    >>> err = dn.train.NonFiniteLossError("loss is nan at step 3", step=3, loss=float("nan"))
    >>> err.step, isinstance(err, ArithmeticError)
    (3, True)
    """

    def __init__(self, message, *, step, loss, result=None):
        super().__init__(message)
        self.step = step
        self.loss = loss
        self.result = result


# ===================================================================== batches
class Batches:
    """Mini-batches ``(x[idx], y[idx])`` of two arrays that share their first axis.

    Iterating gives one epoch; each epoch draws a fresh permutation from ``rng`` when
    ``shuffle`` is set, so a seeded generator gives the same batches on every run. The
    object can be iterated again and again, which is how :func:`fit` runs several epochs.
    ``len()`` is the number of batches per epoch. Build it with :func:`batches`.
    """

    def __init__(self, x, y, batch_size, rng=None, *, shuffle=True, drop_last=False):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
            raise ValueError(f"batches: x and y need the same first axis, got shapes "
                             f"{x.shape} and {y.shape}")
        if x.shape[0] == 0:
            raise ValueError("batches: x and y are empty")
        self.batch_size = _positive_int(batch_size, "batch_size")
        if shuffle and not isinstance(rng, np.random.Generator):
            raise TypeError(f"batches(shuffle=True) needs rng, a numpy.random.Generator, got "
                            f"{type(rng).__name__}; use numpy.random.default_rng(seed)")
        self.x, self.y, self.rng = x, y, rng
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        if drop_last and self.batch_size > x.shape[0]:
            raise ValueError(f"batches: batch_size {batch_size} is larger than the "
                             f"{x.shape[0]} examples and drop_last=True leaves no batch")

    def __len__(self):
        n = self.x.shape[0]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n, b = self.x.shape[0], self.batch_size
        stop = n - n % b if self.drop_last else n
        if self.shuffle:
            order = self.rng.permutation(n)
            for i in range(0, stop, b):
                idx = order[i:i + b]
                yield self.x[idx], self.y[idx]
        else:
            for i in range(0, stop, b):
                yield self.x[i:i + b], self.y[i:i + b]

    def __repr__(self):
        return (f"Batches(n={self.x.shape[0]}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


def batches(x, y, batch_size, rng=None, *, shuffle=True, drop_last=False):
    """Mini-batches of ``(x, y)``, reshuffled from ``rng`` every epoch (a :class:`Batches`).

    With ``shuffle=False`` (no ``rng`` needed) batches are consecutive slices. The last
    batch of an epoch is smaller when ``batch_size`` does not divide the number of
    examples, unless ``drop_last``.

    >>> import numpy as np, dualnum as dn
    >>> b = dn.train.batches(np.arange(5.0), np.arange(5), 2, np.random.default_rng(0))
    >>> len(b), [len(yb) for _, yb in b]
    (3, [2, 2, 1])
    >>> sorted(int(i) for _, yb in b for i in yb)  # every example once per epoch
    [0, 1, 2, 3, 4]
    """
    return Batches(x, y, batch_size, rng, shuffle=shuffle, drop_last=drop_last)


# ===================================================================== result
@dataclass
class FitResult:
    """What :func:`fit` returns.

    ``losses[i]`` and ``lrs[i]`` are the training loss (on that step's batch, before its
    update) and learning rate of step ``i + 1``. ``history`` holds the dicts given to the
    callback; ``evals`` the evaluations (``{"step", "eval_loss", "eval_accuracy"}``,
    accuracy only for classification). ``params`` is the optimizer's parameter tree, the
    very arrays that were trained.
    """

    params: object
    steps: int
    losses: np.ndarray
    lrs: np.ndarray
    seconds: float
    history: list = field(default_factory=list)
    evals: list = field(default_factory=list)

    @property
    def final_loss(self):
        """The training loss of the last step (nan if no step ran)."""
        return float(self.losses[-1]) if self.steps else math.nan

    @property
    def eval_loss(self):
        """The loss of the last evaluation, or None."""
        return self.evals[-1]["eval_loss"] if self.evals else None

    @property
    def eval_accuracy(self):
        """The accuracy of the last evaluation, or None (no evaluation, or not a
        classification)."""
        return self.evals[-1].get("eval_accuracy") if self.evals else None

    def __repr__(self):
        ev = f", eval_loss={self.eval_loss:.6g}" if self.evals else ""
        return (f"FitResult(steps={self.steps}, final_loss={self.final_loss:.6g}{ev}, "
                f"seconds={self.seconds:.3g})")


# ===================================================================== evaluation
def _is_array_pair(data):
    return (isinstance(data, tuple) and len(data) == 2
            and all(hasattr(a, "shape") for a in data))


def _eval_batches(data, batch_size):
    if _is_array_pair(data):
        x, y = data
        n = np.shape(x)[0]
        if np.shape(y)[0] != n:
            raise ValueError(f"eval data: x and y need the same first axis, got shapes "
                             f"{np.shape(x)} and {np.shape(y)}")
        for i in range(0, n, batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]
    else:
        yield from data


def _unpack(batch, what):
    try:
        x, y = batch
    except (TypeError, ValueError):
        raise TypeError(f"{what} must yield (x, y) pairs, got {type(batch).__name__}") \
            from None
    return x, y


def evaluate(model, loss_fn, data, *, params=None, batch_size=1024):
    """Loss and, for classification, accuracy of ``model`` on ``data``:
    ``{"loss": ..., "accuracy": ...}``.

    ``data`` is a pair of arrays ``(x, y)`` (run in chunks of ``batch_size``) or an
    iterable of ``(x, y)`` batches. The loss is the mean of ``loss_fn(model(x), y)`` over
    batches weighted by their size, which is the mean over examples when ``loss_fn``
    averages over its batch (as ``dn.cross_entropy`` and ``dn.mse`` do). ``accuracy`` is
    reported when the outputs are (N, C) scores with C > 1 and ``y`` holds N integer
    labels. A ``dn.nn.Module`` runs in evaluation mode with its own parameters (its
    previous modes are restored afterwards); any other callable is called as
    ``model(params, x)``.

    >>> import numpy as np, dualnum as dn
    >>> model = dn.nn.Linear(2, 2, rng=0)
    >>> x, y = np.ones((4, 2), np.float32), np.array([0, 1, 0, 1])
    >>> sorted(dn.train.evaluate(model, dn.cross_entropy, (x, y)))
    ['accuracy', 'loss']
    """
    batch_size = _positive_int(batch_size, "batch_size")
    if isinstance(model, Module):
        modes = [(m, m.training) for m in model.modules()]
        model.eval()

        def run(x):
            return model(x)
    else:
        if not callable(model):
            raise TypeError(f"model must be a dn.nn.Module or a callable model(params, x), "
                            f"got {type(model).__name__}")
        if params is None:
            raise ValueError("evaluate: a functional model(params, x) needs params=")
        modes = []

        def run(x):
            return model(params, x)
    total = correct = 0.0
    count = 0
    classify = True
    try:
        for batch in _eval_batches(data, batch_size):
            x, y = _unpack(batch, "eval data")
            out = run(x)
            loss = float(np.asarray(loss_fn(out, y)))
            y = np.asarray(y)
            n = y.shape[0] if y.ndim else 1
            total += loss * n
            count += n
            out = np.asarray(out.primal if isinstance(out, Dual) else out)
            if classify and out.ndim == 2 and out.shape[1] > 1 and y.shape == (out.shape[0],) \
                    and y.dtype.kind in "iu":
                correct += float(np.sum(np.argmax(out, axis=1) == y))
            else:
                classify = False
    finally:
        for m, mode in modes:
            m.training = mode
    if count == 0:
        raise ValueError("evaluate: data has no batches")
    res = {"loss": total / count}
    if classify:
        res["accuracy"] = correct / count
    return res


# ===================================================================== fit
def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _check_clip(clip):
    if clip is None:
        return None
    if isinstance(clip, bool) or not isinstance(clip, numbers.Real) or math.isnan(clip) \
            or clip <= 0:
        raise ValueError(f"clip must be a positive number (or None for no clipping), got "
                         f"{clip!r}")
    return float(clip)


def _objective(model, optimizer):
    """``(leaves, treedef, apply)``: the optimizer's parameter arrays as a flat list,
    its tree structure, and ``apply(leaves, x)`` running the model with them."""
    leaves, td = flatten(optimizer.params)
    if isinstance(model, Module):
        names_by_id = {id(p): name for name, p in model.named_parameters()}
        names = []
        for i, p in enumerate(leaves):
            name = names_by_id.get(id(p))
            if name is None:
                raise ValueError(
                    f"the optimizer's parameter #{i} (shape {np.shape(p)}) is not one of the "
                    f"model's parameter arrays; build the optimizer from "
                    f"dict(model.named_parameters())")
            names.append(name)

        def apply(ls, x):
            return functional_call(model, dict(zip(names, ls)), x)
    elif callable(model):
        def apply(ls, x):
            return model(unflatten(td, ls), x)
    else:
        raise TypeError(f"model must be a dn.nn.Module or a callable model(params, x), got "
                        f"{type(model).__name__}")
    return leaves, td, apply


def _forward_step(f, leaves, rng, k, distribution, clip, chunk):
    """(loss, gradient estimate as a list) from K directions, ``chunk`` per pass."""
    if chunk is None or chunk >= k:
        # One pass. Factored estimates ("outer") stay factored: the optimizer applies
        # them fused when it can and densifies them otherwise.
        return forward_gradient(f, leaves, rng=rng, n_directions=k,
                                distribution=distribution, clip=clip, dense=False)
    total = None
    for start in range(0, k, chunk):
        kc = min(chunk, k - start)
        value, g = forward_gradient(f, leaves, rng=rng, n_directions=kc,
                                    distribution=distribution, clip=clip)
        w = kc / k
        total = [w * gi for gi in g] if total is None else \
            [t + w * gi for t, gi in zip(total, g)]
    return value, [t.astype(x.dtype, copy=False) for t, x in zip(total, leaves)]


def fit(model, loss_fn, train_data, *, steps, optimizer, rng=None, gradient="forward",
        n_directions=1, distribution="normal", chunk_size=None, clip=None, eval_data=None,
        eval_every=None, eval_batch_size=1024, callback=None, log_every=1):
    """Train ``model`` for ``steps`` optimizer steps on batches from ``train_data``.

    Each step takes the next ``(x, y)`` batch, computes ``loss_fn(model(x), y)`` (a
    scalar, e.g. ``dn.cross_entropy``) and a gradient, and calls ``optimizer.step``:

    * ``gradient="forward"``: the forward gradient of Baydin et al. (2022), ``mean_k
      (∇f·v_k) v_k`` over ``n_directions`` random directions from ``distribution``
      (``"normal"``, ``"rademacher"``, ... as ``dn.forward_gradient`` offers), all in one
      batched forward pass, or in passes of ``chunk_size`` directions. ``clip`` limits
      every directional derivative ``∇f·v_k`` to ``[-clip, clip]`` (``clip=`` of
      ``dn.forward_gradient``), which stabilises early training at the price of a bias
      where it acts. Rank-one ``"outer"`` estimates reach the optimizer factored, so
      plain SGD applies them as a fused rank-K update.
    * ``gradient="exact"``: the exact gradient by forward mode (``dn.grad``), in passes
      of ``chunk_size`` basis directions: n / chunk_size passes for n parameters, the
      baseline for small models.

    ``model`` is a ``dn.nn.Module`` (run by ``dn.nn.functional_call`` in training mode;
    its previous modes are restored at the end) or a callable ``model(params, x)``. The
    parameters trained are ``optimizer.params``, updated in place; for a Module they must
    be the module's own arrays (``dict(model.named_parameters())``, or a subset of them to
    freeze the rest). ``train_data`` is an iterable of ``(x, y)`` batches: a re-iterable
    one (a list, :func:`batches`) is run epoch after epoch until ``steps`` is reached; a
    one-shot iterator must supply all of them.

    Every random direction comes from ``rng`` (a ``numpy.random.Generator``, required for
    forward gradients) and shuffling from the generator given to :func:`batches`, so the
    same seeds reproduce a run bit for bit. (Layers with their own generators, such as
    ``dn.nn.Dropout``, draw from those.)

    With ``eval_data`` (as for :func:`evaluate`) the model is evaluated every
    ``eval_every`` steps and after the last. ``callback(record)`` is called every
    ``log_every`` steps, at evaluations and after the last step, with a dict holding
    ``step`` (steps done), ``loss`` (that step's training loss), ``lr`` (its learning
    rate), ``seconds`` (since the start) and, after an evaluation, ``eval_loss`` and
    ``eval_accuracy`` (classification only). The same dicts are kept in
    ``result.history``.

    A NaN or infinite training loss stops training with :class:`NonFiniteLossError`
    naming the step; nothing garbage is returned. Returns a :class:`FitResult`.

    >>> import numpy as np, dualnum as dn
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((128, 3)).astype(np.float32)
    >>> y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    >>> model = dn.nn.Linear(3, 1, rng=0)
    >>> opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.05)
    >>> first = dn.train.evaluate(model, dn.mse, (x, y))["loss"]
    >>> result = dn.train.fit(model, dn.mse, dn.train.batches(x, y, 32, rng), steps=300,
    ...                       optimizer=opt, rng=rng, n_directions=4, eval_data=(x, y))
    >>> result.eval_loss < 0.01 * first
    True
    >>> sorted(result.history[-1])
    ['eval_loss', 'loss', 'lr', 'seconds', 'step']
    """
    # ------------------------------------------------------------ arguments
    steps = _positive_int(steps, "steps")
    if gradient not in GRADIENTS:
        raise ValueError(f"unknown gradient {gradient!r}; choose from {list(GRADIENTS)}")
    k = _positive_int(n_directions, "n_directions")
    from .fg import DISTRIBUTIONS

    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {distribution!r}; choose from "
                         f"{sorted(DISTRIBUTIONS)}")
    chunk = None if chunk_size is None else _positive_int(chunk_size, "chunk_size")
    clip = _check_clip(clip)
    if gradient == "exact" and clip is not None:
        raise ValueError(f"clip={clip!r} clips forward gradients' directional derivatives; "
                         f"it does not apply to gradient='exact'")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a dn.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")
    if gradient == "forward" and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                        f"use numpy.random.default_rng(seed)")
    if eval_every is not None:
        eval_every = _positive_int(eval_every, "eval_every")
        if eval_data is None:
            raise ValueError(f"eval_every={eval_every} needs eval_data")
    log_every = _positive_int(log_every, "log_every")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")

    leaves, td, apply = _objective(model, optimizer)
    is_module = isinstance(model, Module)
    modes = [(m, m.training) for m in model.modules()] if is_module else []
    eval_params = None if is_module else optimizer.params

    def run_eval(step):
        res = evaluate(model, loss_fn, eval_data, params=eval_params,
                       batch_size=eval_batch_size)
        rec = {"step": step, "eval_loss": res["loss"]}
        if "accuracy" in res:
            rec["eval_accuracy"] = res["accuracy"]
        return rec

    losses = np.full(steps, np.nan)
    lrs = np.full(steps, np.nan)
    history, evals = [], []
    start = time.perf_counter()

    def result(done):
        return FitResult(params=optimizer.params, steps=done, losses=losses[:done].copy(),
                         lrs=lrs[:done].copy(), seconds=time.perf_counter() - start,
                         history=history, evals=evals)

    it = iter(train_data)
    reiterable = it is not train_data
    if is_module:
        model.train(True)
    try:
        for step in range(1, steps + 1):
            # ---------------------------------------------------- next batch
            try:
                batch = next(it)
            except StopIteration:
                batch = None
                if reiterable:
                    it = iter(train_data)
                    batch = next(it, None)
                if batch is None:
                    raise ValueError(
                        f"train_data ran out of batches at step {step} of {steps}; pass a "
                        f"re-iterable (a list, dn.train.batches(...)) to run several epochs"
                    ) from None
            x, y = _unpack(batch, "train_data")

            # ---------------------------------------------------- gradient
            lr = optimizer.current_lr
            if gradient == "forward":
                def f(ls):
                    return loss_fn(apply(ls, x), y)

                value, g = _forward_step(f, leaves, rng, k, distribution, clip, chunk)
            else:
                seen = []

                def f(ls):
                    out = loss_fn(apply(ls, x), y)
                    if not seen:  # every pass computes the same value: keep the first
                        seen.append(out.primal if isinstance(out, Dual) else out)
                    return out

                g = grad(f, chunk_size=chunk)(leaves)
                value = seen[0]
            loss = float(np.asarray(value))
            if not math.isfinite(loss):
                bad = [i for i, p in enumerate(leaves) if not np.all(np.isfinite(p))]
                why = (f"the parameters were already non-finite after the update of step "
                       f"{step - 1}" if bad else "the parameters are finite, so the loss "
                       f"overflowed or the batch holds non-finite values")
                raise NonFiniteLossError(
                    f"training loss is {loss} at step {step} (of {steps}); {why}. Lower the "
                    f"learning rate (now {lr:g})"
                    + (", or clip the directional derivatives with clip=..."
                       if gradient == "forward" and clip is None else ""),
                    step=step, loss=loss, result=result(step - 1))
            optimizer.step(unflatten(td, g))
            losses[step - 1] = loss
            lrs[step - 1] = lr

            # ---------------------------------------------------- logging
            ev = None
            if eval_data is not None and (
                    step == steps or (eval_every is not None and step % eval_every == 0)):
                ev = run_eval(step)
                evals.append(ev)
                if is_module:
                    model.train(True)
            if ev is not None or step % log_every == 0 or step == steps:
                rec = {"step": step, "loss": loss, "lr": lr,
                       "seconds": time.perf_counter() - start}
                if ev is not None:
                    rec.update((key, v) for key, v in ev.items() if key != "step")
                history.append(rec)
                if callback is not None:
                    callback(rec)
    finally:
        for m, mode in modes:
            m.training = mode

    # The last update may have overflowed without a later step to notice it.
    if not all(np.all(np.isfinite(p)) for p in leaves):
        raise NonFiniteLossError(
            f"the parameters are non-finite after the update of step {steps} (the last); "
            f"lower the learning rate", step=steps, loss=math.nan, result=result(steps))
    return result(steps)
