"""The driver side: :class:`DistributedRun`, a :class:`dualnum.run.Run` whose gradient
step is evaluated by replicas on Dask workers, each for its blocks of directions.

Per step the driver draws the evaluation's key from the run's generator (as the
single-process estimator does), sends every replica the step, the key, the batch's
number and its blocks, plus the derivatives of all blocks of the previous step, and
gathers the derivatives of this step. It then runs the primal pass itself and finishes
the estimate exactly as a replica does (:meth:`dualnum.fgrad.Estimator.finish`); the
run's own loop applies the update. Parameters travel only when a replica starts.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import time
import uuid

import numpy as np

from ..fgrad import Estimator
from ..fgrad.directions import blocks_of, draw_key, slots_of
from ..run.training import Run, RunError
from ..train import GradientEstimator
from . import replica as replica_mod

__all__ = ["DistributedRun", "DistributedError", "ReplicasDivergedError", "WorkersLostError"]

#: Seconds a step may take before it is declared hung (overridden by
#: ``DUALNUM_STEP_TIMEOUT``): far above any step of these models, far below forever.
STEP_TIMEOUT = 120.0
_POLL = 0.5


class DistributedError(RunError):
    """A distributed run cannot start or go on (one line: what and what to do)."""


class ReplicasDivergedError(DistributedError):
    """The replicas' parameters differ from the driver's at a checksum."""


class WorkersLostError(DistributedError):
    """No worker is left to evaluate a step, or a step hung past its timeout."""


def _nbytes(obj):
    return len(pickle.dumps(obj, protocol=5))


def _partition(n_blocks, workers):
    """Blocks 0..n_blocks-1 dealt round-robin to ``workers`` (in their order)."""
    out = {w: [] for w in workers}
    for b, w in zip(range(n_blocks), itertools.cycle(workers)):
        out[w].append(b)
    return out


class _Pool:
    """The replicas on a Dask cluster: their start, steps, checksums and recovery."""

    def __init__(self, client, run, timeout):
        self.client, self.run, self.timeout = client, run, timeout
        self.id = f"dualnum-{uuid.uuid4().hex[:12]}"
        self.replicas = []  # worker addresses holding a replica, in start order
        self.prev = None  # {"step", "derivatives"} of the last step, not yet sent
        self.bytes = []  # per step: bytes of the messages and results
        self.snapshot_bytes = 0
        self.recoveries = []
        self._ids = itertools.count()

    # ------------------------------------------------------------------ helpers
    def _submit(self, fn, worker, *args):
        return self.client.submit(fn, self.id, *args, workers=[worker],
                                  allow_other_workers=False, pure=False,
                                  key=f"{fn.__name__}-{self.id}-{next(self._ids)}")

    def _live(self):
        return set(self.client.nthreads())

    def _gather(self, futures, what):
        """{worker: result or exception} for {worker: future}; a worker that leaves the
        cluster gives a WorkersLostError entry; past the timeout, raises."""
        import distributed

        deadline = time.monotonic() + self.timeout
        out, pending = {}, dict(futures)
        while pending:
            try:
                distributed.wait(list(pending.values()), timeout=_POLL,
                                 return_when="FIRST_COMPLETED")
            except Exception:  # a timeout, or futures cancelled: their statuses say which
                pass
            live = None
            for w, f in list(pending.items()):
                if f.status == "finished":
                    out[w] = f.result()
                elif f.status in ("error", "cancelled", "lost"):
                    try:
                        out[w] = f.exception() or WorkersLostError(f"{w}: task {f.status}")
                    except Exception as e:  # the exception itself could not be read back
                        out[w] = e
                else:
                    if live is None:
                        live = self._live()
                    if w not in live:
                        f.cancel()
                        out[w] = WorkersLostError(f"worker {w} left the cluster")
                    continue
                del pending[w]
            if pending and time.monotonic() > deadline:
                for f in pending.values():
                    f.cancel()
                raise WorkersLostError(
                    f"{what}: no answer from {', '.join(sorted(pending))} within "
                    f"{self.timeout:g} s; {self.run._kept()}; continue with --resume")
        return out

    # ------------------------------------------------------------------ replicas
    def start(self, workers=None):
        """Start a replica on each worker (default: every worker of the cluster) that has
        none, from the driver's current state."""
        workers = sorted(self._live()) if workers is None else workers
        new = [w for w in workers if w not in self.replicas]
        if not new:
            return
        snap = snapshot(self.run)
        self.snapshot_bytes += _nbytes(snap) * len(new)
        # The snapshot is sent once per worker, not embedded in every task.
        futures = {w: self._submit(replica_mod.start, w, snap) for w in new}
        mine = replica_mod.checksum(self.run.model, self.run.optimizer)
        for w, res in self._gather(futures, "starting the replicas").items():
            if isinstance(res, BaseException):
                if isinstance(res, WorkersLostError):
                    continue
                raise DistributedError(f"the replica on {w} could not start: "
                                       f"{type(res).__name__}: {res}")
            if res != mine:
                raise ReplicasDivergedError(f"the replica started on {w} does not hold the "
                                            f"driver's parameters")
            self.replicas.append(w)
        if not self.replicas:
            raise WorkersLostError("no worker could start a replica")

    def step(self, t, key, batch, counts):
        """All blocks' derivatives of step ``t`` and the loss (from the replica with
        block 0), recovering from lost workers."""
        live = self._live()
        gone = [w for w in self.replicas if w not in live]
        if gone:
            self._lost(gone, t)
        self.start(sorted(live))  # workers that joined (or restarted) get a replica
        n_blocks = blocks_of(max(counts))
        todo = list(range(n_blocks))
        got = {}  # block -> (worker, result)
        sent = 0
        prev = self.prev
        while todo:
            if not self.replicas:
                raise WorkersLostError(f"step {t}: every worker was lost; "
                                       f"{self.run._kept()}; continue with --resume")
            shares = _partition(len(todo), self.replicas)
            shares = {w: [todo[i] for i in idx] for w, idx in shares.items() if idx}
            futures = {}
            for w, blocks in shares.items():
                msg = {"step": t, "key": key, "batch": t - 1, "blocks": blocks, "prev": prev}
                sent += _nbytes(msg)
                futures[w] = self._submit(replica_mod.step, w, msg)
            lost = []
            for w, res in self._gather(futures, f"step {t}").items():
                if isinstance(res, replica_mod.ReplicaMissing):
                    lost.append(w)  # restarted under the same address: start it again
                elif isinstance(res, WorkersLostError):
                    lost.append(w)
                elif isinstance(res, BaseException):
                    raise DistributedError(f"step {t} failed on {w}: {type(res).__name__}: "
                                           f"{res}")
                else:
                    sent += _nbytes(res)
                    for b in shares[w]:
                        got[b] = res
                    todo = [b for b in todo if b not in shares[w]]
            if lost:
                self._lost(lost, t)
        derivs = []
        for i, n in enumerate(counts):
            first = got[0]["derivatives"][i]
            full = np.empty((n,) + first.shape[1:], first.dtype)
            for w_res, blocks in _shares_of(got):
                full[slots_of(blocks, n)] = w_res["derivatives"][i]
            derivs.append(full)
        self.prev = {"step": t, "derivatives": derivs}
        self.bytes.append(sent)
        return derivs, got[0]["loss"]

    def _lost(self, workers, t):
        for w in workers:
            if w in self.replicas:
                self.replicas.remove(w)
        self.recoveries.append({"step": t, "workers": sorted(workers)})
        self.run.reporter.note(f"note: lost {', '.join(sorted(workers))} at step {t:,}; "
                               f"their directions go to the other replicas")

    def verify(self, t):
        """Apply the pending update everywhere and compare every replica's checksum with
        the driver's; raises ReplicasDivergedError naming the step and the workers."""
        mine = replica_mod.checksum(self.run.model, self.run.optimizer)
        futures = {w: self._submit(replica_mod.sync, w, self.prev) for w in self.replicas}
        bad, lost = [], []
        for w, res in self._gather(futures, f"checksums at step {t}").items():
            if isinstance(res, BaseException):
                lost.append(w)
            elif tuple(res) != (t, mine):
                bad.append(f"{w} (at update {res[0]}, {res[1][:12]})")
        self.prev = None
        if lost:
            self._lost(lost, t)
        if bad:
            raise ReplicasDivergedError(
                f"step {t:,}: replicas differ from the driver (update {t}, {mine[:12]}): "
                f"{'; '.join(bad)}; {self.run._kept()}")
        return mine

    def close(self):
        futures = {w: self._submit(replica_mod.stop, w) for w in self.replicas}
        try:
            self._gather(futures, "stopping the replicas")
        except WorkersLostError:
            pass


