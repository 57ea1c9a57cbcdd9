"""A training run: its directory, config, data, model, gradient step, cadence (metrics,
evaluations, checkpoints), signals and summary. ``dualnum train`` is a thin command line
over :class:`Run`; so is any other front end (a distributed one, a notebook).

>>> import tempfile, dualnum as dn
>>> out = tempfile.mkdtemp() + "/run"
>>> summary = dn.run.Run({"data": "blobs", "steps": 30, "out": out}).train()
>>> summary["steps"], summary["config"]["optimizer"], summary["test_accuracy"] > 0.9
(30, 'adam', True)
>>> dn.run.Run({"data": "blobs", "steps": 30, "out": out}).train()
Traceback (most recent call last):
...
dualnum.run.training.RunError: ... holds a finished run (checkpoint.npz, summary.json); pass resume=True to continue it or overwrite=True to replace it
"""
from __future__ import annotations

import contextlib
import errno
import json
import math
import platform
import signal
import threading
import time
from pathlib import Path

import numpy as np

from .. import checkpoint as ckpt_mod
from .._checks import argument
from ..ops.network import cross_entropy
from ..train import NonFiniteLossError, StopTraining, evaluate, fit
from . import estimators as estimators_mod
from .directory import FINISHED, RunDirectory, RunDirectoryError, latest
from .settings import DEFAULTS, SettingError, TRAJECTORY, check, resolve

__all__ = ["Run", "RunError", "Interrupted", "Reporter", "evaluate_checkpoint", "ROOT"]

#: Where runs go when no directory is named: ``ROOT/DATA-MODEL[-N]``.
ROOT = "runs"


class RunError(ValueError):
    """A run cannot start or could not go on; the one-line message says what to do."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT, SIGTERM). ``status`` is the exit status a
    command should end with (128 + the signal's number); ``message`` says what was kept."""

    def __init__(self, signum, message=""):
        super().__init__(message)
        self.signum = signum
        self.message = message

    @property
    def status(self):
        return 128 + self.signum


