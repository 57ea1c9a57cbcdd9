"""The command line: ``dualnum train`` and ``dualnum eval`` (also ``python -m dualnum``).

Argument parsing and printing only: a run is a :class:`dualnum.run.Run` (its directory,
config, cadence, signals and summary) and an evaluation is
:func:`dualnum.run.evaluate_checkpoint`. ``dualnum train``'s flags come from the settings
table (:data:`dualnum.run.settings.SETTINGS`), so a flag, its check and its default are
declared once. Every error is one line on stderr and a non-zero exit status (2 for bad
arguments); SIGINT and SIGTERM end with status 130 and 143.

>>> from dualnum.cli import main
>>> main(["train", "--steps", "0"])
2
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from .run.settings import DEFAULTS  # noqa: F401  (dualnum.cli.DEFAULTS, as documented)

__all__ = ["main", "build_parser", "DEFAULTS"]


_TRAIN = """\
Train a model with forward gradients (Baydin et al. 2022) or exact forward-mode
gradients. Flags left out take the dataset's defaults (dualnum.run.DEFAULTS); with
--resume, the checkpoint's."""
_RUNS = """\
Run directories: without --out, every new run gets a directory of its own, runs/DATA-MODEL,
then runs/DATA-MODEL-2, -3, ... (printed at the start); --resume without --out continues
the newest of them that holds a checkpoint. A directory given with --out that holds a
finished run (checkpoint.npz or summary.json) is refused unless you pass --resume (to
continue it) or --overwrite (to replace it); even then its files are kept until the new
run saves its first checkpoint, so a new run that fails early loses nothing. Only one
run at a time may use a directory.

Ctrl-C (SIGINT) or SIGTERM finishes the current step, saves a checkpoint and exits with
status 130 (143 for SIGTERM); a second signal stops at once, keeping the last
checkpoint."""


# ===================================================================== arguments
class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _type(setting):
    def parse(text):
        from .run.settings import SettingError

        try:
            return setting.parse(text)
        except SettingError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = setting.kind
    return parse


def _path(text):
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a file or directory, got {text!r}")
    return text


def _add_setting(group, s):
    kw = dict(type=_type(s), metavar=s.metavar or s.name.upper())
    if s.kind == "choice":
        kw = dict(choices=s.options())
    elif s.kind == "bool":
        kw["metavar"] = "{yes,no}"
    default = s.describe_default()
    kw["help"] = s.help + (f" (default: {default})" if default is not None else "")
    group.add_argument(s.flag, **kw)