def _shares_of(got):
    """[(result, its blocks)] from {block: result}."""
    by = {}
    for b, res in sorted(got.items()):
        by.setdefault(id(res), (res, []))[1].append(b)
    return list(by.values())


def snapshot(run):
    """What a replica starts from: the run's config, recipe and state."""
    from .replica import fingerprint

    ds = run.dataset
    trained_on = run._info.meta.get("test_split") if run._info is not None else None
    return {"config": run.config, "recipe": run.estimator.inner.describe(),
            "params": run.model.state_dict(), "optim": run.optimizer.state_dict(),
            "step": run.optimizer.step_count, "download": run.download,
            "test_files_only": trained_on == "held-out",
            "fingerprint": fingerprint(ds)}


class _Exchange(GradientEstimator):
    """The run's gradient step, evaluated by the replicas: the driver draws the key as
    the single-process estimator does, gathers the derivatives and finishes the same
    estimate."""

    def __init__(self, inner, pool, start):
        self.inner, self.pool, self.t = inner, pool, start
        self.name = inner.name

    def settings(self):
        return self.inner.settings()

    def __call__(self, problem, rng):
        self.t += 1
        key = draw_key(rng)
        part = self.inner.forward(problem, key, ())  # the primal pass: layers' inputs
        derivs, loss = self.pool.step(self.t, key, self.t - 1, part.counts)
        _, grads = self.inner.finish(part, derivs)
        return np.float64(loss), grads


