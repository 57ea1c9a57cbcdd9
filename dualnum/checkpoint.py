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
import math
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ._files import atomic_write

__all__ = ["CheckpointError", "Checkpoint", "save", "load", "peek", "restore",
           "atomic_write", "FORMAT", "MAX_BYTES"]

#: The value of the ``format`` entry; a reader refuses files without it.
FORMAT = "dualnum-checkpoint-1"
#: The most array data :func:`load` reads by default (bytes, uncompressed, all members).
MAX_BYTES = 1 << 30
_MAX_TEXT = 1 << 20       # a string member: config, generator state, metadata
_MAX_MEMBERS = 100_000
_TEXT = ("format", "version", "config", "rng", "meta")
_SCALARS = ("step", "seconds")
_GROUPS = ("param", "optim", "extra")


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, truncated, or does not fit the model, optimizer
    or generator it is loaded into. The message is one line and names the file."""


@dataclass
class Checkpoint:
    """A checkpoint as read by :func:`load` (or by :func:`peek`, which leaves
    ``params``, ``optim`` and ``extra`` empty, as ``load`` does with the groups it is not
    asked for). ``members`` maps every stored array's
    name to its ``(shape, dtype)``, as the file's directory and .npy headers declare."""

    path: str
    step: int
    params: dict
    optim: dict
    rng_state: dict
    config: dict
    seconds: float = 0.0
    version: str = ""
    extra: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)


def save(path, *, model, optimizer=None, rng=None, step=0, config=None, seconds=0.0,
         extra=None, meta=None):
    """Write a checkpoint of ``model`` (a ``dn.nn.Module``), ``optimizer``, ``rng`` (a
    ``numpy.random.Generator``) and ``step`` to ``path``, atomically. ``config`` and
    ``meta`` are JSON objects (the run's settings; facts about it, such as the data
    split); ``extra`` holds further arrays."""
    from . import __version__

    arrays = {"format": np.array(FORMAT), "version": np.array(__version__),
              "step": np.array(int(step), np.int64),
              "seconds": np.array(float(seconds), np.float64),
              "config": np.array(json.dumps(config or {}, sort_keys=True))}
    if meta:
        arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
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


# ===================================================================== reading
def _size(n):
    return f"{n:,} bytes" if n < 1 << 20 else f"{n / 2**20:,.1f} MiB"


def _open(path):
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path}")
    if os.path.isdir(path):
        raise CheckpointError(f"{path} is a directory without a checkpoint.npz; name a "
                              f"run directory or its checkpoint file")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise CheckpointError(f"{path} is not a readable checkpoint: not a zip archive "
                              f"(corrupt or truncated, or another kind of file)") from None
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from None


def _directory(z, path):
    """{key: ZipInfo} of the archive, every name and compression checked."""
    infos = z.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise CheckpointError(f"{path} holds {len(infos):,} members; a dualnum checkpoint "
                              f"holds a few per parameter")
    entries = {}
    for info in infos:
        name = info.filename
        key = name[:-4] if name.endswith(".npy") else None
        if key is None or not (key in _TEXT or key in _SCALARS
                               or key.partition(".")[0] in _GROUPS and "." in key):
            raise CheckpointError(f"{path} is not a dualnum checkpoint: unexpected member "
                                  f"{name[:80]!r}")
        if key in entries:
            raise CheckpointError(f"{path} is corrupt: member {name!r} appears twice")
        if info.flag_bits & 0x1:
            raise CheckpointError(f"{path}: member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CheckpointError(f"{path}: member {name!r} uses compression method "
                                  f"{info.compress_type}; dualnum writes stored or deflated "
                                  f"members only")
        entries[key] = info
    return entries


def _check_size(path, entries, groups, max_bytes):
    """The members that will be read, against ``max_bytes`` (from the zip directory)."""
    total = 0
    for key, info in entries.items():
        if key in _TEXT or key in _SCALARS or key.partition(".")[0] in groups:
            total += info.file_size
            if total > max_bytes:
                raise CheckpointError(
                    f"{path} holds more than {_size(max_bytes)} of arrays (member "
                    f"{info.filename!r} alone: {_size(info.file_size)} uncompressed); refused "
                    f"before reading. If it is yours, load it with "
                    f"dualnum.checkpoint.load(path, max_bytes=...)")


def _header(z, info, path):
    """(shape, dtype) from a member's .npy header, checked against the zip entry."""
    fmt = np.lib.format
    try:
        with z.open(info) as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            start = f.tell()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} is corrupt: member {info.filename!r} is not a .npy "
                              f"array ({msg[:200]})") from None
    if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None \
            or dtype.kind not in "biufU":
        raise CheckpointError(f"{path}: member {info.filename!r} has dtype {dtype}; a "
                              f"dualnum checkpoint holds plain numbers and strings only "
                              f"(it never loads Python objects)")
    want = math.prod(shape) * dtype.itemsize
    if start + want != info.file_size:
        raise CheckpointError(f"{path} is corrupt: member {info.filename!r} declares shape "
                              f"{shape} ({_size(want)}) but holds {_size(info.file_size - start)}")
    return tuple(shape), dtype


def _check_shapes(path, members, expect):
    """Member shapes against each other and against ``expect`` ({param: shape})."""
    for key, (shape, dtype) in members.items():
        if key in _TEXT and (shape != () or dtype.kind != "U"
                             or dtype.itemsize > _MAX_TEXT):
            raise CheckpointError(f"{path}: entry {key!r} is not a string of at most "
                                  f"{_size(_MAX_TEXT)}")
        if key in _SCALARS and (shape != () or dtype.kind not in "iuf"):
            raise CheckpointError(f"{path}: entry {key!r} is not a number")
    params = {k[6:]: shape for k, (shape, _) in members.items() if k.startswith("param.")}
    for key, (shape, dtype) in members.items():
        if key.startswith("param.") and dtype.kind != "f":
            raise CheckpointError(f"{path}: parameter {key[6:]} has dtype {dtype}")
        if key.startswith("optim.") and shape != () and shape not in params.values():
            raise CheckpointError(f"{path} is corrupt: optimizer state {key[6:]} has shape "
                                  f"{shape}, which no parameter has")
    if expect is not None:
        check_parameters(path, params, {k: tuple(v) for k, v in expect.items()})


