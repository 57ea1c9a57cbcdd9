"""Training loops: :func:`fit` runs a step budget with forward gradients (Baydin et al.
2022, "Gradients without Backpropagation"), exact forward-mode gradients, or any
:class:`GradientEstimator`; :func:`evaluate` measures a model. (:func:`batches`, which
cuts arrays into shuffled mini-batches, lives in :mod:`dualnum.data.batching`.)

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
import time
from array import array
from dataclasses import dataclass, field

import numpy as np

from ._checks import positive_int
from .core.dual import Dual
from .core.pytree import flatten, unflatten
from .data.batching import Batches, batches
from .nn.module import Module, functional_call
from .optim import Optimizer
from .fgrad import Estimator
from .transforms import grad

__all__ = ["fit", "evaluate", "batches", "Batches", "FitResult", "NonFiniteLossError",
           "GRADIENTS", "GradientEstimator", "ForwardGradient", "ExactGradient", "Problem",
           "StopTraining"]

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
    batch_size = positive_int(batch_size, "batch_size")
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


# ===================================================================== gradient steps
@dataclass(frozen=True)
class Problem:
    """What a gradient estimator gets for one step: ``loss(leaves)`` is the training loss
    on this step's batch as a function of the parameter leaves (``leaves``, a list in the
    optimizer's order), ``apply(leaves, x)`` runs the model with given leaves, and
    ``model``, ``loss_fn``, ``x``, ``y`` are the pieces it was built from (for
    estimators that look inside the model, such as local losses)."""

    loss: object
    leaves: list
    apply: object
    model: object
    loss_fn: object
    x: object
    y: object


class GradientEstimator:
    """One training step's gradient, pluggable into :func:`fit` (``gradient=``).

    ``estimator(problem, rng)`` returns ``(loss, grads)``: the step's training loss (a
    scalar, before the update) and one gradient (estimate) per leaf of
    ``problem.leaves`` (arrays, or unformed ``dualnum.lowrank`` operators that the
    optimizer applies). ``settings()`` names everything that defines the estimate, for
    a run's record; ``needs_rng`` says whether it draws random numbers (``fit`` then
    requires a generator)."""

    name = "estimator"
    needs_rng = True

    def settings(self):
        return {"gradient": self.name}

    def __call__(self, problem, rng):
        raise NotImplementedError


class ForwardGradient(Estimator):
    """The forward gradient of Baydin et al. (2022): ``mean_k (∇f·v_k) v_k`` over
    ``n_directions`` random directions from ``distribution``, in one batched forward pass
    or in passes of ``chunk_size`` directions, each ``∇f·v_k`` clipped to ``[-clip,
    clip]`` when ``clip`` is set: ``dn.fgrad.Estimator`` with weight perturbation, the
    mean, and no local losses.

    >>> import dualnum as dn
    >>> s = dn.train.ForwardGradient(16, "rademacher").settings()
    >>> s["estimator"], s["directions"], s["distribution"], s["combination"]
    ('weight', 16, 'rademacher', 'mean')
    """

    def __init__(self, n_directions=1, distribution=None, chunk_size=None, clip=None):
        super().__init__(perturbation="weight", n_directions=n_directions,
                         distribution=distribution, combination="mean", local_losses=False,
                         clip=clip, chunk_size=chunk_size)


@dataclass(frozen=True)
class ExactGradient(GradientEstimator):
    """The exact gradient by forward mode (``dn.grad``), in passes of ``chunk_size``
    basis directions: n / chunk_size passes for n parameters.

    >>> import dualnum as dn
    >>> dn.train.ExactGradient(512).settings()
    {'gradient': 'exact', 'chunk_size': 512}
    """

    chunk_size: int | None = None
    name = "exact"
    needs_rng = False

    def __post_init__(self):
        if self.chunk_size is not None:
            positive_int(self.chunk_size, "chunk_size")

    def settings(self):
        return {"gradient": self.name, "chunk_size": self.chunk_size}

    def __call__(self, problem, rng):
        seen = []
        loss = problem.loss

        def f(ls):
            out = loss(ls)
            if not seen:  # every pass computes the same value: keep the first
                seen.append(out.primal if isinstance(out, Dual) else out)
            return out

        g = grad(f, chunk_size=self.chunk_size)(problem.leaves)
        return seen[0], g


def _estimator(gradient, n_directions, distribution, chunk_size, clip):
    if isinstance(gradient, (GradientEstimator, Estimator)):
        return gradient
    if gradient == "forward":
        return ForwardGradient(n_directions, distribution, chunk_size, clip)
    if gradient == "exact":
        if clip is not None:
            raise ValueError(f"clip={clip!r} clips forward gradients' directional "
                             f"derivatives; it does not apply to gradient='exact'")
        return ExactGradient(chunk_size)
    raise ValueError(f"unknown gradient {gradient!r}; choose from {list(GRADIENTS)} or "
                     f"pass a dn.train.GradientEstimator")


class StopTraining(Exception):
    """Raised by a :func:`fit` callback to end training after the step it was called
    for: ``fit`` returns the result of the steps done so far."""


# ===================================================================== fit
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


def fit(model, loss_fn, train_data, *, steps, optimizer, rng=None, gradient="forward",
        n_directions=1, distribution=None, chunk_size=None, clip=None, eval_data=None,
        eval_every=None, eval_batch_size=1024, callback=None, log_every=1, record=True):
    """Train ``model`` for ``steps`` optimizer steps on batches from ``train_data``.

    Each step takes the next ``(x, y)`` batch, computes ``loss_fn(model(x), y)`` (a
    scalar, e.g. ``dn.cross_entropy``) and a gradient, and calls ``optimizer.step``:

    * ``gradient="forward"``: the forward gradient of Baydin et al. (2022), ``mean_k
      (∇f·v_k) v_k`` over ``n_directions`` random directions from ``distribution``
      (``"outer"``, the default, ``"normal"``, ``"rademacher"``, as
      ``dn.forward_gradient`` offers), all in one
      batched forward pass, or in passes of ``chunk_size`` directions. ``clip`` limits
      every directional derivative ``∇f·v_k`` to ``[-clip, clip]`` (``clip=`` of
      ``dn.forward_gradient``), which stabilises early training at the price of a bias
      where it acts. Rank-one ``"outer"`` estimates reach the optimizer factored, so
      plain SGD applies them as a fused rank-K update.
    * ``gradient="exact"``: the exact gradient by forward mode (``dn.grad``), in passes
      of ``chunk_size`` basis directions: n / chunk_size passes for n parameters, the
      baseline for small models.
    * ``gradient=`` a :class:`GradientEstimator` (such as :class:`ForwardGradient`, or one
      of your own): that estimator, which then holds its own settings.

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

    A callback that raises :class:`StopTraining` ends training after that step (the
    result covers the steps done). With ``record=False`` nothing is kept per step
    (``result.losses``, ``lrs``, ``history`` and ``evals`` stay empty): the callback sees
    every record, and memory does not grow with the number of steps.

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
    steps = positive_int(steps, "steps")
    estimator = _estimator(gradient, n_directions, distribution, chunk_size, clip)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a dn.optim.Optimizer, got "
                        f"{type(optimizer).__name__}")
    if estimator.needs_rng and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                        f"use numpy.random.default_rng(seed)")
    if eval_every is not None:
        eval_every = positive_int(eval_every, "eval_every")
        if eval_data is None:
            raise ValueError(f"eval_every={eval_every} needs eval_data")
    log_every = positive_int(log_every, "log_every")
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

    # Grown as steps run, never sized by `steps` up front (and not kept at all without
    # `record`): memory does not depend on the step budget.
    losses, lrs = array("d"), array("d")
    history, evals = [], []
    start = time.perf_counter()

    def result(done):
        return FitResult(params=optimizer.params, steps=done,
                         losses=np.array(losses, dtype=np.float64),
                         lrs=np.array(lrs, dtype=np.float64),
                         seconds=time.perf_counter() - start, history=history, evals=evals)

    it = iter(train_data)
    reiterable = it is not train_data
    if is_module:
        model.train(True)
    step = 0
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

            def f(ls, x=x, y=y):
                return loss_fn(apply(ls, x), y)

            value, g = estimator(Problem(f, leaves, apply, model, loss_fn, x, y), rng)
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
                       if isinstance(estimator, Estimator) and estimator.clip is None
                       else ""),
                    step=step, loss=loss, result=result(step - 1))
            optimizer.step(unflatten(td, g))
            if record:
                losses.append(loss)
                lrs.append(lr)

            # ---------------------------------------------------- logging
            ev = None
            if eval_data is not None and (
                    step == steps or (eval_every is not None and step % eval_every == 0)):
                ev = run_eval(step)
                if record:
                    evals.append(ev)
                if is_module:
                    model.train(True)
            if ev is not None or step % log_every == 0 or step == steps:
                rec = {"step": step, "loss": loss, "lr": lr,
                       "seconds": time.perf_counter() - start}
                if ev is not None:
                    rec.update((key, v) for key, v in ev.items() if key != "step")
                if record:
                    history.append(rec)
                if callback is not None:
                    callback(rec)
    except StopTraining:
        pass
    finally:
        for m, mode in modes:
            m.training = mode

    # The last update may have overflowed without a later step to notice it.
    if not all(np.all(np.isfinite(p)) for p in leaves):
        raise NonFiniteLossError(
            f"the parameters are non-finite after the update of step {step} (the last); "
            f"lower the learning rate", step=step, loss=math.nan, result=result(step))
    return result(step)