def build_parser():
    """The ``dualnum`` argument parser."""
    from .run.settings import SETTINGS

    parser = _Parser(prog="dualnum", description="Forward-mode AD for NumPy: train and "
                     "evaluate models with forward gradients.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    t = sub.add_parser("train", help="train a model (the default run: digits, MLP, "
                       "forward gradients)", description=_TRAIN, epilog=_RUNS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = {}
    for s in SETTINGS:
        if s.group not in groups:
            groups[s.group] = t.add_argument_group(s.group)
        _add_setting(groups[s.group], s)
        if s.name == "data_dir":
            groups[s.group].add_argument("--no-download", action="store_true",
                                         help="never download; fail if the files are not "
                                              "on disk")
        if s.name == "out":
            g = groups[s.group]
            g.add_argument("--resume", action="store_true",
                           help="continue the run in --out (without --out: the newest run "
                                "of this data and model) up to --steps")
            g.add_argument("--overwrite", action="store_true",
                           help="replace the finished run in --out with a new one (its "
                                "files stay until the new run's first checkpoint)")
    g = groups["run"]
    g.add_argument("--plot", action="store_true",
                   help="write loss.png and accuracy.png (needs matplotlib)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="evaluate a checkpoint on its dataset's test split",
                       description="Report accuracy and loss of a checkpoint on the test "
                       "split of the dataset it was trained on (on the held-out images "
                       "when it was trained on MNIST's test files alone).")
    e.add_argument("--checkpoint", required=True, metavar="PATH", type=_path,
                   help="the checkpoint.npz of a run")
    e.add_argument("--data-dir", metavar="PATH", type=_path,
                   help="where the dataset's files are (default: where training found them)")
    e.add_argument("--no-download", action="store_true",
                   help="never download; fail if the files are not on disk")
    e.add_argument("--batch-size", type=_type(_eval_batch()), default=1024, metavar="B",
                   help="examples per forward pass (default: 1024)")
    e.add_argument("--json", action="store_true",
                   help="print the result as one JSON object (null for undefined numbers)")
    e.set_defaults(func=_cmd_eval)
    return parser


def _eval_batch():
    from .run.settings import by_name

    return by_name("batch_size")


#: How messages name the arguments: by their flags.
def _flag_names():
    from .run.settings import SETTINGS

    names = {s.name: s.flag for s in SETTINGS}
    names.update({"data_dir=DIR": "--data-dir DIR", "download=False": "--no-download",
                  "resume=True": "--resume", "overwrite=True": "--overwrite"})
    return names


# ===================================================================== printing
def _say(msg=""):
    from tqdm import tqdm

    try:
        tqdm.write(msg, file=sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head: keep training, stop printing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _error(msg):
    text = " ".join(str(msg).split("\n")).replace("\t", " ")
    sys.stderr.write(f"dualnum: error: {text}\n")
    sys.stderr.flush()


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _console(progress):
    """A :class:`dualnum.run.Reporter` that prints notes and shows a progress bar."""
    from .run import Reporter

    class Console(Reporter):
        def __init__(self):
            self.bar = None

        def note(self, text):
            _say(text)

        def begin(self, total, initial, label):
            if progress and sys.stdout.isatty():
                from tqdm import tqdm

                self.bar = tqdm(total=total, initial=initial, unit="step", desc=label,
                                dynamic_ncols=True, file=sys.stdout)

        def advance(self, step, loss, accuracy):
            if self.bar is None:
                return
            self.bar.update(1)
            if step % 10 == 0 or step == self.bar.total:
                post = f"loss={loss:.4f}"
                if accuracy is not None:
                    post += f", acc={_pct(accuracy)}"
                self.bar.set_postfix_str(post, refresh=False)

        def end(self):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return Console()


# ===================================================================== commands
def _cmd_train(args):
    from .run import Run
    from .run.settings import SETTINGS

    given = {s.name: getattr(args, s.name) for s in SETTINGS
             if getattr(args, s.name, None) is not None}
    kind = Run
    if "workers" in given or "scheduler" in given:
        from .distributed import DistributedRun as kind
    kind(given, resume=args.resume, overwrite=args.overwrite, download=not args.no_download,
         plot=args.plot, reporter=_console(not args.no_progress)).train()
    return 0


def _cmd_eval(args):
    from .run import evaluate_checkpoint
    from .run.training import dumps

    res = evaluate_checkpoint(args.checkpoint, data_dir=args.data_dir,
                              download=not args.no_download, batch_size=args.batch_size,
                              reporter=_console(False))
    if args.json:
        print(dumps(res))
        return 0
    print(f"data: {res['split']}")
    for note in res["notes"]:
        print(f"note: {note}")
    loss = "n/a" if res["test_loss"] is None else f"{res['test_loss']:.4f}"
    print(f"{res['data']}: {res['test_split']} accuracy {_pct(res['test_accuracy'])} (loss "
          f"{loss}) on {res['test_examples']:,} {res['test_split']} examples, "
          f"{res['model']} checkpoint at step {res['step']:,}")
    return 0


# ===================================================================== main
@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM raises :class:`dualnum.run.Interrupted` (as Ctrl-C raises
    KeyboardInterrupt), so both end the same way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from .run import Interrupted

    def handler(signum, frame):
        raise Interrupted(signum)

    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        yield
        return
    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def main(argv=None):
    """Run ``dualnum`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit
    status."""
    try:
        with _terminate_as_interrupt():
            return _main(argv)
    except KeyboardInterrupt as e:  # also Interrupted
        return getattr(e, "status", 130)


def _main(argv):
    from ._checks import argument_names
    from .checkpoint import CheckpointError
    from .data import DataError
    from .run import Interrupted, RunError, SettingError
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
        with argument_names(_flag_names()):
            return args.func(args)
    except (RunError, DataError, CheckpointError, SettingError, NonFiniteLossError) as e:
        _error(e)
        return 1
    except Interrupted as e:
        if e.message:
            _say(e.message)
        return e.status
    except KeyboardInterrupt:
        return 130
    except MemoryError:
        _error("out of memory; lower --batch-size, --directions or --hidden (or "
               "--chunk-size, to push the directions through in several passes)")
        return 1
    except Exception as e:  # one line, not a traceback dump, unless asked for
        if os.environ.get("DUALNUM_DEBUG"):
            raise
        _error(f"{type(e).__name__}: {e} (set DUALNUM_DEBUG=1 for the traceback)")
        return 1

