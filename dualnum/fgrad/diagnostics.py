r"""How good is a forward gradient? Its estimates measured against the exact gradient.

For a function small enough that ``dn.grad`` (exact, by forward mode) is affordable:

* :func:`estimator_stats` measures every estimator (weight or activity perturbation,
  mean or projection, with or without local losses) for several numbers of directions K:
  cosine similarity to the exact gradient, relative error and variance, scale, per-leaf
  cosines, with theory where it is known; :func:`format_estimator_table` prints it.
* :func:`forward_gradient_stats` checks weight perturbation's mean estimate against the
  theory below coordinate by coordinate (per-coordinate variances, unbiasedness
  z-scores), for several direction distributions; :func:`format_table` prints it.

Theory
------
Write g = ∇f (n parameters) and ĝ = (1/K) Σ_k (g·v_k) v_k with K independent directions,
E[v] = 0 and E[v vᵀ] = I, so E[ĝ] = g (unbiased). One direction (K = 1) gives, per
coordinate i,

    Var(ĝ_i) = E[(g·v)² v_i²] − g_i².

*Independent components* with fourth moment κ = E[v_i⁴]: in E[(g·v)² v_i²] =
Σ_{j,l} g_j g_l E[v_j v_l v_i²] only j = l survives, giving κ g_i² + Σ_{j≠i} g_j², so

    Var(ĝ_i) = (‖g‖² + (κ − 2) g_i²) / K,    E‖ĝ − g‖² = Σ_i Var(ĝ_i) = (n + κ − 2) ‖g‖² / K.

- ``"normal"`` (κ = 3): Var(ĝ_i) = (‖g‖² + g_i²)/K, total (n + 1)‖g‖²/K.
- ``"rademacher"`` (κ = 1): Var(ĝ_i) = (‖g‖² − g_i²)/K, total (n − 1)‖g‖²/K, smaller;
  with n = 1 it is exact (v² = 1).

*Rank-one directions* (``"outer"``: V = a bᵀ for each matrix parameter G of shape
(p, q), a ~ N(0, I_p), b ~ N(0, I_q); a tensor of more axes counts as the matrix
(first axis, the rest); vectors normal): for an entry (i, j)
of G, E[(aᵀGb)² a_i² b_j²] = Σ_{k,l} G_kl² (1 + 2δ_ki)(1 + 2δ_lj), so

    Var(ĝ_ij) = (‖g‖² + 2‖G_i,:‖² + 2‖G_:,j‖² + 3 G_ij²) / K,

and the matrix adds (2p + 2q + 2)‖G‖²/K to the normal total (n + 1)‖g‖²/K.

*Cosine similarity* for ``"normal"``: by rotation invariance take g = ‖g‖ e₁. With
a = (v_k · e₁)_k ~ N(0, I_K) and the other rows B of the n × K matrix of directions,
(Σ_k (g·v_k) v_k) ∝ (‖a‖², B a) and ‖B a‖² = ‖a‖² χ²_{n−1}, so
cos² = χ²_K / (χ²_K + χ²_{n−1}) ~ Beta(K/2, (n − 1)/2), whatever g is:

    E[cos] = Γ((K+1)/2) Γ((n+K−1)/2) / (Γ(K/2) Γ((n+K)/2)) ≈ sqrt(K / (n + K)),

about sqrt(2 / (π n)) for K = 1. For the other distributions the cosine depends on g
and no closed form is reported.

>>> import numpy as np, dualnum as dn
>>> f = lambda p: np.sum(np.sin(p["w"]) * p["b"])
>>> params = {"w": np.array([0.3, -1.0, 2.0]), "b": np.array([1.0, 2.0, -0.5])}
>>> stats = dn.diagnostics.forward_gradient_stats(
...     f, params, rng=np.random.default_rng(0), n_directions=(1, 4), samples=2000)
>>> stats["n_params"], len(stats["rows"])
(6, 4)
>>> row = stats["rows"][0]
>>> row["distribution"], row["n_directions"], row["relative_variance_theory"]  # n + 1
('normal', 1, 7.0)
>>> bool(abs(row["relative_variance"] / 7.0 - 1) < 0.2)
True
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..core.dual import as_float_array
from ..core.pytree import flatten, unflatten
from ..transforms import grad, jvp
from ._checks import check_rng, positive_int, settings
from .directions import sample_directions
from .estimator import forward_gradient

__all__ = ["forward_gradient_stats", "format_table", "theoretical_variance",
           "theoretical_cosine", "FOURTH_MOMENTS", "estimator_stats", "format_estimator_table",
           "theoretical_projection"]

#: E[v_i⁴] of the distributions whose directions have independent components.
FOURTH_MOMENTS = {"normal": 3.0, "rademacher": 1.0}


def theoretical_variance(gradient, distribution, n_directions=1):
    """Per-coordinate variance of the forward-gradient estimate with ``n_directions``
    directions, given the exact gradient ``gradient`` (a pytree of arrays): a pytree of the
    same structure, or None when no formula is known for ``distribution``. See the
    module docstring for the formulas; their sum is ``E‖ĝ − ∇f‖²``.

    >>> import numpy as np, dualnum as dn
    >>> g = np.array([3.0, 4.0])  # ‖g‖² = 25
    >>> dn.diagnostics.theoretical_variance(g, "normal")  # ‖g‖² + g_i²
    array([34., 41.])
    >>> dn.diagnostics.theoretical_variance(g, "rademacher", n_directions=5)
    array([3.2, 1.8])
    """
    k = positive_int(n_directions, "n_directions")
    leaves, td = flatten(gradient)
    leaves = [np.asarray(x, np.float64) for x in leaves]
    total = sum(float(np.sum(x * x)) for x in leaves)
    out = []
    for x in leaves:
        if distribution in FOURTH_MOMENTS:
            var = total + (FOURTH_MOMENTS[distribution] - 2) * x * x
        elif distribution == "outer":
            if x.ndim >= 2:  # a tensor (O, ...) is the matrix (O, rest) to "outer"
                m = x.reshape(x.shape[0], -1)
                rows = np.sum(m * m, axis=1, keepdims=True)
                cols = np.sum(m * m, axis=0, keepdims=True)
                var = (total + 2 * rows + 2 * cols + 3 * m * m).reshape(x.shape)
            else:
                var = total + x * x  # normal directions for non-matrix parameters
        else:
            return None
        out.append(np.broadcast_to(var, x.shape) / k)
    return unflatten(td, out)


def theoretical_cosine(n_params, n_directions=1):
    """E[cos(ĝ, ∇f)] for normal directions: ``Γ((K+1)/2) Γ((n+K−1)/2) / (Γ(K/2)
    Γ((n+K)/2))``, whatever the (non-zero) gradient is.

    >>> import dualnum as dn
    >>> round(dn.diagnostics.theoretical_cosine(100), 5)  # ≈ sqrt(2 / (π n)) = 0.07979
    0.07999
    >>> dn.diagnostics.theoretical_cosine(1, 3)  # one parameter: always aligned
    1.0
    """
    n = positive_int(n_params, "n_params")
    k = positive_int(n_directions, "n_directions")
    if n == 1:
        return 1.0
    return math.exp(math.lgamma((k + 1) / 2) + math.lgamma((n + k - 1) / 2)
                    - math.lgamma(k / 2) - math.lgamma((n + k) / 2))


def _as_tuple(value):
    if isinstance(value, (str, numbers.Integral)):
        return (value,)
    return tuple(value)


def forward_gradient_stats(f, params, *, rng, n_directions=(1, 2, 4, 8, 16),
                           distributions=("normal", "rademacher"), samples=1000,
                           chunk_size=None, max_batch=4096):
    """Measure the forward-gradient estimator of ``∇f(params)`` against the exact one.

    For every distribution in ``distributions`` and every K in ``n_directions``, draws
    ``samples`` independent estimates ``ĝ = mean_k (∇f·v_k) v_k`` (the formula of
    ``dn.forward_gradient``). Many estimates share one batched forward pass (up to
    ``max_batch`` directions per pass), so results depend on ``rng``'s seed and on
    ``max_batch``. The exact gradient comes from ``dn.grad`` (``chunk_size`` basis
    directions per pass).

    Returns a dict: ``value`` (f at params), ``n_params``, ``grad`` (the exact gradient
    flattened in pytree order, float64), ``grad_norm``, ``samples`` and ``rows``, one dict
    per (distribution, K) with

    - ``cosine_mean``, ``cosine_se`` (its standard error), ``cosine_theory`` (normal
      directions only, else None);
    - ``total_variance`` = Σ_i sample variance of ĝ_i, ``total_variance_theory``;
      ``relative_variance`` = total_variance / ‖∇f‖² and its theory ((n + 1)/K for
      normal, (n − 1)/K for Rademacher); theories are None when unknown;
    - ``mse`` = mean ‖ĝ − ∇f‖² (uses the exact gradient; equals the total variance in
      expectation because the estimator is unbiased);
    - ``bias_norm`` = ‖mean ĝ − ∇f‖ and ``max_abs_z`` = max_i |mean ĝ_i − ∇f_i| / SE_i,
      a per-coordinate test of unbiasedness (a few units at most when unbiased);
    - ``mean``, ``variance`` and ``variance_theory``: per-coordinate flat arrays.

    The module docstring derives the formulas. ``format_table(stats)`` prints them.

    >>> import numpy as np, dualnum as dn
    >>> f = lambda w: np.sum(w ** 2)
    >>> stats = dn.diagnostics.forward_gradient_stats(
    ...     f, np.ones(10), rng=np.random.default_rng(1), n_directions=8,
    ...     distributions="rademacher", samples=500)
    >>> row = stats["rows"][0]
    >>> row["relative_variance_theory"]  # (n - 1) / K
    1.125
    >>> bool(row["max_abs_z"] < 5)
    True
    """
    check_rng(rng)
    ks = _as_tuple(n_directions)
    if not ks:
        raise ValueError("n_directions is empty")
    ks = tuple(positive_int(k, "n_directions") for k in ks)
    dists = _as_tuple(distributions)
    if not dists:
        raise ValueError("distributions is empty")
    for d in dists:
        settings(distribution=d)
    if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 2:
        raise ValueError(f"samples must be an integer >= 2 (variances need two), got "
                         f"{samples!r}")
    samples = int(samples)
    max_batch = positive_int(max_batch, "max_batch")

    leaves, td = flatten(params)
    leaves = [as_float_array(x, "params leaf") for x in leaves]
    tree = unflatten(td, leaves)
    value = np.asarray(f(tree))
    if value.shape != ():
        raise ValueError(f"forward_gradient_stats needs f to return a scalar, got shape "
                         f"{value.shape}")
    exact = grad(f, chunk_size=chunk_size)(tree)
    g_leaves = [np.asarray(x, np.float64) for x in flatten(exact)[0]]
    gvec = np.concatenate([x.ravel() for x in g_leaves]) if g_leaves else np.zeros(0)
    n = gvec.size
    gnorm2 = float(gvec @ gvec)
    gnorm = math.sqrt(gnorm2)
    # Keep each pass's dense directions to about 2**24 numbers.
    budget = max(1, (1 << 24) // max(n, 1))

    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for dist in dists:
            for k in ks:
                per_pass = max(1, min(max_batch, budget) // k)
                sum_d = np.zeros(n)
                sum_d2 = np.zeros(n)
                cos_sum = cos_sq = 0.0
                done = 0
                while done < samples:
                    m = min(per_pass, samples - done)
                    vs = sample_directions(rng, leaves, m * k, dist)
                    _, dd = jvp(f, (tree,), (unflatten(td, vs),), batched=True)
                    dd = np.asarray(dd, np.float64).reshape(m, k)
                    v = np.concatenate([np.asarray(x, np.float64).reshape(m * k, -1)
                                        for x in vs], axis=1).reshape(m, k, n)
                    est = np.einsum("mk,mkn->mn", dd, v) / k
                    diff = est - gvec
                    sum_d += diff.sum(axis=0)
                    sum_d2 += (diff * diff).sum(axis=0)
                    cos = (est @ gvec) / (np.linalg.norm(est, axis=1) * gnorm)
                    cos_sum += float(cos.sum())
                    cos_sq += float((cos * cos).sum())
                    done += m
                rows.append(_row(dist, k, samples, gvec, g_leaves, td, gnorm2, sum_d, sum_d2,
                                 cos_sum, cos_sq))
    return {"value": float(value), "n_params": n, "grad": gvec, "grad_norm": gnorm,
            "samples": samples, "rows": rows}


def _row(dist, k, s, gvec, g_leaves, td, gnorm2, sum_d, sum_d2, cos_sum, cos_sq):
    n = gvec.size
    mean_d = sum_d / s
    var = np.maximum(sum_d2 - sum_d * mean_d, 0.0) / (s - 1)
    se = np.sqrt(var / s)
    err = np.abs(mean_d)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, err / se, np.where(err > 0, np.inf, 0.0))
    total = float(var.sum())
    theory = theoretical_variance(unflatten(td, g_leaves), dist, k)
    if theory is not None:
        var_theory = np.concatenate([np.ravel(x) for x in flatten(theory)[0]]) if n else \
            np.zeros(0)
        total_theory = float(var_theory.sum())
    else:
        var_theory = total_theory = None
    cos_mean = cos_sum / s
    cos_var = max(cos_sq / s - cos_mean * cos_mean, 0.0) * s / (s - 1)
    rel = total / gnorm2 if gnorm2 > 0 else math.nan
    rel_theory = None if total_theory is None else (
        total_theory / gnorm2 if gnorm2 > 0 else math.nan)
    return {
        "distribution": dist, "n_directions": k, "samples": s,
        "cosine_mean": cos_mean, "cosine_se": math.sqrt(cos_var / s),
        "cosine_theory": theoretical_cosine(n, k) if dist == "normal" and n and gnorm2 > 0
        else None,
        "total_variance": total, "total_variance_theory": total_theory,
        "relative_variance": rel, "relative_variance_theory": rel_theory,
        "mse": float(sum_d2.sum() / s), "bias_norm": float(np.linalg.norm(mean_d)),
        "max_abs_z": float(z.max()) if n else 0.0,
        "mean": gvec + mean_d, "variance": var, "variance_theory": var_theory,
    }


def _fmt(x, spec):
    return "-" if x is None else format(x, spec)


def format_table(stats):
    """The rows of :func:`forward_gradient_stats` as a text table, theory in parentheses.

    >>> import numpy as np, dualnum as dn
    >>> stats = dn.diagnostics.forward_gradient_stats(
    ...     lambda w: np.sum(w ** 3), np.arange(1.0, 5.0), rng=np.random.default_rng(0),
    ...     n_directions=(1, 2), distributions="normal", samples=100)
    >>> print(dn.diagnostics.format_table(stats))  # doctest: +ELLIPSIS
    forward-gradient estimator: n = 4 parameters, |∇f| = 56.44, 100 samples per row
    distribution   K  cosine (theory)   total var (theory)     var/|∇f|² (theory)  max|z|
    normal         1  ...
    normal         2  ...
    """
    head = (f"forward-gradient estimator: n = {stats['n_params']} parameters, "
            f"|∇f| = {stats['grad_norm']:.4g}, {stats['samples']} samples per row")
    lines = [head, f"{'distribution':<12} {'K':>3}  {'cosine (theory)':<16}  "
                   f"{'total var (theory)':<21}  {'var/|∇f|² (theory)':<18}  max|z|"]
    for r in stats["rows"]:
        cos = f"{r['cosine_mean']:.4f} ({_fmt(r['cosine_theory'], '.4f')})"
        tv = f"{r['total_variance']:.4g} ({_fmt(r['total_variance_theory'], '.4g')})"
        rv = f"{r['relative_variance']:.4g} ({_fmt(r['relative_variance_theory'], '.4g')})"
        lines.append(f"{r['distribution']:<12} {r['n_directions']:>3}  {cos:<16}  {tv:<21}  "
                     f"{rv:<18}  {r['max_abs_z']:.2f}")
    return "\n".join(lines)


# ====================================================================== every estimator
def theoretical_projection(n_params, n_directions=1):
    """``(E[cos], E‖ĝ − ∇f‖² / ‖∇f‖²)`` of the projection estimate (``combination=
    "projection"``) with K normal weight directions: their span is a uniformly random
    K-dimensional subspace, so cos² ~ Beta(K/2, (n − K)/2), E[cos] = Γ((K+1)/2) Γ(n/2) /
    (Γ(K/2) Γ((n+1)/2)), and the error is (1 − K/n)‖∇f‖²; both exact (1 and 0) once
    K ≥ n.

    >>> import dualnum as dn
    >>> cos, err = dn.diagnostics.theoretical_projection(100, 25)
    >>> round(cos, 3), err
    (0.496, 0.75)
    >>> dn.diagnostics.theoretical_projection(10, 10)
    (1.0, 0.0)
    """
    n = positive_int(n_params, "n_params")
    k = positive_int(n_directions, "n_directions")
    if k >= n:
        return 1.0, 0.0
    cos = math.exp(math.lgamma((k + 1) / 2) + math.lgamma(n / 2) - math.lgamma(k / 2)
                   - math.lgamma((n + 1) / 2))
    return cos, 1.0 - k / n


def _name(recipe):
    parts = [recipe.get("perturbation", "weight")]
    if recipe.get("perturbation", "weight") == "weight":
        parts.append(recipe.get("distribution", "normal"))
    parts.append(recipe.get("combination", "mean"))
    return "-".join(parts)


_RECIPE_KEYS = ("perturbation", "distribution", "combination", "clip")


def estimator_stats(f, params, *, rng, estimators, n_directions=(1, 4, 16, 64), samples=20,
                    local_loss=None, reference=None, chunk_size=None):
    """Measure every forward-gradient estimator against the exact gradient: for each
    recipe in ``estimators`` and each K in ``n_directions``, ``samples`` estimates by
    ``dn.forward_gradient`` (fresh directions from ``rng`` each time).

    ``f(params)`` returns the per-example losses (shape (B,); the objective is their
    mean), which every estimator accepts; a scalar ``f`` serves weight perturbation
    only. ``estimators`` is a list of dicts of ``dn.forward_gradient`` settings
    (``perturbation``, ``distribution``, ``combination``, ``clip``), or a dict name ->
    settings. ``reference`` is the exact gradient; without it ``dn.grad`` of the mean of
    ``f`` (``chunk_size`` basis directions per pass). With ``local_loss`` (local losses)
    the estimators target the blocks' own losses, so ``reference`` must be given.

    Returns ``{"n_params", "grad_norm", "samples", "rows"}``; each row has ``estimator``,
    ``settings``, ``n_directions``, ``cosine_mean`` and ``cosine_se`` (cosine similarity
    to the reference), ``relative_mse`` (mean ‖ĝ − ∇f‖² / ‖∇f‖²), ``relative_variance``
    (Σ_i Var ĝ_i / ‖∇f‖²), ``scale`` (mean ĝ·∇f / ‖∇f‖²: 1 when unbiased, K/n for a
    random projection), ``cosine_by_leaf`` (mean cosine of each parameter leaf), and the
    theory where one is known (weight perturbation with normal directions):
    ``cosine_theory``, ``relative_mse_theory``. :func:`format_estimator_table` prints it.

    >>> import numpy as np, dualnum as dn
    >>> net = dn.nn.Sequential(dn.nn.Linear(3, 4, rng=0, dtype=np.float64), dn.nn.Tanh(),
    ...                        dn.nn.Linear(4, 2, rng=1, dtype=np.float64))
    >>> x, y = np.random.default_rng(0).standard_normal((8, 3)), np.arange(8) % 2
    >>> per_example = dn.fgrad.losses.cross_entropy_per_example
    >>> f = lambda p: per_example(dn.nn.functional_call(net, p, x), y)
    >>> stats = dn.diagnostics.estimator_stats(
    ...     f, dict(net.named_parameters()), rng=np.random.default_rng(0), samples=10,
    ...     n_directions=(1, 4), estimators=[
    ...         {"perturbation": "weight"},
    ...         {"perturbation": "activity", "combination": "projection"}])
    >>> [(r["estimator"], r["n_directions"]) for r in stats["rows"]]
    [('weight-normal-mean', 1), ('weight-normal-mean', 4), ('activity-projection', 1),
     ('activity-projection', 4)]
    >>> round(stats["rows"][-1]["cosine_mean"], 6)  # widths 4 and 2 <= K: exact
    1.0
    """
    check_rng(rng)
    if isinstance(estimators, dict):
        named = list(estimators.items())
    else:
        named = [(_name(dict(r)), dict(r)) for r in estimators]
    if not named:
        raise ValueError("estimators is empty")
    for name, recipe in named:
        unknown = set(recipe) - set(_RECIPE_KEYS)
        if unknown:
            raise ValueError(f"estimator {name!r}: unknown settings {sorted(unknown)}; "
                             f"known: {', '.join(_RECIPE_KEYS)}")
        settings(**recipe)
    ks = tuple(positive_int(k, "n_directions") for k in _as_tuple(n_directions))
    if not ks:
        raise ValueError("n_directions is empty")
    if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 2:
        raise ValueError(f"samples must be an integer >= 2 (variances need two), got "
                         f"{samples!r}")
    samples = int(samples)
    leaves, td = flatten(params)
    leaves = [as_float_array(x, "params leaf") for x in leaves]
    tree = unflatten(td, leaves)
    if reference is None:
        if local_loss is not None:
            raise ValueError("with local_loss the estimators target the blocks' own losses, "
                             "which dn.grad does not see: pass reference= (e.g. an "
                             "activity-projection estimate with K at least every width)")

        def mean_f(p):
            v = f(p)
            return np.mean(v) if np.ndim(v) else v

        reference = grad(mean_f, chunk_size=chunk_size)(tree)
    ref = [np.asarray(x, np.float64).ravel() for x in flatten(reference)[0]]
    if [r.size for r in ref] != [x.size for x in leaves]:
        raise ValueError("reference does not have the structure and shapes of params")
    gvec = np.concatenate(ref)
    n = gvec.size
    gnorm2 = float(gvec @ gvec)
    rows = []
    for name, recipe in named:
        per_example = recipe.get("perturbation", "weight") == "activity"

        def objective(p):
            v = f(p)
            return v if per_example or np.ndim(v) == 0 else np.mean(v)

        for k in ks:
            est = np.empty((samples, n))
            for i in range(samples):
                _, g = forward_gradient(objective, tree, rng=rng, n_directions=k,
                                        local_loss=local_loss, **recipe)
                est[i] = np.concatenate([np.asarray(x, np.float64).ravel()
                                         for x in flatten(g)[0]])
            rows.append(_estimator_row(name, recipe, k, est, gvec, gnorm2, ref))
    return {"n_params": n, "grad_norm": math.sqrt(gnorm2), "samples": samples, "rows": rows}


def _estimator_row(name, recipe, k, est, gvec, gnorm2, ref):
    s, n = est.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = est @ gvec / (np.linalg.norm(est, axis=1) * math.sqrt(gnorm2))
        by_leaf, start = [], 0
        for r in ref:
            part = est[:, start:start + r.size]
            c = part @ r / (np.linalg.norm(part, axis=1) * np.linalg.norm(r))
            by_leaf.append(float(np.nanmean(c)) if np.isfinite(c).any() else math.nan)
            start += r.size
    err = est - gvec
    cos_t = mse_t = None
    if recipe.get("perturbation", "weight") == "weight" and \
            recipe.get("distribution", "normal") == "normal" and recipe.get("clip") is None:
        if recipe.get("combination", "mean") == "projection":
            cos_t, mse_t = theoretical_projection(n, k)
        else:
            cos_t, mse_t = theoretical_cosine(n, k), (n + 1) / k
    return {
        "estimator": name, "settings": dict(recipe), "n_directions": k, "samples": s,
        "cosine_mean": float(np.mean(cos)),
        "cosine_se": float(np.std(cos, ddof=1) / math.sqrt(s)),
        "relative_mse": float(np.mean(np.sum(err * err, axis=1)) / gnorm2),
        "relative_variance": float(np.sum(np.var(est, axis=0, ddof=1)) / gnorm2),
        "scale": float(np.mean(est @ gvec) / gnorm2),
        "cosine_by_leaf": by_leaf,
        "cosine_theory": cos_t, "relative_mse_theory": mse_t,
    }


def format_estimator_table(stats):
    """The rows of :func:`estimator_stats` as a text table, theory in parentheses.

    >>> import numpy as np, dualnum as dn
    >>> stats = dn.diagnostics.estimator_stats(
    ...     lambda w: np.sum(w ** 2), np.arange(4.0), rng=np.random.default_rng(0),
    ...     n_directions=(2, 4), samples=5, estimators=[{"combination": "projection"}])
    >>> print(dn.diagnostics.format_estimator_table(stats))  # doctest: +ELLIPSIS
    n = 4 parameters, |∇f| = 7.483, 5 samples per row
    estimator                      K  cosine (theory)    rel. MSE (theory)     scale
    weight-normal-projection       2  ...
    weight-normal-projection       4  1.0000 (1.0000)    ...e-... (0) ...1.000
    """
    lines = [f"n = {stats['n_params']} parameters, |∇f| = {stats['grad_norm']:.4g}, "
             f"{stats['samples']} samples per row",
             f"{'estimator':<28} {'K':>3}  {'cosine (theory)':<17}  {'rel. MSE (theory)':<20}"
             f"  scale"]
    for r in stats["rows"]:
        cos = f"{r['cosine_mean']:.4f} ({_fmt(r['cosine_theory'], '.4f')})"
        mse = f"{r['relative_mse']:.4g} ({_fmt(r['relative_mse_theory'], '.4g')})"
        lines.append(f"{r['estimator']:<28} {r['n_directions']:>3}  {cos:<17}  {mse:<20}  "
                     f"{r['scale']:.3f}")
    return "\n".join(lines)