class Reporter:
    """Where a run reports progress; the default shows nothing. A command line overrides
    these to print (``note``: a line of information; ``begin``/``advance``/``end``: a
    progress display over the steps)."""

    def note(self, text):
        pass

    def begin(self, total, initial, label):
        pass

    def advance(self, step, loss, accuracy):
        pass

    def end(self):
        pass


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _finite_or_none(obj):
    """JSON has no NaN or infinity: non-finite floats become null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    return obj


def dumps(obj, **kw):
    """JSON text of ``obj`` with non-finite numbers as null (always valid JSON)."""
    return json.dumps(_finite_or_none(obj), allow_nan=False, **kw)


def _finite(model):
    return all(np.all(np.isfinite(p)) for p in model.parameters())


def _seeds(seed):
    """(initialisation generator, direction generator) from one seed; the batch order
    comes from ``dualnum.data.Loader`` with the same seed."""
    init, directions = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(directions)


def _describe_forward(est):
    """'forward gradients (activity perturbation, 64 normal directions per layer,
    projection, local losses)' for a config or an estimator's settings."""
    kind = est.get("estimator", "weight")
    parts = [f"{kind} perturbation",
             f"{est['directions']} {est['distribution']} directions"
             + (" per layer" if kind == "activity" else "")]
    if est.get("combination", "mean") != "mean":
        parts.append(est["combination"])
    if est.get("local_losses"):
        parts.append("local losses")
    return f"forward gradients ({', '.join(parts)})"


def _make_optimizer(cfg, params):
    from .. import optim

    lr = cfg["lr"]
    if cfg["lr_decay"]:
        lr = optim.ExponentialDecay(lr, k=cfg["lr_decay"])
    if cfg["optimizer"] == "sgd":
        return optim.SGD(params, lr=lr, momentum=cfg["momentum"],
                         weight_decay=cfg["weight_decay"])
    return optim.Adam(params, lr=lr, weight_decay=cfg["weight_decay"])


def _build_model(cfg, ds, rng, error=RunError):
    from ..models import build_model

    try:
        # Local losses need a head after each block (dualnum.models); the heads are
        # drawn after the network's own weights, which are the same either way.
        return build_model(cfg["model"], ds.input_shape, ds.n_classes, hidden=cfg["hidden"],
                           rng=rng, local_heads=bool(cfg.get("local_losses")))
    except ValueError as e:
        raise error(str(e)) from None


@contextlib.contextmanager
def _threads(n):
    """Use ``n`` threads for numba kernels and BLAS inside the block (then restore)."""
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if n > limit:
        raise RunError(f"{argument('threads')} {n} is more than the {limit} threads numba "
                       f"started with (set NUMBA_NUM_THREADS to allow more)")
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # BLAS keeps its own setting (OPENBLAS_NUM_THREADS etc.)
            yield
        else:
            with threadpool_limits(n):
                yield
    finally:
        numba.set_num_threads(before)


def _write_error(path, e, kept):
    why = "no space left on the device" if e.errno == errno.ENOSPC else (e.strerror or str(e))
    return RunError(f"could not write {path}: {why}; {kept}")


def _dataset_meta(ds):
    return {"dataset": ds.name, "test_split": ds.test_name, "split": ds.split,
            "train_examples": int(len(ds.y_train)), "test_examples": int(len(ds.y_test))}


class Run:
    """One training run (see the module's description and the README's "Training from
    the command line").

    ``settings`` are the run's settings by name (:data:`dualnum.run.settings.SETTINGS`;
    those left out take their defaults, or with ``resume`` the checkpoint's). ``resume``
    continues the run in ``settings["out"]`` (without one: the newest numbered run of
    the same data and model under :data:`ROOT` with a checkpoint). A directory holding a
    finished run is refused unless ``resume`` or ``overwrite`` is set; even then nothing
    of the earlier run is replaced before this one saves its first checkpoint.
    ``estimator`` replaces the gradient step the config asks for (a
    :class:`dualnum.train.GradientEstimator`; its ``settings()`` go into the config).

    :meth:`train` runs it and returns the summary. SIGINT and SIGTERM during training
    save a checkpoint at the current step and raise :class:`Interrupted`; a second signal
    stops at once, keeping the last checkpoint.
    """

    def __init__(self, settings=None, *, resume=False, overwrite=False, download=True,
                 plot=False, reporter=None, estimator=None, root=ROOT):
        try:
            self.given = check(dict(settings or {}))
        except SettingError as e:
            raise RunError(str(e)) from None
        if resume and overwrite:
            raise RunError(f"{argument('resume=True')} continues the run in the directory and "
                           f"{argument('overwrite=True')} replaces it: pass one of them")
        self.resume, self.overwrite, self.download, self.plot = resume, overwrite, download, plot
        self.reporter = reporter if reporter is not None else Reporter()
        self.estimator = estimator
        self.root = root
        self.config = None
        self.directory = None
        self._signal = None
        self._graceful = False
        self._last_ckpt = None

    # ================================================================ public
    def train(self):
        """Run to ``steps`` and return the summary (also written to ``summary.json``)."""
        with self._signals():
            self._claim()
            try:
                with _threads(self.config["threads"]):
                    self._setup()
                    return self._train()
            except BaseException:
                self._close_metrics()
                raise
            finally:
                self.directory.release(remove_if_unused=True)

    # ================================================================ directory, config
    def _default_name(self):
        data = self.given.get("data", "digits")
        return f"{data}-{self.given.get('model', DEFAULTS[data]['model'])}"

    def _claim(self):
        out = self.given.get("out")
        name = self._default_name()
        if self.resume:
            path = Path(out) if out is not None else latest(self.root, name)
            if path is None:
                raise RunError(f"{argument('resume=True')}: no run of {name} with a checkpoint "
                               f"under {self.root}/ ({self.root}/{name}, {self.root}/{name}-2, "
                               f"...); train without {argument('resume=True')} first, or pass "
                               f"{argument('out')} naming the run to continue")
            if not (path / "checkpoint.npz").is_file():
                raise RunError(f"{argument('resume=True')}: no checkpoint in {path} (train without "
                               f"{argument('resume=True')} first, or pass the {argument('out')} of "
                               f"the run to continue)")
        try:
            if out is None and not self.resume:
                self.directory = RunDirectory.claim_new(self.root, name)
            else:
                self.directory = RunDirectory.claim(path if self.resume else out)
        except RunDirectoryError as e:
            raise RunError(str(e)) from None
        try:
            self._prepare()
        except BaseException:
            self.directory.release(remove_if_unused=True)
            raise

    def _prepare(self):
        d = self.directory
        stale = d.remove_stale()
        if stale:
            self.reporter.note(f"note: removed {', '.join(stale)} from {d.path}, left by a "
                               f"process stopped while writing")
        finished = d.existing(FINISHED)
        if not self.resume and finished and not self.overwrite:
            raise RunError(f"{d.path} holds a finished run ({', '.join(finished)}); pass "
                           f"{argument('resume=True')} to continue it or "
                           f"{argument('overwrite=True')} to replace it")
        self.ckpt_path = d.file("checkpoint.npz")
        base = None
        self._info = None
        if self.resume:
            self._info = ckpt_mod.peek(self.ckpt_path)
            missing = [k for k in ("data", "model") if k not in self._info.config]
            if missing:
                raise ckpt_mod.CheckpointError(f"{self.ckpt_path}: its config lacks "
                                               f"{', '.join(missing)}")
            try:
                base = check(self._info.config, where=self.ckpt_path)
            except SettingError as e:
                raise ckpt_mod.CheckpointError(str(e)) from None
            unknown = sorted(set(self._info.config) - set(base))
            if unknown:
                self.reporter.note(f"note: {self.ckpt_path} records settings this version "
                                   f"does not know, ignored: {', '.join(unknown)}")
        try:
            cfg = resolve(self.given, base)
        except SettingError as e:
            raise RunError(f"{self.ckpt_path}: {e}" if base else str(e)) from None
        cfg["out"] = str(d.path)
        if cfg["data_dir"] is not None:  # where eval, from any directory, finds the data
            cfg["data_dir"] = str(Path(cfg["data_dir"]).expanduser().resolve())
        if self._info is not None:
            for k in TRAJECTORY:
                old = base.get(k)
                if k in self.given and k in base and self.given[k] != old:
                    self.reporter.note(
                        f"note: {argument(k)} {self.given[k]} differs from the checkpoint's "
                        f"{old}; the continued run will not match an uninterrupted one")
            if self._info.step > cfg["steps"]:
                self.reporter.note(
                    f"note: the checkpoint is already at step {self._info.step:,}, past "
                    f"{argument('steps')} {cfg['steps']:,}; pass a larger "
                    f"{argument('steps')} to train on")
                cfg["steps"] = self._info.step
        if self.estimator is None:
            self.estimator = estimators_mod.build(cfg)
        else:
            # The estimator's settings that are run settings; the rest (the papers it
            # follows) goes to the summary beside the config.
            cfg.update({k: v for k, v in self.estimator.settings().items()
                        if k in cfg})
        self.config = cfg
        self.reporter.note(f"run directory: {d.path}"
                           + (" (continuing it)" if self.resume else ""))

    # ================================================================ setup
    def _setup(self):
        from .. import data as data_mod
        from ..models import count_parameters

        cfg = self.config
        trained_on = self._info.meta.get("test_split") if self._info is not None else None
        self.dataset = ds = data_mod.load(
            cfg["data"], cfg["data_dir"], download=self.download,
            test_files_only=trained_on == "held-out",
            log=lambda m: self.reporter.note(f"data: {m}"))
        if trained_on == "test" and ds.test_name != "test":
            raise RunError(f"{self.ckpt_path} was trained on the standard split, but only the "
                           f"test files are in {ds.source} now; pass "
                           f"{argument('data_dir=DIR')} naming where all four files are")
        init_rng, self.rng = _seeds(cfg["seed"])
        self.model = _build_model(cfg, ds, init_rng)
        self.optimizer = _make_optimizer(cfg, dict(self.model.named_parameters()))
        try:
            self.loader = ds.batches(cfg["batch_size"], cfg["seed"])
        except ValueError as e:
            raise RunError(f"{argument('batch_size')}: {e}") from None
        self.start, self.prior_seconds = 0, 0.0
        if self.resume:
            shapes = {k: p.shape for k, p in self.model.named_parameters()}
            ck = ckpt_mod.load(self.ckpt_path, expect=shapes)
            ckpt_mod.restore(ck, self.model, self.optimizer, self.rng)
            self.start, self.prior_seconds = ck.step, ck.seconds
            self._last_ckpt = ck.step
        self.n_parameters = count_parameters(self.model)
        self._extra = {"norm.mean": ds.mean, "norm.std": ds.std}
        self._meta = _dataset_meta(ds)

    # ================================================================ training
    def _save(self, step, seconds):
        d = self.directory
        if self._last_ckpt is not None:
            kept = (f"the previous checkpoint (step {self._last_ckpt:,}) is kept; free space "
                    f"and continue with {argument('resume=True')}")
        elif d.staged:
            kept = "the earlier run in that directory is kept as it was"
        else:
            kept = "no checkpoint of this run was kept"
        try:
            ckpt_mod.save(self.ckpt_path, model=self.model, optimizer=self.optimizer,
                          rng=self.rng, step=step, config=self.config, seconds=seconds,
                          extra=self._extra, meta=self._meta)
            d.commit()
        except OSError as e:
            raise _write_error(self.ckpt_path, e, kept) from None
        self._last_ckpt = step

    def _kept(self):
        if self._last_ckpt is not None:
            return (f"the last good checkpoint (step {self._last_ckpt:,}) is kept in "
                    f"{self.ckpt_path}")
        if self.directory.staged:
            return (f"nothing of this run was saved, and the earlier run in "
                    f"{self.directory.path} is kept as it was")
        return "no checkpoint was written before it"

    def _write_metrics(self, line):
        try:
            self._metrics.write(dumps(line) + "\n")
            self._metrics.flush()
        except OSError as e:
            raise _write_error(self._metrics.name, e, self._kept()) from None

    def _close_metrics(self):
        m = getattr(self, "_metrics", None)
        if m is not None and not m.closed:
            try:
                m.close()
            except OSError:
                pass

    def _evaluate(self, step):
        ds = self.dataset
        res = evaluate(self.model, _loss, (ds.x_test, ds.y_test))
        self.last_eval = {"step": step, "test_loss": res["loss"],
                          "test_accuracy": res.get("accuracy")}
        return res

    def _train(self):
        cfg, ds, rep, d = self.config, self.dataset, self.reporter, self.directory
        t_start = time.perf_counter()
        start, total = self.start, cfg["steps"]
        fresh = not self.resume
        self._metrics = d.open_metrics(keep_until=None if fresh else start,
                                       stage=fresh and bool(d.existing()))
        est = self.estimator.settings()
        how = ("exact forward-mode gradients" if est["gradient"] == "exact" else
               _describe_forward(est) if est["gradient"] == "forward"
               else f"the {est['gradient']} estimator")
        from .. import __version__

        rep.note(f"dualnum {__version__}: training {cfg['model']} ({self.n_parameters:,} "
                 f"parameters) on {cfg['data']} with {how}, {cfg['optimizer']} lr "
                 f"{cfg['lr']:g}, batch {cfg['batch_size']}, {total:,} steps"
                 + (f", resuming at step {start:,}" if self.resume else ""))
        rep.note(f"data: {ds.split}")
        if ds.test_name != "test":
            rep.note(f"note: accuracy below is on the {len(ds.y_test):,} held-out images, not "
                     f"on an official test set")
        self.last_eval = {}
        ema = [None]
        width = len(str(total))

        def on_step(rec):
            step = start + rec["step"]
            seconds = self.prior_seconds + rec["seconds"]
            loss = rec["loss"]
            ema[0] = loss if ema[0] is None else 0.95 * ema[0] + 0.05 * loss
            line = None
            if step % cfg["log_every"] == 0 or step == total:
                line = {"step": step, "loss": loss, "lr": rec["lr"],
                        "seconds": round(seconds, 4)}
            if (cfg["eval_every"] and step % cfg["eval_every"] == 0) or step == total:
                res = self._evaluate(step)
                line = line or {"step": step, "loss": loss, "lr": rec["lr"],
                                "seconds": round(seconds, 4)}
                line["test_loss"] = res["loss"]
                if "accuracy" in res:
                    line["test_accuracy"] = res["accuracy"]
                if step != total:
                    rep.note(f"step {step:>{width}}/{total}  loss {ema[0]:.4f}  "
                             f"{ds.test_name} loss {res['loss']:.4f}  {ds.test_name} "
                             f"accuracy {_pct(res.get('accuracy'))}")
            if line is not None:
                self._write_metrics(line)
            rep.advance(step, ema[0], self.last_eval.get("test_accuracy"))
            if cfg["checkpoint_every"] and step % cfg["checkpoint_every"] == 0 \
                    and step != total and _finite(self.model):
                self._save(step, seconds)
            if self._signal is not None:
                raise StopTraining

        rep.begin(total, min(start, total), f"{cfg['data']}/{cfg['model']}")
        t_fit = time.perf_counter()
        this_run, done = 0.0, start
        try:
            if start < total:
                # Overflow shows up as a non-finite loss, reported on one line below.
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    self._graceful = True
                    res = fit(self.model, _loss, self.loader.stream(start),
                              steps=total - start, optimizer=self.optimizer, rng=self.rng,
                              gradient=self.estimator, callback=on_step, log_every=1,
                              record=False)
                done = start + res.steps
            this_run = time.perf_counter() - t_fit
            rep.end()
            if self._signal is not None and done < total:
                return self._stop(done, self.prior_seconds + this_run)
            return self._finish(done, self.prior_seconds + this_run, this_run, t_start)
        except NonFiniteLossError as e:
            rep.end()
            self._close_metrics()
            kept = self._kept()
            d.discard_staged()
            lr = f"{argument('lr')} (now {cfg['lr']:g})"
            clip = (f" or set {argument('clip')}" if est["gradient"] == "forward"
                    and cfg["clip"] is None else "")
            raise RunError(f"training stopped: the loss became {e.loss} at step "
                           f"{start + e.step:,}; {kept}. Lower {lr}{clip}") from None
        except Interrupted as e:
            rep.end()
            if e.message:  # the first signal's, already saved
                raise
            # A second signal: stop at once.
            raise Interrupted(e.signum, f"interrupted again ({signal.Signals(e.signum).name}): "
                                        f"stopped at once; {self._kept()}") from None

    def _stop(self, step, seconds):
        """The first signal: save where training stopped."""
        self._close_metrics()
        name = signal.Signals(self._signal).name
        if _finite(self.model):
            self._save(step, seconds)
            msg = (f"interrupted ({name}) at step {step:,}: checkpoint saved to "
                   f"{self.ckpt_path}; continue with the same command plus "
                   f"{argument('resume=True')}")
        else:
            msg = (f"interrupted ({name}) at step {step:,}; the parameters are not finite, so "
                   f"no checkpoint was written ({self._kept()})")
        raise Interrupted(self._signal, msg)

    def _finish(self, done, seconds, this_run, t_start):
        cfg, ds, d = self.config, self.dataset, self.directory
        if self.last_eval.get("step") != done:
            self._evaluate(done)
        if self.start < done:
            self._save(done, seconds)
        self._close_metrics()
        from .. import __version__
        from ..models import count_parameters

        summary = {
            "test_accuracy": self.last_eval["test_accuracy"],
            "test_loss": self.last_eval["test_loss"],
            "test_split": ds.test_name,
            "test_examples": int(len(ds.y_test)),
            "train_examples": int(len(ds.y_train)),
            "split": ds.split,
            "steps": done,
            "seconds": round(seconds, 3),
            "seconds_this_run": round(this_run, 3),
            "wall_seconds_this_run": round(time.perf_counter() - t_start, 3),
            "steps_per_second": (round((done - self.start) / this_run, 2) if this_run > 0
                                 else None),
            "resumed_from": self.start if self.resume else None,
            "parameters": count_parameters(self.model),
            **self._summary_extra(),
            "config": cfg,
            "references": self.estimator.settings().get("references", []),
            "version": __version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "files": {"metrics": str(d.file("metrics.jsonl")),
                      "checkpoint": str(self.ckpt_path)},
        }
        self.reporter.note(
            f"{cfg['data']}: {ds.test_name} accuracy {_pct(summary['test_accuracy'])} (loss "
            f"{summary['test_loss']:.4f}) on {len(ds.y_test):,} {ds.test_name} examples "
            f"after {done:,} steps in {seconds:.1f} s")
        if self.plot:
            try:
                paths = plot_metrics(d.file("metrics.jsonl"), d.path, ds.test_name)
                summary["files"]["plots"] = [str(p) for p in paths]
            except ImportError:
                self.reporter.note("--plot needs matplotlib: pip install 'dualnum[plot]' "
                                   "(or pip install matplotlib)")
        text = dumps(summary, indent=2) + "\n"
        path = d.file("summary.json")
        try:
            ckpt_mod.atomic_write(path, lambda f: f.write(text), mode="w")
        except OSError as e:
            raise _write_error(path, e, self._kept()) from None
        self.reporter.note(f"wrote {d.path}/: metrics.jsonl, summary.json, checkpoint.npz"
                           + (", loss.png, accuracy.png" if "plots" in summary["files"]
                              else ""))
        return _finite_or_none(summary)

    def _summary_extra(self):
        """Entries a front end adds to the summary (a distributed run: its workers)."""
        return {}

    # ================================================================ signals
    @contextlib.contextmanager
    def _signals(self):
        """SIGINT and SIGTERM: during training the first one stops after the current
        step (which is saved), a second one at once; outside training, at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self._graceful and self._signal is None:
                self._signal = signum
                return
            raise Interrupted(signum)

        # A signal the parent set to be ignored (nohup, a background job) stays ignored.
        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)
               if signal.getsignal(s) is not signal.SIG_IGN}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)


