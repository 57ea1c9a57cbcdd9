"""The one entry point, :func:`forward_gradient`, and :class:`Estimator`, a recipe as an
object that a training loop calls once per step."""
from __future__ import annotations

import numpy as np

from ..core.dual import as_float_array
from ..core.pytree import flatten, unflatten
from ._checks import check_rng, settings
from .losses import per_example
from . import perturb
from .perturb import evaluate, make_plan

__all__ = ["forward_gradient", "Estimator"]

#: The papers behind each setting, for a run's record.
REFERENCES = {
    "weight": "Baydin, Pearlmutter, Syme, Wood, Torr 2022, Gradients without Backpropagation",
    "activity": "Ren, Kornblith, Liao, Hinton, ICLR 2023, Scaling Forward Gradient with "
                "Local Losses",
    "projection": "Flügel et al., IJCNN 2025, Beyond Backpropagation: Optimization with "
                  "Multi-Tangent Forward Gradients",
}


def _leaves(params):
    leaves, td = flatten(params)
    return [as_float_array(x, "params leaf") for x in leaves], td


def _run(f, leaves, s, rng, local_loss, dense, plan=None):
    k, chunk = s["n_directions"], s["chunk_size"]
    if chunk is None or chunk >= k:
        return evaluate(f, leaves, s, rng, local_loss=local_loss, dense=dense, plan=plan)
    if s["perturbation"] != "weight":
        raise ValueError("chunk_size splits weight-perturbation directions into passes; "
                         "activity perturbation draws its directions per layer in one pass")
    total = res = None
    for start in range(0, k, chunk):
        kc = min(chunk, k - start)
        res = evaluate(f, leaves, dict(s, n_directions=kc), rng, local_loss=local_loss)
        w = kc / k
        total = [w * g for g in res.grads] if total is None else \
            [t + w * g for t, g in zip(total, res.grads)]
    res.grads = total
    return res


