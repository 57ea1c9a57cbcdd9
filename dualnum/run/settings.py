"""Every setting of a training run, declared once: its name (the config key; the flag is
``--name-with-dashes``), type, bounds, default and help.

The command line builds ``dualnum train``'s flags from :data:`SETTINGS`; :func:`resolve`
checks a run's settings (given by flags, by a library caller, or read back from a
checkpoint) with the same checks, fills in the defaults, and returns the config that a
run records in full. Adding a setting (a new estimator's, say) is one entry here plus
the code that reads it.

>>> from dualnum.run.settings import resolve
>>> cfg = resolve({"data": "mnist", "optimizer": "adam"})
>>> cfg["estimator"], cfg["lr"], cfg["directions"], cfg["distribution"], cfg["eval_every"]
('activity', 0.003, 64, 'normal', 500)
>>> cfg = resolve({"data": "mnist", "estimator": "weight"})
>>> cfg["optimizer"], cfg["lr"], cfg["directions"], cfg["distribution"]
('sgd', 0.005, 64, 'outer')
>>> resolve({"momentum": 5})
Traceback (most recent call last):
...
dualnum.run.settings.SettingError: momentum: must be in [0, 1), got 5 (0.9 is typical)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from .._checks import argument

__all__ = ["Setting", "SETTINGS", "DEFAULTS", "TRAJECTORY", "SettingError", "resolve",
           "check", "EXACT_CHUNK", "by_name"]

#: Per-dataset defaults of the settings that depend on the data. ``adam_lr``/``sgd_lr``
#: are the learning rates of the default recipe (:data:`RECIPES`); ``weight`` holds those
#: of the paper's weight perturbation, whose estimates are noisier and need smaller
#: steps (``python bench/quality.py`` measured both; bench/QUALITY.md).
DEFAULTS = {
    "digits": dict(model="mlp", hidden=64, steps=3000, batch_size=64, adam_lr=0.001,
                   sgd_lr=0.1, weight=dict(optimizer="sgd", sgd_lr=0.02, adam_lr=0.003,
                                           directions=16, distribution="rademacher")),
    "mnist": dict(model="mlp", hidden=64, steps=5000, batch_size=64, adam_lr=0.003,
                  sgd_lr=0.1, weight=dict(optimizer="sgd", sgd_lr=0.005, adam_lr=0.001,
                                          directions=64, distribution="outer")),
    "spirals": dict(model="mlp", hidden=64, steps=6000, batch_size=64, adam_lr=0.01,
                    sgd_lr=0.1, weight=dict(optimizer="adam", sgd_lr=0.05, adam_lr=0.01,
                                            directions=16, distribution="rademacher")),
    "blobs": dict(model="mlp", hidden=64, steps=500, batch_size=64, adam_lr=0.01,
                  sgd_lr=0.1, weight=dict(optimizer="sgd", sgd_lr=0.02, adam_lr=0.01,
                                          directions=16, distribution="rademacher")),
}
DEFAULTS["fashion-mnist"] = DEFAULTS["mnist"]  # the same shapes and sizes
#: The default forward-gradient recipe of each model (bench/QUALITY.md): activity
#: perturbation (Ren et al. 2023) with the projection (Flügel et al. 2025), K = 64
#: directions per layer. For the default mlp (64 hidden units) and the logreg, 64 covers
#: every layer's width, and the projection is then the exact activity gradient; a wider
#: mlp gets a stochastic estimate at the same cost per layer (and the same bytes per
#: step in distributed runs), unless --directions is raised to its width. The cnn's
#: activations are too wide for that, so each of its blocks trains by a local head
#: (local losses), whose 2×2 pooling windows K = 64 covers.
RECIPES = {
    "logreg": dict(estimator="activity", combination="projection", local_losses=False,
                   directions=64, optimizer="adam"),
    "mlp": dict(estimator="activity", combination="projection", local_losses=False,
                directions=64, optimizer="adam"),
    "cnn": dict(estimator="activity", combination="projection", local_losses=True,
                directions=64, optimizer="adam"),
}
#: Directions per pass of ``--gradient exact`` when ``chunk_size`` is not given.
EXACT_CHUNK = 512
_BY_DATA = object()  # a default that comes from DEFAULTS[data]


class SettingError(ValueError):
    """A setting's value is out of range or of the wrong type (one line, naming it)."""

    def __init__(self, message, name=None):
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Setting:
    """One setting: ``kind`` is ``"int"``, ``"float"``, ``"choice"`` or ``"path"``;
    ``"bool"`` (flags take yes/no); ``low``/``high`` bound numbers (``high_open``: the upper bound itself is
    excluded); ``optional`` allows None; ``trajectory`` marks settings that change the
    training trajectory (resuming with another value no longer matches an uninterrupted
    run)."""

    name: str
    kind: str
    help: str
    group: str
    default: object = None
    low: float | None = None
    high: float | None = None
    high_open: bool = False
    positive: bool = False
    choices: object = None
    optional: bool = False
    trajectory: bool = False
    metavar: str | None = None
    hint: str = ""
    inherit: bool = True  # False: a resumed run does not take it from the checkpoint

    @property
    def flag(self):
        return "--" + self.name.replace("_", "-")

    def options(self):
        """The accepted choices (resolved late: they come from other modules)."""
        return tuple(self.choices() if callable(self.choices) else self.choices)

    # ------------------------------------------------------------ checks
    def _bounds(self):
        if self.kind == "int":
            if self.low == 1:
                what = "a positive integer"
            elif self.low == 0:
                what = "a non-negative integer"
            else:
                what = "an integer"
            return what
        if self.high is not None and self.high_open:
            return f"in [{self.low:g}, {self.high:g})"
        if self.positive:
            return "a positive finite number"
        return "a non-negative finite number" if self.low == 0 else "a finite number"

    def check(self, value):
        """The value, checked; a :class:`SettingError` (without the name) otherwise."""
        if value is None:
            if self.optional:
                return None
            raise SettingError("must be given (got null)")
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise SettingError(f"must be {self._bounds()}, got {value!r}")
            value = int(value)
            if value < self.low:
                raise SettingError(f"must be {self._bounds()}, got {value}")
            if self.high is not None and value > self.high:
                raise SettingError(f"must be at most {self.high:,}, got {value:,}"
                                   + (f" ({self.hint})" if self.hint else ""))
            return value
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise SettingError(f"must be {self._bounds()}, got {value!r}")
            value = float(value)
            bad = (not math.isfinite(value) or value < self.low
                   or (self.positive and value == 0)
                   or (self.high is not None and (value >= self.high if self.high_open
                                                  else value > self.high)))
            if bad:
                raise SettingError(f"must be {self._bounds()}, got {value:g}"
                                   + (f" ({self.hint})" if self.hint else ""))
            return value
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise SettingError(f"must be true or false, got {value!r}")
            return bool(value)
        if self.kind == "choice":
            options = self.options()
            if value not in options:
                raise SettingError(f"must be one of {', '.join(options)}, got {value!r}")
            return value
        if not isinstance(value, str):
            raise SettingError(f"must be a path (a string), got {value!r}")
        if not value.strip():
            raise SettingError(f"must name a directory, got {value!r}")
        if "\0" in value:
            raise SettingError("must not contain a NUL character")
        return value

    def parse(self, text):
        """The value of a command-line argument (argparse's ``type=``)."""
        if self.kind == "int":
            try:
                value = int(text)
            except ValueError:
                raise SettingError(f"{text[:40]!r} is not an integer") from None
        elif self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise SettingError(f"{text[:40]!r} is not a number") from None
        elif self.kind == "bool":
            value = _BOOLS.get(text.strip().lower())
            if value is None:
                raise SettingError(f"{text[:40]!r} is not yes or no")
        else:
            value = text
        return self.check(value)

    def describe_default(self):
        """The default, as ``--help`` states it."""
        if self.default is _BY_DATA:
            return _by_data(self.name)
        if callable(self.default):
            return self.default.__doc__
        if self.default is None:
            return None
        if isinstance(self.default, bool):
            return "yes" if self.default else "no"
        return f"{self.default:,}" if isinstance(self.default, int) else str(self.default)


