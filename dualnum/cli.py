"""The command line: ``dualnum train`` and ``dualnum eval`` (also ``python -m dualnum``).

``dualnum train`` trains a model on a dataset with forward gradients (or exact
forward-mode gradients), shows a progress bar, and leaves in ``--out``:

* ``metrics.jsonl``: one JSON object per logged step (``step``, ``loss``, ``lr``,
  ``seconds``, and ``test_loss`` / ``test_accuracy`` at evaluations);
* ``summary.json``: ``test_accuracy``, ``test_loss``, ``steps``, ``seconds``, the split
  used, the full configuration and the package version;
* ``checkpoint.npz``: parameters, optimizer state, generator state and step
  (:mod:`dualnum.checkpoint`), which ``--resume`` continues from: N steps, a stop, and N
  more give bit-identical parameters to 2N steps in one go;
* with ``--plot``, ``loss.png`` and ``accuracy.png`` (needs matplotlib).

Ctrl-C stops at the end of the current step, saves a checkpoint and exits with status
130. Every error is one line on stderr and a non-zero exit status (2 for bad arguments).

>>> from dualnum.cli import main
>>> main(["train", "--steps", "0"])
2
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser", "DEFAULTS", "UsageError"]

#: Per-dataset defaults for every training flag that is not given.
DEFAULTS = {
    "digits": dict(model="mlp", hidden=64, steps=3000, batch_size=64, optimizer="sgd",
                   sgd_lr=0.02, adam_lr=0.003, directions=16, distribution="rademacher"),
    "mnist": dict(model="mlp", hidden=64, steps=5000, batch_size=64, optimizer="sgd",
                  sgd_lr=0.005, adam_lr=0.001, directions=64, distribution="outer"),
    "fashion-mnist": dict(model="mlp", hidden=64, steps=5000, batch_size=64, optimizer="sgd",
                          sgd_lr=0.005, adam_lr=0.001, directions=64, distribution="outer"),
    "spirals": dict(model="mlp", hidden=64, steps=6000, batch_size=64, optimizer="adam",
                    sgd_lr=0.05, adam_lr=0.01, directions=16, distribution="rademacher"),
    "blobs": dict(model="mlp", hidden=64, steps=500, batch_size=64, optimizer="sgd",
                  sgd_lr=0.02, adam_lr=0.01, directions=16, distribution="rademacher"),
}
_COMMON = dict(gradient="forward", seed=0, momentum=0.0, weight_decay=0.0,
               lr_decay=0.0, clip=None, chunk_size=None, eval_every=None, log_every=10,
               checkpoint_every=500, data_dir=None)
#: Flags that change the training trajectory (a resumed run that changes one of them no
#: longer matches an uninterrupted run).
TRAJECTORY = ("data", "model", "hidden", "batch_size", "lr", "lr_decay", "optimizer",
              "momentum", "weight_decay", "directions", "distribution", "gradient",
              "chunk_size", "clip", "seed")
_OTHER = ("data_dir", "steps", "eval_every", "log_every", "checkpoint_every", "threads",
          "out")
EXACT_CHUNK = 512
_INTERRUPTED = 130


class UsageError(ValueError):
    """A command-line request that cannot be carried out (one line, exit status 1)."""


# ===================================================================== arguments
def _int_type(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be {'a positive' if minimum == 1 else 'a non-negative'} integer, "
                f"got {value}")
        return value
    parse.__name__ = "positive integer" if minimum == 1 else "non-negative integer"
    return parse


def _float_type(positive):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(
                f"must be a {'positive' if positive else 'non-negative'} finite number, "
                f"got {text}")
        return value
    parse.__name__ = "positive number" if positive else "non-negative number"
    return parse


_pos_int, _nonneg_int = _int_type(1), _int_type(0)
_pos_float, _nonneg_float = _float_type(True), _float_type(False)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The ``dualnum`` argument parser."""
    from .data import DATASETS
    from .fg import DISTRIBUTIONS
    from .models import MODELS
    from .train import GRADIENTS

    parser = _Parser(prog="dualnum", description="Forward-mode AD for NumPy: train and "
                     "evaluate models with forward gradients.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    t = sub.add_parser("train", help="train a model (the default run: digits, MLP, "
                       "forward gradients)", description="Train a model with forward "
                       "gradients (Baydin et al. 2022) or exact forward-mode gradients. "
                       "Flags left out take the dataset's defaults (see dualnum.cli."
                       "DEFAULTS); with --resume, the checkpoint's.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g = t.add_argument_group("data")
    g.add_argument("--data", choices=DATASETS, help="dataset (default: digits)")
    g.add_argument("--data-dir", metavar="PATH", help="directory with the dataset's files "
                   "(MNIST, Fashion-MNIST); then $DUALNUM_DATA, then ~/.cache/dualnum")
    g.add_argument("--no-download", action="store_true",
                   help="never download; fail if the files are not on disk")
    g = t.add_argument_group("model and optimisation")
    g.add_argument("--model", choices=MODELS, help="model (default: mlp)")
    g.add_argument("--hidden", type=_pos_int, help="hidden units of the mlp (default: 64)")
    g.add_argument("--steps", type=_pos_int, help="total optimizer steps (with --resume: "
                   "the total to reach)")
    g.add_argument("--batch-size", type=_pos_int, metavar="B")
    g.add_argument("--lr", type=_pos_float, help="learning rate")
    g.add_argument("--lr-decay", type=_nonneg_float, metavar="K",
                   help="exponential decay: lr * exp(-K * step) (default: 0, constant)")
    g.add_argument("--optimizer", choices=("sgd", "adam"), help="(default: sgd)")
    g.add_argument("--momentum", type=_nonneg_float, help="SGD momentum (default: 0)")
    g.add_argument("--weight-decay", type=_nonneg_float, help="L2 weight decay (default: 0)")
    g.add_argument("--gradient", choices=GRADIENTS,
                   help="forward gradients or exact forward-mode gradients "
                        "(default: forward)")
    g.add_argument("--directions", type=_pos_int, metavar="K",
                   help="random directions per forward-gradient step")
    g.add_argument("--distribution", choices=sorted(DISTRIBUTIONS),
                   help="distribution of the directions")
    g.add_argument("--clip", type=_pos_float,
                   help="clip each directional derivative to [-CLIP, CLIP]")
    g.add_argument("--chunk-size", type=_pos_int, help="directions per forward pass "
                   f"(default: all at once; {EXACT_CHUNK} for --gradient exact)")
    g.add_argument("--seed", type=_nonneg_int, help="seed of initialisation, directions "
                   "and shuffling (default: 0)")
    g = t.add_argument_group("run")
    g.add_argument("--out", metavar="DIR", help="output directory (default: "
                   "runs/DATA-MODEL)")
    g.add_argument("--resume", action="store_true",
                   help="continue from DIR/checkpoint.npz up to --steps")
    g.add_argument("--threads", type=_pos_int, help="threads for numba kernels and BLAS "
                   "(default: 1; these models are small, and on small products extra "
                   "threads cost more than they save)")
    g.add_argument("--eval-every", type=_nonneg_int, metavar="N",
                   help="evaluate on the test split every N steps (default: steps/10; "
                        "0: only at the end)")
    g.add_argument("--checkpoint-every", type=_nonneg_int, metavar="N",
                   help="save a checkpoint every N steps (default: 500; 0: only at the "
                        "end)")
    g.add_argument("--log-every", type=_pos_int, metavar="N",
                   help="write a metrics line every N steps (default: 10)")
    g.add_argument("--plot", action="store_true",
                   help="write loss.png and accuracy.png (needs matplotlib)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="evaluate a checkpoint on its dataset's test split",
                       description="Report accuracy and loss of a checkpoint on the test "
                       "split of the dataset it was trained on.")
    e.add_argument("--checkpoint", required=True, metavar="PATH")
    e.add_argument("--data-dir", metavar="PATH", help="where the dataset's files are "
                   "(default: where training found them)")
    e.add_argument("--no-download", action="store_true")
    e.add_argument("--batch-size", type=_pos_int, default=1024)
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    e.set_defaults(func=_cmd_eval)
    return parser


# ===================================================================== helpers
def _say(msg=""):
    from tqdm import tqdm

    try:
        tqdm.write(msg, file=sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head: keep training, stop printing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _one_line(msg):
    return " ".join(str(msg).split("\n")).replace("\t", " ")


def _error(msg):
    sys.stderr.write(f"dualnum: error: {_one_line(msg)}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def _threads(n):
    """Use ``n`` threads for numba kernels and BLAS inside the block (then restore)."""
    if n is None:
        yield
        return
    import numba

    limit = numba.config.NUMBA_NUM_THREADS
    if n > limit:
        raise UsageError(f"--threads {n} is more than the {limit} threads numba started "
                         f"with (set NUMBA_NUM_THREADS to allow more)")
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


def _resolve(args):
    """(config dict, checkpoint or None) from the flags given, the checkpoint (with
    --resume) and the defaults."""
    from . import checkpoint as ckpt_mod

    keys = TRAJECTORY + _OTHER
    given = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    data = given.get("data", "digits")
    model = given.get("model", DEFAULTS[data]["model"])
    out = Path(given.get("out") or Path("runs") / f"{data}-{model}")
    ckpt = None
    base = {}
    if args.resume:
        path = out / "checkpoint.npz"
        if not path.exists():
            raise UsageError(f"--resume: no checkpoint in {out} (train without --resume "
                             f"first, or pass the --out of the run to continue)")
        ckpt = ckpt_mod.load(path)
        base = {k: v for k, v in ckpt.config.items() if k in keys}
        data = given.get("data", base.get("data", data))
    if data not in DEFAULTS:
        raise UsageError(f"unknown dataset {data!r} in the checkpoint")
    cfg = {"data": data, **_COMMON, **DEFAULTS[data], **base, **given}
    if "lr" not in cfg:  # the default learning rate of the optimizer in use
        cfg["lr"] = DEFAULTS[data][f"{cfg['optimizer']}_lr"]
    cfg.pop("sgd_lr", None)
    cfg.pop("adam_lr", None)
    cfg["out"] = str(out)
    cfg["threads"] = given.get("threads", 1)
    if cfg["data_dir"] is not None:
        cfg["data_dir"] = str(Path(cfg["data_dir"]).expanduser().resolve())
    if ckpt is not None:
        for k in TRAJECTORY:
            if k in given and k in ckpt.config and given[k] != ckpt.config[k]:
                _say(f"note: --{k.replace('_', '-')} {given[k]} differs from the checkpoint's "
                     f"{ckpt.config[k]}; the continued run will not match an uninterrupted "
                     f"one")
    if cfg["gradient"] == "exact":
        if cfg["clip"] is not None:
            raise UsageError("--clip limits forward gradients' directional derivatives; it "
                             "does not apply to --gradient exact")
        if cfg["chunk_size"] is None:
            cfg["chunk_size"] = EXACT_CHUNK
    if cfg["optimizer"] != "sgd" and cfg["momentum"]:
        raise UsageError("--momentum applies to --optimizer sgd only")
    if cfg["eval_every"] is None:
        cfg["eval_every"] = max(cfg["steps"] // 10, 1)
    return cfg, ckpt


def _make_optimizer(cfg, params):
    from . import optim

    lr = cfg["lr"]
    if cfg["lr_decay"]:
        lr = optim.ExponentialDecay(lr, k=cfg["lr_decay"])
    if cfg["optimizer"] == "sgd":
        return optim.SGD(params, lr=lr, momentum=cfg["momentum"],
                         weight_decay=cfg["weight_decay"])
    return optim.Adam(params, lr=lr, weight_decay=cfg["weight_decay"])


def _seeds(seed):
    """(initialisation generator, direction generator) from one seed; the batch order
    comes from ``dualnum.data.Loader`` with the same seed."""
    init, directions = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(directions)


def _load_data(name, data_dir, *, no_download, stats=None):
    from . import data

    return data.load(name, data_dir, download=not no_download, stats=stats,
                     log=lambda m: _say(f"data: {m}"))


def _finite(model):
    return all(np.all(np.isfinite(p)) for p in model.parameters())


def _write_json(path, obj):
    from .checkpoint import atomic_write

    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    atomic_write(path, lambda f: f.write(text), mode="w")


def _trim_metrics(path, last_step):
    """Keep the lines of a metrics file up to ``last_step`` (a resumed run rewrites what
    came after its checkpoint)."""
    from .checkpoint import atomic_write

    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= last_step:
                keep.append(line)
        except (ValueError, KeyError, TypeError):
            continue
    atomic_write(path, lambda f: f.write("".join(s + "\n" for s in keep)), mode="w")


def _pct(x):
    return f"{100 * x:.1f}%"


def plot_metrics(metrics_path, out_dir, test_name="test"):
    """Write ``loss.png`` and ``accuracy.png`` from a metrics file; returns their paths.
    Raises ImportError without matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(s) for s in Path(metrics_path).read_text().splitlines() if s.strip()]
    steps = [r["step"] for r in rows]
    evals = [r for r in rows if "test_loss" in r]
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
    acc = [r for r in evals if "test_accuracy" in r]
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


class _Interrupted(Exception):
    def __init__(self, step):
        super().__init__(step)
        self.step = step


# ===================================================================== train
def _cmd_train(args):
    cfg, ckpt = _resolve(args)
    with _threads(cfg["threads"]):
        return _train(args, cfg, ckpt)


def _train(args, cfg, ckpt):
    import dualnum as dn

    from . import checkpoint as ckpt_mod
    from .models import build_model, count_parameters
    from .train import NonFiniteLossError, evaluate, fit

    t_start = time.perf_counter()
    ds = _load_data(cfg["data"], cfg["data_dir"], no_download=args.no_download)
    init_rng, dir_rng = _seeds(cfg["seed"])
    try:
        model = build_model(cfg["model"], ds.input_shape, ds.n_classes, hidden=cfg["hidden"],
                            rng=init_rng)
    except ValueError as e:
        raise UsageError(str(e)) from None
    opt = _make_optimizer(cfg, dict(model.named_parameters()))
    try:
        loader = ds.batches(cfg["batch_size"], cfg["seed"])
    except ValueError as e:
        raise UsageError(f"--batch-size: {e}") from None

    out = Path(cfg["out"])
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path, metrics_path = out / "checkpoint.npz", out / "metrics.jsonl"
    start, prior_seconds = 0, 0.0
    if ckpt is not None:
        ckpt_mod.restore(ckpt, model, opt, dir_rng)
        start, prior_seconds = ckpt.step, ckpt.seconds
        _trim_metrics(metrics_path, start)
    else:
        if ckpt_path.exists():
            _say(f"note: starting a new run in {out}, replacing the one there (--resume "
                 f"continues it instead)")
        for old_file in (ckpt_path, out / "summary.json"):
            if old_file.exists():
                old_file.unlink()
        metrics_path.write_text("")
    total = cfg["steps"]
    extra = {"norm.mean": ds.mean, "norm.std": ds.std}
    state = {"last_ckpt": start if ckpt is not None else None}

    def save(step, seconds):
        ckpt_mod.save(ckpt_path, model=model, optimizer=opt, rng=dir_rng, step=step,
                      config=cfg, seconds=seconds, extra=extra)
        state["last_ckpt"] = step

    how = ("exact forward-mode gradients" if cfg["gradient"] == "exact" else
           f"forward gradients ({cfg['directions']} {cfg['distribution']} directions)")
    _say(f"dualnum {dn.__version__}: training {cfg['model']} ({count_parameters(model):,} "
         f"parameters) on {cfg['data']} with {how}, {cfg['optimizer']} lr {cfg['lr']:g}, "
         f"batch {cfg['batch_size']}, {total:,} steps"
         + (f", resuming at step {start:,}" if ckpt is not None else ""))
    _say(f"data: {ds.split}")
    if ds.test_name != "test":
        _say(f"note: accuracy below is on the {len(ds.y_test):,} held-out images, not on an "
             f"official test set")
    if start >= total:
        _say(f"note: the checkpoint is already at step {start:,}; pass a larger --steps to "
             f"train on")

    last_eval = {}
    interrupted = {"flag": False}
    use_bar = sys.stdout.isatty() and not args.no_progress
    from tqdm import tqdm

    bar = tqdm(total=total, initial=min(start, total), unit="step", disable=not use_bar,
               dynamic_ncols=True, desc=f"{cfg['data']}/{cfg['model']}", file=sys.stdout)
    ema = [None]
    metrics = open(metrics_path, "a")

    def run_eval(step):
        res = evaluate(model, dn.cross_entropy, (ds.x_test, ds.y_test))
        last_eval.clear()
        last_eval.update(step=step, test_loss=res["loss"], test_accuracy=res.get("accuracy"))
        return res

    def callback(rec):
        step = start + rec["step"]
        seconds = prior_seconds + rec["seconds"]
        loss = rec["loss"]
        ema[0] = loss if ema[0] is None else 0.95 * ema[0] + 0.05 * loss
        line = None
        if step % cfg["log_every"] == 0 or step == total:
            line = {"step": step, "loss": loss, "lr": rec["lr"], "seconds": round(seconds, 4)}
        if (cfg["eval_every"] and step % cfg["eval_every"] == 0) or step == total:
            res = run_eval(step)
            line = line or {"step": step, "loss": loss, "lr": rec["lr"],
                            "seconds": round(seconds, 4)}
            line["test_loss"] = res["loss"]
            if "accuracy" in res:
                line["test_accuracy"] = res["accuracy"]
            if step != total:
                _say(f"step {step:>{len(str(total))}}/{total}  loss {ema[0]:.4f}  "
                     f"{ds.test_name} loss {res['loss']:.4f}  {ds.test_name} accuracy "
                     f"{_pct(res.get('accuracy', float('nan')))}")
        if line is not None:
            metrics.write(json.dumps(line) + "\n")
            metrics.flush()
        bar.update(1)
        if use_bar and (rec["step"] % 10 == 0 or step == total):
            post = f"loss={ema[0]:.4f}"
            if last_eval.get("test_accuracy") is not None:
                post += f", acc={_pct(last_eval['test_accuracy'])}"
            bar.set_postfix_str(post, refresh=False)
        if cfg["checkpoint_every"] and step % cfg["checkpoint_every"] == 0 and step != total \
                and _finite(model):
            save(step, seconds)
        if interrupted["flag"]:
            raise _Interrupted(step)

    def on_sigint(signum, frame):
        if interrupted["flag"]:  # a second Ctrl-C: stop right now
            raise KeyboardInterrupt
        interrupted["flag"] = True

    in_main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    t_fit = time.perf_counter()
    this_run = 0.0
    try:
        if start < total:
            # Overflow shows up as a non-finite loss, reported on one line below.
            errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")
            with errstate:
                fit(model, dn.cross_entropy, loader.stream(start), steps=total - start,
                    optimizer=opt, rng=dir_rng, gradient=cfg["gradient"],
                    n_directions=cfg["directions"], distribution=cfg["distribution"],
                    chunk_size=cfg["chunk_size"], clip=cfg["clip"], callback=callback,
                    log_every=1)
        this_run = time.perf_counter() - t_fit
    except _Interrupted as e:
        bar.close()
        seconds = prior_seconds + time.perf_counter() - t_fit
        if _finite(model):
            save(e.step, seconds)
            _say(f"interrupted at step {e.step:,}: checkpoint saved to {ckpt_path}; continue "
                 f"with the same command plus --resume")
        else:
            _say(f"interrupted at step {e.step:,}; the parameters are not finite, so no "
                 f"checkpoint was written")
        return _INTERRUPTED
    except NonFiniteLossError as e:
        bar.close()
        step = start + e.step
        kept = (f"the last good checkpoint (step {state['last_ckpt']:,}) is kept in "
                f"{ckpt_path}" if state["last_ckpt"] is not None else
                "no checkpoint was written before it")
        raise UsageError(f"training stopped: the loss became {e.loss} at step {step:,}; "
                         f"{kept}. Lower --lr (now {cfg['lr']:g})"
                         + (" or set --clip" if cfg["gradient"] == "forward" else "")) from None
    except KeyboardInterrupt:
        bar.close()
        kept = (f"the last checkpoint (step {state['last_ckpt']:,}) is in {ckpt_path}"
                if state["last_ckpt"] is not None else "no checkpoint was written")
        _say(f"interrupted; {kept}")
        return _INTERRUPTED
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
        metrics.close()
        bar.close()

    done = max(start, total)
    seconds = prior_seconds + this_run
    if last_eval.get("step") != done:
        run_eval(done)
    if start < total:
        save(done, seconds)
    summary = {
        "test_accuracy": last_eval["test_accuracy"],
        "test_loss": last_eval["test_loss"],
        "test_split": ds.test_name,
        "test_examples": int(len(ds.y_test)),
        "train_examples": int(len(ds.y_train)),
        "split": ds.split,
        "steps": done,
        "seconds": round(seconds, 3),
        "seconds_this_run": round(this_run, 3),
        "wall_seconds_this_run": round(time.perf_counter() - t_start, 3),
        "steps_per_second": round((done - start) / this_run, 2) if this_run > 0 else None,
        "resumed_from": start if ckpt is not None else None,
        "parameters": count_parameters(model),
        "config": cfg,
        "version": dn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "files": {"metrics": str(metrics_path), "checkpoint": str(ckpt_path)},
    }
    acc = last_eval["test_accuracy"]
    _say(f"{cfg['data']}: {ds.test_name} accuracy {_pct(acc)} (loss "
         f"{last_eval['test_loss']:.4f}) on {len(ds.y_test):,} {ds.test_name} examples after "
         f"{done:,} steps in {seconds:.1f} s")
    if args.plot:
        try:
            paths = plot_metrics(metrics_path, out, ds.test_name)
            summary["files"]["plots"] = [str(p) for p in paths]
        except ImportError:
            _say("--plot needs matplotlib: pip install 'dualnum[plot]' (or pip install "
                 "matplotlib)")
    _write_json(out / "summary.json", summary)
    _say(f"wrote {out}/: metrics.jsonl, summary.json, checkpoint.npz"
         + (", loss.png, accuracy.png" if "plots" in summary["files"] else ""))
    return 0


# ===================================================================== eval
def _cmd_eval(args):
    import dualnum as dn

    from . import checkpoint as ckpt_mod
    from .models import build_model
    from .train import evaluate

    ck = ckpt_mod.load(args.checkpoint)
    cfg = ck.config
    missing = [k for k in ("data", "model") if k not in cfg]
    if missing:
        raise ckpt_mod.CheckpointError(f"{args.checkpoint}: its config lacks "
                                       f"{', '.join(missing)}")
    stats = None
    if "norm.mean" in ck.extra and "norm.std" in ck.extra:
        stats = (ck.extra["norm.mean"], ck.extra["norm.std"])
    data_dir = args.data_dir if args.data_dir is not None else cfg.get("data_dir")
    ds = _load_data(cfg["data"], data_dir, no_download=args.no_download, stats=stats)
    try:
        model = build_model(cfg["model"], ds.input_shape, ds.n_classes,
                            hidden=cfg.get("hidden", 64), rng=0)
    except ValueError as e:
        raise ckpt_mod.CheckpointError(f"{args.checkpoint}: {e}") from None
    ckpt_mod.restore(ck, model)
    res = evaluate(model, dn.cross_entropy, (ds.x_test, ds.y_test),
                   batch_size=args.batch_size)
    result = {"test_accuracy": res.get("accuracy"), "test_loss": res["loss"],
              "test_split": ds.test_name, "test_examples": int(len(ds.y_test)),
              "split": ds.split, "step": ck.step, "data": cfg["data"],
              "model": cfg["model"], "checkpoint": str(args.checkpoint)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"data: {ds.split}")
        print(f"{cfg['data']}: {ds.test_name} accuracy {_pct(result['test_accuracy'])} (loss "
              f"{res['loss']:.4f}) on {len(ds.y_test):,} {ds.test_name} examples, "
              f"{cfg['model']} checkpoint at step {ck.step:,}")
    return 0


# ===================================================================== main
def main(argv=None):
    """Run ``dualnum`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit
    status."""
    from .checkpoint import CheckpointError
    from .data import DataError
    from .train import NonFiniteLossError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (UsageError, DataError, CheckpointError, NonFiniteLossError) as e:
        _error(e)
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return _INTERRUPTED
    except Exception as e:  # one line, not a traceback dump, unless asked for
        if os.environ.get("DUALNUM_DEBUG"):
            raise
        _error(f"{type(e).__name__}: {e} (set DUALNUM_DEBUG=1 for the traceback)")
        return 1