class DistributedRun(Run):
    """A :class:`dualnum.run.Run` on a Dask cluster: the same settings, directory,
    checkpoints, ``resume`` and summary, with each step's directions evaluated by
    replicas of the parameters on the workers, which exchange only directional
    derivatives (see docs/distributed.md).

    ``client`` is a ``dask.distributed.Client`` to use (not closed at the end);
    without it the run connects to ``settings["scheduler"]``, or starts a LocalCluster
    of ``settings["workers"]`` processes (one thread each) and shuts it down at the end.
    The gradient must be a :class:`dualnum.fgrad.Estimator`. Every ``checkpoint_every``
    steps, and at the end, every replica's parameter checksum is compared with the
    driver's (:class:`ReplicasDivergedError` on a difference). A worker lost during a
    step has its blocks evaluated by the others; a step hung for ``timeout`` seconds
    raises :class:`WorkersLostError`, the last checkpoint kept.

    (Skipped by the doctests, which run without a cluster; tests/test_distributed.py
    runs the same on a LocalCluster.)

    >>> import tempfile, dualnum as dn, distributed  # doctest: +SKIP
    >>> from dualnum.distributed import DistributedRun
    >>> with distributed.Client(n_workers=2, threads_per_worker=1) as client:  # doctest: +SKIP
    ...     summary = DistributedRun({"data": "blobs", "steps": 20,
    ...                               "out": tempfile.mkdtemp() + "/run"},
    ...                              client=client).train()
    >>> summary["distributed"]["workers"]  # doctest: +SKIP
    2
    """

    def __init__(self, settings=None, *, client=None, timeout=None, **kwargs):
        super().__init__(settings, **kwargs)
        w, s = self.given.get("workers"), self.given.get("scheduler")
        if client is None and w is None and s is None:
            raise DistributedError("a distributed run needs a client, a number of workers "
                                   "or a scheduler address")
        if (client is not None) + (w is not None) + (s is not None) > 1:
            raise DistributedError("give one of client, workers and scheduler")
        self.client = client
        self.timeout = float(timeout if timeout is not None
                             else os.environ.get("DUALNUM_STEP_TIMEOUT", STEP_TIMEOUT))
        self._cluster = self._own_client = None
        self.pool = None

    # ------------------------------------------------------------------ cluster
    def _connect(self):
        try:
            import distributed
        except ImportError:
            raise DistributedError("distributed training needs Dask: pip install "
                                   "'dualnum[distributed]'") from None
        if self.client is not None:
            return
        w, s = self.given.get("workers"), self.given.get("scheduler")
        try:
            if s is not None:
                self.client = distributed.Client(s, timeout=30)
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=w, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=logging.ERROR)
                self.client = distributed.Client(self._cluster)
        except (OSError, TimeoutError) as e:
            self._shutdown()
            raise DistributedError(f"could not reach the Dask scheduler "
                                   f"{s or 'of the local cluster'}: {e}") from None
        self._own_client = self.client
        if self._cluster is not None:
            self.client.wait_for_workers(w, timeout=60)

    def _shutdown(self):
        if self._own_client is not None:
            self._own_client.close()
            self._own_client = self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def train(self):
        self._connect()
        try:
            link = self.client.dashboard_link
            self.reporter.note(f"dask: {len(self.client.nthreads())} workers, scheduler "
                               f"{self.client.scheduler.address}, dashboard {link}")
            return super().train()
        finally:
            if self.pool is not None:
                try:
                    self.pool.close()
                except Exception:
                    pass
            self._shutdown()

    # ------------------------------------------------------------------ hooks
    def _setup(self):
        super()._setup()
        if not isinstance(self.estimator, Estimator):
            raise DistributedError(
                f"distributed training needs a dualnum.fgrad.Estimator gradient step "
                f"(forward gradients), not {type(self.estimator).__name__}")
        desc = self.estimator.describe()
        kinds = {type(m).__name__ for m in self.model.modules()}
        if desc["estimator"] == "activity" and desc["local_losses"] and \
                {"LocalHead", "Conv2d"} <= kinds:
            raise DistributedError(
                "local losses on a convolutional model (the cnn recipe) read each block's "
                "directional derivatives window by window, which needs all of a block's "
                "directions in one process: train it without --workers/--scheduler, or "
                "pass --local-losses no")
        chunk = self.config.get("chunk_size")
        if chunk is not None and chunk < self.estimator.n_directions:
            raise DistributedError("chunk_size splits one step's directions into passes "
                                   "with their own keys; drop it for distributed training")
        self.pool = _Pool(self.client, self, self.timeout)
        self.estimator = _Exchange(self.estimator, self.pool, self.start)
        self.pool.start()

    def _save(self, step, seconds):
        self.pool.verify(step)
        super()._save(step, seconds)

    def _summary_extra(self):
        p = self.pool
        per = p.bytes
        return {"distributed": {
            "workers": len(p.replicas) if p else 0,
            "scheduler": self.client.scheduler.address if self.client else None,
            "bytes_per_step": round(float(np.mean(per)), 1) if per else None,
            "bytes_per_step_max": int(max(per)) if per else None,
            "snapshot_bytes": p.snapshot_bytes, "recoveries": p.recoveries,
            "checksum": replica_mod.checksum(self.model, self.optimizer)}}