def _by_data(key, table=None, label=""):
    """How a default that depends on the data (or, with ``table=RECIPES``, on the
    model) reads in ``--help``: one value, or each value with what takes it."""
    values = {}
    for name, d in (DEFAULTS if table is None else table).items():
        values.setdefault(d[key], []).append(label + name)
    if len(values) == 1:
        return str(next(iter(values)))
    return "; ".join(f"{v:,} for {', '.join(ds)}" if isinstance(v, int)
                     else f"{v} for {', '.join(ds)}" for v, ds in values.items())


def _datasets():
    from ..data import DATASETS

    return DATASETS


def _models():
    from ..models import MODELS

    return MODELS


def _distributions():
    from ..fgrad import WEIGHT_DISTRIBUTIONS

    return WEIGHT_DISTRIBUTIONS


def _estimators():
    from ..fgrad import PERTURBATIONS

    return PERTURBATIONS


def _combinations():
    from ..fgrad import COMBINATIONS

    return COMBINATIONS


def _gradients():
    from .estimators import ESTIMATORS

    return tuple(ESTIMATORS)


def _weight(cfg):
    """Whether the run uses the paper's weight perturbation (its own defaults)."""
    return cfg["gradient"] == "forward" and cfg["estimator"] == "weight"


def _default_estimator(cfg):
    return RECIPES[cfg["model"]]["estimator"]