def check_parameters(path, theirs, ours):
    """Parameter names and shapes of a checkpoint (``theirs``, {name: shape}) against a
    model's (``ours``); a mismatch raises :class:`CheckpointError` naming the first."""
    for name, shape in ours.items():
        if name in theirs and theirs[name] != shape:
            raise CheckpointError(
                f"{path} is from another model: parameter {name} has shape "
                f"{theirs[name]} in the checkpoint but {shape} in this model")
    missing = [k for k in ours if k not in theirs]
    unexpected = [k for k in theirs if k not in ours]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"this model's {', '.join(missing)} missing from it")
        if unexpected:
            parts.append(f"its {', '.join(unexpected)} unknown to this model")
        raise CheckpointError(f"{path} is from another model: {'; '.join(parts)}")


def _read(z, info, path):
    try:
        with z.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} is corrupt or truncated: member {info.filename!r} "
                              f"cannot be read ({msg[:200]})") from None


def _json_object(text, what, path):
    try:
        value = json.loads(text)
    except ValueError as e:
        raise CheckpointError(f"{path} is corrupt: its {what} is not valid JSON ({e})") \
            from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path} is corrupt: its {what} is a JSON "
                              f"{type(value).__name__.replace('NoneType', 'null')}, not an "
                              f"object")
    return value


def _read_checkpoint(path, *, groups, expect, max_bytes):
    path = os.fspath(path)
    groups = tuple(groups)
    unknown = [g for g in groups if g not in _GROUPS]
    if unknown:
        raise ValueError(f"unknown member groups {unknown}; choose from {list(_GROUPS)}")
    with _open(path) as z:
        try:
            entries = _directory(z, path)
            members = {k: _header(z, info, path) for k, info in entries.items()}
            if "format" not in members:
                raise CheckpointError(f"{path} is not a dualnum checkpoint (no {FORMAT!r} "
                                      f"format entry)")
            _check_shapes(path, members, expect)
            _check_size(path, entries, groups, max_bytes)
            small = {k: _read(z, entries[k], path) for k in _TEXT + _SCALARS if k in entries}
            if str(small["format"]) != FORMAT:
                raise CheckpointError(f"{path} is not a dualnum checkpoint (its format is "
                                      f"{str(small['format'])[:40]!r}, not {FORMAT!r})")
            missing = [k for k in ("step", "config") if k not in small]
            if missing:
                raise CheckpointError(f"{path} is incomplete: missing {', '.join(missing)}")
            step = small["step"]
            if step.dtype.kind not in "iu" or int(step) < 0:
                raise CheckpointError(f"{path}: step must be a non-negative integer")
            config = _json_object(str(small["config"]), "config", path)
            meta = _json_object(str(small["meta"]), "meta", path) if "meta" in small else {}
            rng_state = (_json_object(str(small["rng"]), "generator state", path)
                         if "rng" in small else None)
            seconds = float(small["seconds"]) if "seconds" in small else 0.0
            version = str(small["version"]) if "version" in small else ""
            read = {g: {} for g in _GROUPS}
            for key, info in entries.items():
                kind, _, name = key.partition(".")
                if kind in groups:
                    read[kind][name] = _read(z, info, path)
        except zipfile.BadZipFile as e:
            raise CheckpointError(f"{path} is corrupt or truncated ({e})") from None
    if not any(k.startswith("param.") for k in members):
        raise CheckpointError(f"{path} holds no parameters")
    return Checkpoint(path, int(step), read["param"], read["optim"], rng_state, config,
                      seconds, version, read["extra"], meta, members)


def load(path, *, expect=None, max_bytes=MAX_BYTES, groups=_GROUPS):
    """Read the checkpoint at ``path`` into a :class:`Checkpoint`; any problem raises
    :class:`CheckpointError`, and nothing is ever unpickled.

    Every member is checked before any array is read: its name, its size in the zip
    directory (at most ``max_bytes`` in all), and the shape and dtype in its .npy header.
    ``expect`` ({parameter name: shape}, e.g. from ``model.named_parameters()``) also
    checks the parameters against the model they are for, so that a checkpoint of
    another model is refused before its arrays are read. ``groups`` limits the arrays
    read to some of ``"param"``, ``"optim"`` and ``"extra"``.
    """
    return _read_checkpoint(path, groups=groups, expect=expect, max_bytes=max_bytes)


def peek(path):
    """A checkpoint's step, config, metadata and member shapes, without reading its
    arrays (only the directory, the .npy headers and the small text entries)."""
    return _read_checkpoint(path, groups=(), expect=None, max_bytes=math.inf)


def restore(ckpt, model, optimizer=None, rng=None):
    """Copy a :class:`Checkpoint`'s parameters into ``model`` (in place), its state into
    ``optimizer`` and its generator state into ``rng`` (each when given). Everything is
    checked first; a checkpoint of another model raises :class:`CheckpointError` naming
    the first parameter that differs and both shapes."""
    path = ckpt.path
    own = dict(model.named_parameters(remove_duplicate=False))
    check_parameters(path, {k: v.shape for k, v in ckpt.params.items()},
             {k: p.shape for k, p in own.items()})
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
