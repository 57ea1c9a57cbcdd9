"""The worker side: one replica of a run's parameters per worker process.

A replica is built once from a snapshot (the run's config and the driver's parameter and
optimizer state) and lives in its process (in :data:`_REPLICAS`, by run id) for as long
as the run. Per step it receives the step's key, the batch's number and its blocks of
directions, plus the directional derivatives of all blocks of the previous step; it
applies that previous update (the driver's very computation: :meth:`Estimator.finish`
then the optimizer's step), then evaluates its own blocks of this step and returns
their derivatives. Nothing here imports Dask: these are plain functions that Dask runs.
"""
from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["Replica", "ReplicaMissing", "checksum", "step", "sync", "start", "stop"]

#: run id -> Replica, in this process.
_REPLICAS = {}


class ReplicaMissing(LookupError):
    """This process holds no replica of the run (a worker that joined, or restarted)."""


def checksum(model, optimizer):
    """A digest of the parameters and the optimizer's step count (hex)."""
    h = hashlib.blake2b(digest_size=16)
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(p).tobytes())
    h.update(str(optimizer.step_count).encode())
    return h.hexdigest()


def fingerprint(ds):
    """A digest of a dataset's training split: every replica must train on the same."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(ds.x_train).tobytes())
    h.update(np.ascontiguousarray(ds.y_train).tobytes())
    return h.hexdigest()


class Replica:
    """A run's model, optimizer, batches and estimator, rebuilt from a snapshot (see
    :func:`snapshot` in :mod:`dualnum.distributed.run`)."""

    def __init__(self, snap):
        from .. import data as data_mod
        from ..fgrad import Estimator
        from ..run.training import _build_model, _make_optimizer
        from ..train import _objective

        cfg = self.config = snap["config"]
        ds = data_mod.load(cfg["data"], cfg["data_dir"], download=snap["download"],
                           test_files_only=snap["test_files_only"])
        if fingerprint(ds) != snap["fingerprint"]:
            raise RuntimeError(f"the {cfg['data']} training split this worker loaded differs "
                               f"from the driver's; give every worker the same data files "
                               f"(--data-dir)")
        self.model = _build_model(cfg, ds, 0)
        self.model.load_state_dict(snap["params"])
        self.optimizer = _make_optimizer(cfg, dict(self.model.named_parameters()))
        self.optimizer.load_state_dict(snap["optim"])
        self.loader = ds.batches(cfg["batch_size"], cfg["seed"])
        self.estimator = Estimator.from_recipe(snap["recipe"])
        self.leaves, self.td, self.apply = _objective(self.model, self.optimizer)
        self.model.train(True)
        self.applied = snap["step"]  # updates applied so far
        self.pending = None  # (step, Partial) evaluated, its update not yet applied

    def _problem(self, batch):
        from ..run.training import _loss
        from ..train import Problem

        x, y = self.loader.batch(batch)
        return Problem(None, self.leaves, self.apply, self.model, _loss, x, y)

    def catch_up(self, prev):
        """Apply the update of ``prev`` (``{"step", "derivatives"}``) if it is the next."""
        from ..core.pytree import unflatten

        if prev is None or prev["step"] != self.applied + 1:
            return
        if self.pending is None or self.pending[0] != prev["step"]:
            raise RuntimeError(f"replica at step {self.applied} has not evaluated step "
                               f"{prev['step']}, whose update it was sent")
        _, grads = self.estimator.finish(self.pending[1], prev["derivatives"])
        self.optimizer.step(unflatten(self.td, list(grads)))
        self.applied, self.pending = prev["step"], None

    def step(self, msg):
        self.catch_up(msg["prev"])
        t = msg["step"]
        if self.applied != t - 1:
            raise RuntimeError(f"replica has applied {self.applied} updates; step {t} needs "
                               f"{t - 1}")
        part = self.estimator.forward(self._problem(msg["batch"]), msg["key"], msg["blocks"])
        if self.pending is None:  # a second share of the same step (a lost worker's) reuses it
            self.pending = (t, part)
        return {"derivatives": part.derivatives, "loss": float(np.asarray(part.value))}


def _threads(cfg):
    from ..run.training import _threads as threads

    return threads(cfg["threads"])


def start(run_id, snap):
    """Build this process's replica of run ``run_id`` (a Dask task)."""
    rep = Replica(snap)
    _REPLICAS[run_id] = rep
    return checksum(rep.model, rep.optimizer)


def _get(run_id):
    rep = _REPLICAS.get(run_id)
    if rep is None:
        raise ReplicaMissing(run_id)
    return rep


def step(run_id, msg):
    """One step's share on this process's replica (a Dask task)."""
    rep = _get(run_id)
    with _threads(rep.config):
        return rep.step(msg)


def sync(run_id, prev):
    """Apply ``prev`` and return (updates applied, checksum) (a Dask task)."""
    rep = _get(run_id)
    with _threads(rep.config):
        rep.catch_up(prev)
    return rep.applied, checksum(rep.model, rep.optimizer)


def stop(run_id):
    """Forget the replica of run ``run_id`` (a Dask task)."""
    return _REPLICAS.pop(run_id, None) is not None