_default_estimator.__doc__ = _by_data("estimator", RECIPES, "--model ")


def _default_combination(cfg):
    """projection; mean with --estimator weight"""
    return "mean" if _weight(cfg) else RECIPES[cfg["model"]]["combination"]


def _default_local_losses(cfg):
    """yes for --model cnn; no otherwise, and with --estimator weight"""
    if cfg["gradient"] != "forward" or _weight(cfg):
        return False
    return RECIPES[cfg["model"]]["local_losses"]


def _default_directions(cfg):
    """64 per layer (exact up to 64 hidden units); with --estimator weight: 16 for
    digits, spirals, blobs; 64 for mnist, fashion-mnist"""
    if _weight(cfg):
        return DEFAULTS[cfg["data"]]["weight"]["directions"]
    return RECIPES[cfg["model"]]["directions"]


def _default_distribution(cfg):
    """normal; with --estimator weight: rademacher for digits, spirals, blobs; outer for
    mnist, fashion-mnist"""
    return DEFAULTS[cfg["data"]]["weight"]["distribution"] if _weight(cfg) else "normal"


def _default_optimizer(cfg):
    """adam; with --estimator weight: sgd (adam for spirals)"""
    if _weight(cfg):
        return DEFAULTS[cfg["data"]]["weight"]["optimizer"]
    return RECIPES[cfg["model"]]["optimizer"]


def _default_lr(cfg):
    table = DEFAULTS[cfg["data"]]
    if _weight(cfg):
        table = table["weight"]
    return table[f"{cfg['optimizer']}_lr"]


def _lr_doc():
    by = {}
    for data, d in DEFAULTS.items():
        by.setdefault(f"{d['adam_lr']:g} with adam, {d['sgd_lr']:g} with sgd", []).append(data)
    return ("; ".join(f"{v} for {', '.join(ds)}" for v, ds in by.items())
            + "; smaller with --estimator weight")


_default_lr.__doc__ = _lr_doc()


def _default_eval_every(cfg):
    """steps/10"""
    return max(cfg["steps"] // 10, 1)


def _default_chunk(cfg):
    """all directions at once; 512 for --gradient exact"""
    return EXACT_CHUNK if cfg["gradient"] == "exact" else None


_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False,
          "1": True, "0": False}