def forward_gradient(f, params, *, rng, n_directions=1, distribution=None,
                     perturbation="weight", combination="mean", local_loss=None, clip=None,
                     chunk_size=None, dense=True):
    """A forward-gradient estimate of ∇f: ``(f(params), estimate)``, from one batched
    forward pass (no reverse pass, no stored tape).

    ``params`` is a pytree of arrays and ``rng`` a ``numpy.random.Generator``, the source
    of every direction (a seed reproduces the estimate exactly). The estimate has the
    structure of ``params``.

    * ``perturbation="weight"`` (Baydin et al. 2022, "Gradients without
      Backpropagation"): K = ``n_directions`` random directions v_k over all parameters,
      from ``distribution``: ``"outer"`` (rank-one directions a bᵀ per matrix or
      convolution weight, normal ones for vectors; the default), ``"normal"`` (the
      paper's) or ``"rademacher"`` (±1 signs); see :mod:`dualnum.fgrad.directions`.
      The default is the measured best: per step, rank-one directions train as well as
      normal ones (docs/forward-gradients.md has the figures), and sampling them and
      pushing them through matrix products and convolutions costs a fraction.
      ``distribution=None`` means ``"outer"`` for the mean and ``"normal"`` for the
      projection and for activity perturbation, which need dense directions.
    * ``perturbation="activity"`` (Ren, Kornblith, Liao, Hinton, ICLR 2023, "Scaling
      Forward Gradient with Local Losses"): per-example directions over the
      pre-activations of every ``dn.nn.Linear`` and ``dn.nn.Conv2d`` layer that ``f``
      runs with these parameters, K per layer; each weight gradient is the layer's local
      product with its input. ``f`` must return the per-example losses (shape (B,)); the
      objective is their mean. See :mod:`dualnum.fgrad.perturb`.
    * ``combination``: ``"mean"`` of (∇f·v_k) v_k (unbiased), or ``"projection"``
      (Flügel et al., IJCNN 2025): the orthogonal projection of ∇f onto the span of the
      directions, exact once they span the space; with activity perturbation a layer
      whose per-example width n is at most K gets the n basis directions and an exact
      activity gradient. See :mod:`dualnum.fgrad.combine`.
    * ``local_loss``: the loss of each ``dn.nn.LocalHead``'s output (local losses, Ren
      et al. 2023), of the same kind as f's (a scalar, or per-example losses for activity
      perturbation): each block is trained by its own head, and no gradient crosses a
      block boundary. Without it the heads are inactive.
    * ``clip``: clip each directional derivative to [-clip, clip] first (biased where it
      acts; reproductions of Baydin et al. needed it for stability).
    * ``chunk_size``: weight perturbation in passes of that many directions (less memory).
    * ``dense=False``: weight-perturbation estimates stay unformed
      (:mod:`dualnum.fgrad.structured`), so that ``dn.optim.SGD`` applies each within the
      update's own pass.

    >>> import numpy as np, dualnum as dn
    >>> rng = np.random.default_rng(0)
    >>> value, g = dn.forward_gradient(lambda p: np.sum(p["w"] ** 2),
    ...                                {"w": np.ones(3)}, rng=rng, n_directions=4)
    >>> float(value), sorted(g)
    (3.0, ['w'])
    >>> _, g = dn.forward_gradient(lambda w: np.sum(w ** 2), np.ones(3), rng=rng,
    ...                            n_directions=3, combination="projection")
    >>> g  # three directions span R³: the projection is the gradient itself
    array([2., 2., 2.])
    """
    s = settings(perturbation=perturbation, n_directions=n_directions,
                 distribution=distribution, combination=combination, clip=clip,
                 chunk_size=chunk_size)
    check_rng(rng)
    if local_loss is not None and not callable(local_loss):
        raise TypeError(f"local_loss must be callable, got {type(local_loss).__name__}")
    leaves, td = _leaves(params)

    def flat_f(ls):
        return f(unflatten(td, ls))

    res = _run(flat_f, leaves, s, rng, local_loss, dense)
    grads = [g.astype(x.dtype, copy=False) if isinstance(g, np.ndarray) else g
             for g, x in zip(res.grads, leaves)]
    return res.value, unflatten(td, grads)


