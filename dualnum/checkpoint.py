"""Training checkpoints: one ``.npz`` file with the parameters, the optimizer's state, the
random generator's state, the step and the run's configuration, written atomically and
read with ``allow_pickle=False``.

Arrays stored (all plain ndarrays; strings are unicode arrays):

* ``param.<name>``: each model parameter (``model.state_dict()``);
* ``optim.<key>``: the optimizer's ``state_dict()``;
* ``rng``: the direction generator's ``bit_generator.state`` as JSON;
* ``step``, ``seconds`` (training time so far), ``config`` (JSON), ``format``,
  ``version``, and any extra arrays given (``norm.mean``, ``norm.std``: the data
  normalisation).

>>> import os, tempfile, numpy as np, dualnum as dn
>>> from dualnum import checkpoint
>>> model = dn.nn.Linear(3, 2, rng=0)
>>> opt = dn.optim.Adam(dict(model.named_parameters()), lr=0.1)
>>> rng = np.random.default_rng(0)
>>> path = os.path.join(tempfile.mkdtemp(), "checkpoint.npz")
>>> checkpoint.save(path, model=model, optimizer=opt, rng=rng, step=7, config={"lr": 0.1})
>>> ck = checkpoint.load(path)
>>> ck.step, ck.config, sorted(ck.params)
(7, {'lr': 0.1}, ['bias', 'weight'])
>>> other = dn.nn.Linear(4, 2, rng=1)
>>> checkpoint.restore(ck, other)
Traceback (most recent call last):
...
dualnum.checkpoint.CheckpointError: ... is from another model: parameter weight has shape (2, 3) in the checkpoint but (2, 4) in this model
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from ._files import atomic_write

__all__ = ["CheckpointError", "Checkpoint", "save", "load", "restore", "atomic_write",
           "FORMAT"]

#: The value of the ``format`` entry; a reader refuses files without it.
FORMAT = "dualnum-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, truncated, or does not fit the model, optimizer
    or generator it is loaded into. The message is one line and names the file."""


@dataclass
class Checkpoint:
    """A checkpoint as read by :func:`load`."""

    path: str
    step: int
    params: dict
    optim: dict
    rng_state: dict
    config: dict
    seconds: float = 0.0
    version: str = ""
    extra: dict = field(default_factory=dict)


def save(path, *, model, optimizer=None, rng=None, step=0, config=None, seconds=0.0,
         extra=None):
    """Write a checkpoint of ``model`` (a ``dn.nn.Module``), ``optimizer``, ``rng`` (a
    ``numpy.random.Generator``) and ``step`` to ``path``, atomically."""
    from . import __version__

    arrays = {"format": np.array(FORMAT), "version": np.array(__version__),
              "step": np.array(int(step), np.int64),
              "seconds": np.array(float(seconds), np.float64),
              "config": np.array(json.dumps(config or {}, sort_keys=True))}
    for name, value in model.state_dict().items():
        arrays[f"param.{name}"] = value
    if optimizer is not None:
        for key, value in optimizer.state_dict().items():
            arrays[f"optim.{key}"] = value
    if rng is not None:
        arrays["rng"] = np.array(json.dumps(rng.bit_generator.state))
    for key, value in (extra or {}).items():
        if value is not None:
            arrays[f"extra.{key}"] = np.asarray(value)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def _string(arrays, key, path):
    v = arrays[key]
    if v.shape != () or v.dtype.kind != "U":
        raise CheckpointError(f"{path}: entry {key!r} is not a string")
    return str(v)


def load(path):
    """Read the checkpoint at ``path`` (``allow_pickle=False``) into a
    :class:`Checkpoint`; any problem raises :class:`CheckpointError`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # zipfile, zlib, format and pickle errors alike
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated: "
                              f"{msg})") from None
    try:
        if "format" not in arrays or _string(arrays, "format", path) != FORMAT:
            raise CheckpointError(f"{path} is not a dualnum checkpoint (no {FORMAT!r} "
                                  f"format entry)")
        missing = [k for k in ("step", "config") if k not in arrays]
        if missing:
            raise CheckpointError(f"{path} is incomplete: missing {', '.join(missing)}")
        step = arrays["step"]
        if step.shape != () or step.dtype.kind not in "iu" or int(step) < 0:
            raise CheckpointError(f"{path}: step must be a non-negative integer")
        config = json.loads(_string(arrays, "config", path))
        rng_state = json.loads(_string(arrays, "rng", path)) if "rng" in arrays else None
        seconds = float(arrays["seconds"]) if "seconds" in arrays else 0.0
        version = _string(arrays, "version", path) if "version" in arrays else ""
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path} is corrupt: bad JSON ({e})") from None
    params, optim, extra = {}, {}, {}
    for key, value in arrays.items():
        kind, _, name = key.partition(".")
        if kind == "param":
            params[name] = value
        elif kind == "optim":
            optim[name] = value
        elif kind == "extra":
            extra[name] = value
    if not params:
        raise CheckpointError(f"{path} holds no parameters")
    return Checkpoint(path, int(step), params, optim, rng_state, config, seconds, version,
                      extra)


def restore(ckpt, model, optimizer=None, rng=None):
    """Copy a :class:`Checkpoint`'s parameters into ``model`` (in place), its state into
    ``optimizer`` and its generator state into ``rng`` (each when given). Everything is
    checked first; a checkpoint of another model raises :class:`CheckpointError` naming
    the first parameter that differs and both shapes."""
    path = ckpt.path
    own = dict(model.named_parameters(remove_duplicate=False))
    for name, p in own.items():
        if name in ckpt.params and ckpt.params[name].shape != p.shape:
            raise CheckpointError(
                f"{path} is from another model: parameter {name} has shape "
                f"{ckpt.params[name].shape} in the checkpoint but {p.shape} in this model")
    missing = [k for k in own if k not in ckpt.params]
    unexpected = [k for k in ckpt.params if k not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"this model's {', '.join(missing)} missing from it")
        if unexpected:
            parts.append(f"its {', '.join(unexpected)} unknown to this model")
        raise CheckpointError(f"{path} is from another model: {'; '.join(parts)}")
    for name, value in ckpt.params.items():
        if value.dtype.kind != "f":
            raise CheckpointError(f"{path}: parameter {name} has dtype {value.dtype}")
    if rng is not None:
        if ckpt.rng_state is None:
            raise CheckpointError(f"{path} holds no random generator state")
        probe = type(rng.bit_generator)()
        try:
            probe.state = ckpt.rng_state
        except (TypeError, ValueError, KeyError) as e:
            raise CheckpointError(f"{path}: cannot restore the random generator "
                                  f"({type(rng.bit_generator).__name__}): {e}") from None
    if optimizer is not None:
        try:  # validates everything before changing anything
            optimizer.load_state_dict(ckpt.optim)
        except (ValueError, TypeError) as e:
            detail = "; ".join(s.strip() for s in str(e).splitlines() if s.strip())
            raise CheckpointError(f"{path}: the optimizer state does not fit: "
                                  f"{detail}") from None
    model.load_state_dict(ckpt.params)
    if rng is not None:
        rng.bit_generator.state = ckpt.rng_state