_MAX_STEPS = 10**9
_DATA, _OPT, _RUN = "data", "model and optimisation", "run"
_CLUSTER = "distributed training"
#: Every setting of a run, in the order a config lists them.
SETTINGS = (
    Setting("data", "choice", "dataset", _DATA, "digits", choices=_datasets,
            trajectory=True),
    Setting("data_dir", "path", "directory with the dataset's files (MNIST, Fashion-MNIST); "
            "then $DUALNUM_DATA, then the user cache", _DATA, optional=True, metavar="PATH"),
    Setting("model", "choice", "model", _OPT, _BY_DATA, choices=_models, trajectory=True),
    Setting("hidden", "int", "hidden units of the mlp", _OPT, _BY_DATA, low=1, high=1 << 16,
            trajectory=True),
    Setting("steps", "int", "total optimizer steps (with --resume: the total to reach)",
            _OPT, _BY_DATA, low=1, high=_MAX_STEPS, metavar="N",
            hint="a billion steps is days of training"),
    Setting("batch_size", "int", "examples per step", _OPT, _BY_DATA, low=1, high=1 << 20,
            metavar="B", trajectory=True),
    Setting("gradient", "choice", "forward gradients or exact forward-mode gradients",
            _OPT, "forward", choices=_gradients, trajectory=True),
    Setting("estimator", "choice", "forward-gradient estimator: weight perturbation "
            "(Baydin et al. 2022) or activity perturbation (Ren et al. 2023)", _OPT,
            _default_estimator, choices=_estimators, trajectory=True),
    Setting("directions", "int", "random directions per forward-gradient step (per "
            "layer with --estimator activity)", _OPT, _default_directions, low=1,
            high=1 << 16, metavar="K", trajectory=True),
    Setting("distribution", "choice", "distribution of the directions (outer: weight "
            "perturbation only)", _OPT, _default_distribution, choices=_distributions,
            trajectory=True),
    Setting("combination", "choice", "how the K directional derivatives combine: their "
            "mean (Baydin et al.) or the projection onto the directions' span (Flügel et al. "
            "2025)", _OPT, _default_combination, choices=_combinations, trajectory=True),
    Setting("local_losses", "bool", "train each block by a local head and its own loss "
            "(Ren et al. 2023); the model gets the heads", _OPT, _default_local_losses,
            trajectory=True),
    Setting("clip", "float", "clip each directional derivative to [-CLIP, CLIP] (none by "
            "default)", _OPT, None, low=0, positive=True, optional=True, trajectory=True),
    Setting("chunk_size", "int", "directions per forward pass (weight perturbation)", _OPT,
            _default_chunk, low=1, high=1 << 16, optional=True, trajectory=True),
    Setting("optimizer", "choice", "optimizer", _OPT, _default_optimizer,
            choices=("sgd", "adam"), trajectory=True),
    Setting("lr", "float", "learning rate", _OPT, _default_lr, low=0, positive=True,
            trajectory=True),
    Setting("lr_decay", "float", "exponential decay: lr * exp(-K * step); 0 keeps it "
            "constant", _OPT, 0.0, low=0, metavar="K", trajectory=True),
    Setting("momentum", "float", "SGD momentum", _OPT, 0.0, low=0, high=1, high_open=True,
            trajectory=True, hint="0.9 is typical"),
    Setting("weight_decay", "float", "L2 weight decay", _OPT, 0.0, low=0, trajectory=True),
    Setting("seed", "int", "seed of initialisation, directions and shuffling", _OPT, 0,
            low=0, high=2**63 - 1, trajectory=True),
    Setting("out", "path", "run directory (see 'Run directories' below)", _RUN, None,
            optional=True, metavar="DIR"),
    Setting("threads", "int", "threads for numba kernels and BLAS (these models are small, "
            "and on small products extra threads cost more than they save)", _RUN, 1, low=1,
            high=1024),
    Setting("eval_every", "int", "evaluate on the test split every N steps; 0: only at the "
            "end", _RUN, _default_eval_every, low=0, high=_MAX_STEPS, metavar="N"),
    Setting("checkpoint_every", "int", "save a checkpoint every N steps; 0: only at the end",
            _RUN, 500, low=0, high=_MAX_STEPS, metavar="N"),
    Setting("log_every", "int", "write a metrics line every N steps", _RUN, 10, low=1,
            high=_MAX_STEPS, metavar="N"),
    # Where the steps run (dualnum.distributed); the trajectory is the same either way.
    Setting("workers", "int", "train on a Dask LocalCluster of N worker processes started "
            "for this run (pip install 'dualnum[distributed]')", _CLUSTER, None, low=1,
            high=1024, optional=True, metavar="N", inherit=False),
    Setting("scheduler", "path", "train on the existing Dask cluster with this scheduler",
            _CLUSTER, None, optional=True, metavar="tcp://HOST:PORT", inherit=False),
)
_BY_NAME = {s.name: s for s in SETTINGS}
#: Settings that change the training trajectory.
TRAJECTORY = tuple(s.name for s in SETTINGS if s.trajectory)