# The loss itself, not a wrapper: activity perturbation recognises it and takes its
# per-example form.
_loss = cross_entropy


# ===================================================================== evaluation
def evaluate_checkpoint(path, *, data_dir=None, download=True, batch_size=1024,
                        reporter=None):
    """Accuracy and loss of the checkpoint at ``path`` on the test split of the data it
    was trained on, as a dict (also ``notes``: what the numbers are about).

    A checkpoint trained where only MNIST's (or Fashion-MNIST's) test files were is
    evaluated on the images of those files it did not train on, even where the training
    files are there now (their test set would hold its training images)."""
    from .. import data as data_mod

    reporter = reporter if reporter is not None else Reporter()
    if Path(path).is_dir() and (Path(path) / "checkpoint.npz").is_file():
        path = Path(path) / "checkpoint.npz"  # a run directory names its checkpoint
    info = ckpt_mod.peek(path)
    missing = [k for k in ("data", "model") if k not in info.config]
    if missing:
        raise ckpt_mod.CheckpointError(f"{path}: its config lacks {', '.join(missing)}")
    try:
        cfg = resolve({}, info.config, where=path)
    except SettingError as e:
        raise ckpt_mod.CheckpointError(str(e)) from None
    extra = ckpt_mod.load(path, groups=("extra",)).extra
    stats = None
    if "norm.mean" in extra and "norm.std" in extra:
        stats = (extra["norm.mean"], extra["norm.std"])
    trained_on = info.meta.get("test_split")
    ds = data_mod.load(cfg["data"], data_dir if data_dir is not None else cfg["data_dir"],
                       download=download, stats=stats,
                       test_files_only=trained_on == "held-out",
                       log=lambda m: reporter.note(f"data: {m}"))
    notes = []
    if trained_on == "held-out":
        notes.append(f"this checkpoint was trained on {len(ds.y_train):,} of the test files' "
                     f"images, so it is evaluated on the other {len(ds.y_test):,} (held out), "
                     f"never on a test set holding its training images")
    elif trained_on is None and ds.test_name == "test" and \
            cfg["data"] in ("mnist", "fashion-mnist"):
        notes.append("this checkpoint does not record the split it was trained on; if only "
                     "the test files were there then, this test set holds its training "
                     "images")
    model = _build_model(cfg, ds, 0, error=ckpt_mod.CheckpointError)
    ck = ckpt_mod.load(path, expect={k: p.shape for k, p in model.named_parameters()},
                       groups=("param",))
    ckpt_mod.restore(ck, model)
    # A diverged model's loss is reported as null, without NumPy's warnings on the way.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        res = evaluate(model, _loss, (ds.x_test, ds.y_test), batch_size=batch_size)
    return _finite_or_none({
        "test_accuracy": res.get("accuracy"), "test_loss": res["loss"],
        "test_split": ds.test_name, "test_examples": int(len(ds.y_test)),
        "split": ds.split, "step": ck.step, "data": cfg["data"], "model": cfg["model"],
        "checkpoint": str(path), "notes": notes})


# ===================================================================== plots
def plot_metrics(metrics_path, out_dir, test_name="test"):
    """Write ``loss.png`` and ``accuracy.png`` from a metrics file; returns their paths.
    Raises ImportError without matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    with open(metrics_path, encoding="utf-8") as f:
        for s in f:
            if s.strip():
                rows.append(json.loads(s))
    steps = [r["step"] for r in rows]
    evals = [r for r in rows if r.get("test_loss") is not None]
    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, [r["loss"] for r in rows], label="training loss (batch)", lw=1)
    if evals:
        ax.plot([r["step"] for r in evals], [r["test_loss"] for r in evals], "o-",
                label=f"{test_name} loss")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    paths.append(Path(out_dir) / "loss.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    acc = [r for r in evals if r.get("test_accuracy") is not None]
    ax.plot([r["step"] for r in acc], [r["test_accuracy"] for r in acc], "o-")
    ax.set_xlabel("step")
    ax.set_ylabel(f"{test_name} accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths.append(Path(out_dir) / "accuracy.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