class Estimator:
    """A forward-gradient recipe: ``estimator.estimate(apply, params, x, y, loss_fn,
    rng)`` returns ``(loss, grads)`` for one batch, the loss of ``apply(params, x)``
    against ``y`` under ``loss_fn`` (e.g. ``dn.cross_entropy``) and a gradient estimate
    with the structure of ``params`` (weight-perturbation estimates stay unformed for the
    optimizer). Activity perturbation finds each layer's parameters by identity, so
    ``apply`` must hand the very arrays of ``params`` to the model (as
    ``dn.nn.functional_call`` does).

    The settings are those of :func:`forward_gradient`; ``local_losses=True`` trains
    each block of the model ending in a ``dn.nn.LocalHead`` with ``loss_fn`` of its
    head's output (with ``False`` the heads are inactive). :meth:`describe` names every
    setting, for a run's record; :meth:`from_recipe` builds one from such a dict.
    ``estimator(problem, rng)`` reads ``apply, leaves, x, y, loss_fn`` from ``problem``
    (``dualnum.train``'s gradient-step protocol).

    >>> import numpy as np, dualnum as dn
    >>> model = dn.nn.Sequential(dn.nn.Linear(4, 8, rng=0), dn.nn.ReLU(), dn.nn.Linear(8, 3, rng=1))
    >>> params = dict(model.named_parameters())
    >>> apply = lambda p, x: dn.nn.functional_call(model, p, x)
    >>> x, y = np.ones((5, 4), np.float32), np.array([0, 1, 2, 0, 1])
    >>> est = dn.fgrad.Estimator(perturbation="activity", n_directions=8,
    ...                          combination="projection")
    >>> loss, grads = est.estimate(apply, params, x, y, dn.cross_entropy,
    ...                            np.random.default_rng(0))
    >>> exact = dn.grad(lambda p: dn.cross_entropy(apply(p, x), y))(params)
    >>> all(np.allclose(grads[k], exact[k], atol=1e-6) for k in params)  # widths 8, 3 <= K
    True
    >>> est.describe()["estimator"], est.describe()["directions"]
    ('activity', 8)
    """

    name = "forward"
    needs_rng = True

    def __init__(self, perturbation="weight", n_directions=1, distribution=None,
                 combination="mean", local_losses=True, clip=None, chunk_size=None):
        self._s = settings(perturbation=perturbation, n_directions=n_directions,
                           distribution=distribution, combination=combination, clip=clip,
                           chunk_size=chunk_size)
        if not isinstance(local_losses, bool):
            raise TypeError(f"local_losses must be True or False, got {local_losses!r}")
        self.local_losses = local_losses
        self.local_values = []
        self._plans = {}

    #: Recipe keys (as :meth:`describe` writes them) -> constructor arguments.
    _KEYS = {"estimator": "perturbation", "perturbation": "perturbation", "directions": "n_directions",
             "n_directions": "n_directions", "distribution": "distribution",
             "combination": "combination", "local_losses": "local_losses", "clip": "clip",
             "chunk_size": "chunk_size"}
    _IGNORED = ("gradient", "references")

    @classmethod
    def from_recipe(cls, recipe):
        """An Estimator from a dict such as :meth:`describe` returns (``gradient`` and
        ``references`` are ignored; other unknown keys raise).

        >>> import dualnum as dn
        >>> est = dn.fgrad.Estimator.from_recipe({"perturbation": "activity",
        ...                                       "directions": 16})
        >>> est.describe()["directions"]
        16
        """
        kwargs = {}
        for key, value in dict(recipe).items():
            if key in cls._IGNORED:
                continue
            if key not in cls._KEYS:
                raise ValueError(f"unknown forward-gradient recipe key {key!r}; known: "
                                 f"{', '.join(sorted(set(cls._KEYS) - {'n_directions', 'perturbation'}))}")
            kwargs[cls._KEYS[key]] = value
        return cls(**kwargs)

    @property
    def perturbation(self):
        return self._s["perturbation"]

    @property
    def n_directions(self):
        return self._s["n_directions"]

    @property
    def clip(self):
        return self._s["clip"]

    def describe(self):
        """Every setting that defines the estimate, with the papers it follows, under the
        names of ``dualnum train``'s settings (``estimator`` is the perturbation)."""
        s = self._s
        refs = [REFERENCES[s["perturbation"]]]
        if s["combination"] == "projection":
            refs.append(REFERENCES["projection"])
        if self.local_losses and s["perturbation"] == "weight":
            refs.append(REFERENCES["activity"])
        return {"gradient": "forward", "estimator": s["perturbation"],
                "directions": s["n_directions"], "distribution": s["distribution"],
                "combination": s["combination"], "local_losses": self.local_losses,
                "clip": s["clip"], "chunk_size": s["chunk_size"], "references": refs}

    def settings(self):
        """:meth:`describe` (``dualnum.train``'s name for it)."""
        return self.describe()

    def _objective(self, apply, params, x, y, loss_fn):
        """(f, leaves, treedef, local loss, plan) of one batch."""
        s = self._s
        if s["perturbation"] == "activity":
            loss = per_example(loss_fn)
        else:
            loss = loss_fn
        leaves, td = _leaves(params)

        def f(ls):
            return loss(apply(unflatten(td, ls), x), y)

        local = (lambda out: loss(out, y)) if self.local_losses else None
        plan = None
        if local is not None and s["perturbation"] == "activity":
            # The blocks' shapes only change with the batch's shape: one primal pass
            # finds them for every batch of that shape.
            key = (np.shape(x), tuple(id(p) for p in leaves))
            plan = self._plans.get(key)
            if plan is None:
                if len(self._plans) >= 4:  # leaves that change every call: keep a few
                    self._plans.pop(next(iter(self._plans)))
                plan = self._plans[key] = make_plan(f, leaves, s, local)
        return f, leaves, td, local, plan

    def estimate(self, apply, params, x, y, loss_fn, rng):
        """``(loss, grads)`` for one batch: ``params`` is a pytree of arrays (a list of
        leaves, a dict of named parameters, ...), ``apply(params, x)`` runs the model
        with it, and ``grads`` has its structure. See the class docstring."""
        check_rng(rng)
        f, leaves, td, local, plan = self._objective(apply, params, x, y, loss_fn)
        res = _run(f, leaves, self._s, rng, local, dense=False, plan=plan)
        self.local_values = res.local_values
        return res.value, unflatten(td, res.grads)

    def __call__(self, problem, rng):
        return self.estimate(problem.apply, problem.leaves, problem.x, problem.y,
                             problem.loss_fn, rng)

    # ------------------------------------------------------------ in shares
    def forward(self, problem, key, blocks=None):
        """The forward pass of :meth:`__call__` for the direction blocks ``blocks`` of
        the evaluation keyed ``key`` (:func:`dualnum.fgrad.directions.draw_key`): a
        :class:`dualnum.fgrad.perturb.Partial` whose ``derivatives`` are this share's.
        Several processes evaluate shares of the blocks; :meth:`finish` turns the
        assembled derivatives into ``(loss, grads)``, the very result of :meth:`__call__`
        with a generator that drew ``key``. ``blocks=()`` is a primal pass: what
        :meth:`finish` needs, no derivatives.

        >>> import numpy as np, dualnum as dn
        >>> from dualnum.fgrad.directions import blocks_of, draw_key
        >>> model = dn.nn.Sequential(dn.nn.Linear(4, 8, rng=0), dn.nn.ReLU(),
        ...                          dn.nn.Linear(8, 3, rng=1))
        >>> opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1)
        >>> leaves, _, apply = dn.train._objective(model, opt)
        >>> x, y = np.ones((5, 4), np.float32), np.array([0, 1, 2, 0, 1])
        >>> problem = dn.train.Problem(None, leaves, apply, model, dn.cross_entropy, x, y)
        >>> est = dn.fgrad.Estimator(perturbation="activity", n_directions=16)
        >>> key = draw_key(np.random.default_rng(0))
        >>> a, b = est.forward(problem, key, [0]), est.forward(problem, key, [1])
        >>> full = [np.concatenate(p) for p in zip(a.derivatives, b.derivatives)]
        >>> loss, grads = est.finish(est.forward(problem, key, ()), full)
        >>> _, ref = est(problem, np.random.default_rng(0))
        >>> all(np.array_equal(g, r) for g, r in zip(grads, ref))
        True
        """
        if self._s["chunk_size"] is not None and self._s["chunk_size"] < self.n_directions:
            raise ValueError(f"chunk_size={self._s['chunk_size']} draws a key per pass; "
                             f"an evaluation in shares covers all {self.n_directions} "
                             f"directions in one pass: drop chunk_size")
        f, leaves, td, local, plan = self._objective(problem.apply, problem.leaves,
                                                     problem.x, problem.y, problem.loss_fn)
        part = perturb.forward(f, leaves, self._s, key, blocks=blocks, local_loss=local,
                               plan=plan)
        part.leaves, part.td = leaves, td
        return part

    def finish(self, part, derivatives):
        """``(loss, grads)`` from a :meth:`forward` pass and the derivatives of all
        blocks (see :meth:`forward`)."""
        res = perturb.finish(part, part.leaves, derivatives, dense=False)
        self.local_values = res.local_values
        return res.value, unflatten(part.td, res.grads)

    def __repr__(self):
        d = self.describe()
        args = (("perturbation", "estimator"), ("n_directions", "directions"),
                ("distribution", "distribution"), ("combination", "combination"),
                ("local_losses", "local_losses"))
        return "Estimator(" + ", ".join(f"{a}={d[k]!r}" for a, k in args) + ")"