def by_name(name):
    """The :class:`Setting` called ``name``."""
    return _BY_NAME[name]


def check(values, *, where=None):
    """``values`` ({name: value}) with every known setting checked; unknown names raise
    (``where`` None) or are dropped (``where`` names the file they were read from, whose
    errors then name it too)."""
    if not isinstance(values, dict):
        raise SettingError(f"settings must be a dict, got {type(values).__name__}")
    out = {}
    for name, value in values.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            if where is None:
                raise SettingError(f"unknown setting {name!r}; the settings are "
                                   f"{', '.join(_BY_NAME)}", name)
            continue
        try:
            out[name] = setting.check(value)
        except SettingError as e:
            if where is None:
                raise SettingError(f"{argument(name)}: {e}", name) from None
            raise SettingError(f"{where}: its config has {name}={value!r}, which is invalid: "
                               f"{e}; the file was edited or damaged", name) from None
    return out


def resolve(given, base=None, *, where=None):
    """The full config of a run: ``given`` settings over ``base`` (a checkpoint's
    config, read from ``where``) over the defaults, every value checked, and the checks
    that involve several settings applied. Raises :class:`SettingError`."""
    given = check(given)
    base = check(base or {}, where=where or "the base config")
    if base.get("gradient") == "forward" and "estimator" not in base:
        # A checkpoint from before the estimator settings: it trained by weight
        # perturbation, and continuing it must not switch recipes.
        base = dict(base, estimator="weight", combination="mean", local_losses=False)
    cfg = {}
    for s in SETTINGS:
        if s.name in given:
            cfg[s.name] = given[s.name]
        elif s.name in base and s.inherit:
            cfg[s.name] = base[s.name]
        elif s.default is _BY_DATA:
            cfg[s.name] = DEFAULTS[cfg["data"]][s.name]
        elif callable(s.default):
            cfg[s.name] = s.default(cfg)
        else:
            cfg[s.name] = s.default
    if cfg["gradient"] == "exact" and cfg["clip"] is not None:
        raise SettingError(f"{argument('clip')} limits forward gradients' directional "
                           f"derivatives; it does not apply to {argument('gradient')} exact",
                           "clip")
    if cfg["gradient"] == "forward" and cfg["estimator"] == "activity":
        from ..fgrad import ACTIVITY_DISTRIBUTIONS

        if cfg["distribution"] not in ACTIVITY_DISTRIBUTIONS:
            raise SettingError(f"{argument('distribution')} {cfg['distribution']} draws "
                               f"rank-one weight directions; {argument('estimator')} "
                               f"activity takes {' or '.join(ACTIVITY_DISTRIBUTIONS)}",
                               "distribution")
        if cfg["chunk_size"] is not None:
            raise SettingError(f"{argument('chunk_size')} splits weight-perturbation "
                               f"directions into passes; {argument('estimator')} activity "
                               f"draws each layer's directions in one pass", "chunk_size")
    if cfg["optimizer"] != "sgd" and cfg["momentum"]:
        raise SettingError(f"{argument('momentum')} applies to {argument('optimizer')} sgd "
                           f"only", "momentum")
    return cfg
