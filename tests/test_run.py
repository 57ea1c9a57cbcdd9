"""dualnum.run and ``dualnum train`` as a user's work depends on them: a finished run is
never lost, one run at a time per directory, default directories count up, signals save
and resume bit for bit, hostile inputs are refused with bounded memory, bad settings are
refused the same way from flags and from checkpoints, and nothing is written inside the
installed package."""
from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import sysconfig
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import dualnum as dn
from dualnum import checkpoint, data
from dualnum.cli import main
from dualnum.models import build_model
from dualnum.run import Run, RunDirectory, RunError

from _bombs import checkpoint_with_member, peak_rss
from test_cli import (FAST, ROOT, _isolated, arrays, assert_one_line_error,  # noqa: F401
                      run, same_state)
from test_data import make_idx_set


def files(d):
    """{name: bytes} of every file in a directory (the lock file aside)."""
    return {p.name: p.read_bytes() for p in Path(d).iterdir()
            if p.is_file() and p.name != ".dualnum.lock"}


def _env():
    return dict(os.environ, PYTHONUNBUFFERED="1")


def _wait_for(path, min_size=1, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.stat().st_size >= min_size:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} did not appear")


def _set_config(path, text):
    """Rewrite a checkpoint's config entry with ``text``."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array(text), allow_pickle=False)
    members["config.npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for name, blob in members.items():
            z.writestr(name, blob)


# ===================================================================== never lose a run
def test_a_failed_run_after_a_good_one_leaves_the_good_one_intact(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 20, "--out", out)[0] == 0
    good = files(out)
    assert sorted(good) == ["checkpoint.npz", "metrics.jsonl", "summary.json"]
    # Without a flag, a finished run is not touched.
    code, _, err = run(capsys, "train", *FAST, "--steps", 20, "--lr", "1e30", "--out", out)
    assert_one_line_error(code, err, f"{out} holds a finished run", "--resume", "--overwrite")
    assert files(out) == good
    # With --overwrite, a run that diverges at its first steps keeps nothing of its own.
    code, _, err = run(capsys, "train", *FAST, "--steps", 20, "--lr", "1e30", "--out", out,
                       "--overwrite", "--checkpoint-every", "5")
    assert_one_line_error(code, err, "training stopped: the loss became",
                          f"the earlier run in {out} is kept as it was")
    assert files(out) == good
    # A run that saves a checkpoint replaces the earlier one, all of it.
    code, _, err = run(capsys, "train", *FAST, "--steps", 12, "--seed", 3, "--out", out,
                       "--overwrite", "--checkpoint-every", "5")
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 12 and summary["config"]["seed"] == 3
    steps = [json.loads(s)["step"] for s in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 13))
    assert checkpoint.load(out / "checkpoint.npz").config["seed"] == 3


def test_overwrite_keeps_the_old_files_until_the_first_checkpoint(tmp_path, capsys,
                                                                  monkeypatch):
    """Stopped (here: by a failing write) before its first checkpoint, a new run leaves
    the old one whole; the same failure later names the checkpoint that is kept."""
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 20, "--out", out)[0] == 0
    good = files(out)
    real = checkpoint.atomic_write
    calls = []

    def disk_full_on(n):
        def fake(path, write, mode="wb"):
            calls.append(path)
            if len(calls) == n:
                def partial(f):
                    write(f)
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real(path, partial, mode)
            return real(path, write, mode)
        return fake

    monkeypatch.setattr(checkpoint, "atomic_write", disk_full_on(1))
    code, _, err = run(capsys, "train", *FAST, "--steps", 20, "--out", out, "--overwrite",
                       "--seed", 1, "--checkpoint-every", 5)
    assert_one_line_error(code, err, "checkpoint.npz: no space left on the device",
                          "the earlier run in that directory is kept as it was")
    assert files(out) == good
    calls.clear()
    monkeypatch.setattr(checkpoint, "atomic_write", disk_full_on(2))
    code, _, err = run(capsys, "train", *FAST, "--steps", 20, "--out", out, "--overwrite",
                       "--seed", 1, "--checkpoint-every", 5)
    assert_one_line_error(code, err, "no space left on the device",
                          "the previous checkpoint (step 5) is kept", "--resume")
    assert checkpoint.load(out / "checkpoint.npz").step == 5
    assert [p.name for p in out.glob(".*")] == [".dualnum.lock"]


def test_stale_temporary_files_are_removed_on_the_next_start(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 4, "--out", out)[0] == 0
    stale = [out / ".checkpoint.npz.x1y2z3.tmp", out / ".metrics.jsonl.4242.tmp"]
    for p in stale:
        p.write_bytes(b"half a file")
    keep = out / ".my-own-notes"
    keep.write_text("not dualnum's")
    code, stdout, err = run(capsys, "train", *FAST, "--steps", 6, "--out", out, "--resume")
    assert code == 0, err
    assert "removed .checkpoint.npz.x1y2z3.tmp, .metrics.jsonl.4242.tmp" in stdout
    assert not any(p.exists() for p in stale) and keep.exists()


def test_default_directories_count_up_and_resume_takes_the_newest(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    for n, name in enumerate(["blobs-mlp", "blobs-mlp-2", "blobs-mlp-3"]):
        code, stdout, err = run(capsys, "train", "--data", "blobs", "--steps", 3 + n)
        assert code == 0, err
        assert f"run directory: {Path('runs') / name}" in stdout.splitlines()[0]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == \
        ["blobs-mlp", "blobs-mlp-2", "blobs-mlp-3"]
    code, stdout, err = run(capsys, "train", "--data", "blobs", "--steps", 8, "--resume")
    assert code == 0, err
    assert "runs/blobs-mlp-3 (continuing it)" in stdout and "resuming at step 5" in stdout
    assert checkpoint.load(tmp_path / "runs" / "blobs-mlp" / "checkpoint.npz").step == 3
    # A run that fails before writing anything leaves no numbered directory behind.
    code, _, err = run(capsys, "train", "--data", "blobs", "--batch-size", 5000)
    assert_one_line_error(code, err, "batch size 5000 is larger")
    assert not (tmp_path / "runs" / "blobs-mlp-4").exists()
    code, _, err = run(capsys, "train", "--data", "spirals", "--resume")
    assert_one_line_error(code, err, "--resume: no run of spirals-mlp with a checkpoint "
                                     "under runs/", "--out")


# ===================================================================== one run at a time
def test_a_locked_directory_is_refused_naming_the_other_process(tmp_path, capsys):
    out = tmp_path / "r"
    held = RunDirectory.claim(out)
    try:
        code, _, err = run(capsys, "train", *FAST, "--steps", 3, "--out", out)
        assert_one_line_error(code, err, f"{out} is in use by another dualnum run "
                                         f"(pid {os.getpid()})")
        code, _, err = run(capsys, "train", *FAST, "--steps", 3, "--out", out, "--resume")
        assert_one_line_error(code, err, "--resume: no checkpoint in")
    finally:
        held.release()
    assert run(capsys, "train", *FAST, "--steps", 3, "--out", out)[0] == 0


def test_two_concurrent_runs_on_one_directory(tmp_path):
    """Started together on one --out, one trains and the other is refused in one line
    naming the first one's pid; SIGTERM then ends the first with status 143 and a
    checkpoint, and its metrics are one run's, in order."""
    out = tmp_path / "r"
    cmd = [sys.executable, "-m", "dualnum", "train", *FAST, "--steps", "1000000000",
           "--eval-every", "0", "--out", str(out)]
    procs = [subprocess.Popen(cmd + ["--seed", str(i)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
             for i in range(2)]
    try:
        loser = None
        deadline = time.time() + 120
        while loser is None and time.time() < deadline:
            loser = next((p for p in procs if p.poll() is not None), None)
            time.sleep(0.02)
        assert loser is not None, "neither run was refused"
        winner = procs[1 - procs.index(loser)]
        _, err = loser.communicate(timeout=30)
        assert_one_line_error(loser.returncode, err, f"{out} is in use by another dualnum "
                                                     f"run (pid {winner.pid})")
        _wait_for(out / "metrics.jsonl", 300)
        winner.send_signal(signal.SIGTERM)
        stdout, stderr = winner.communicate(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert winner.returncode == 143, stderr
    assert "interrupted (SIGTERM) at step" in stdout and not stderr
    rows = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, len(rows) + 1))
    ck = checkpoint.load(out / "checkpoint.npz")
    assert ck.config["seed"] == procs.index(winner) and ck.step >= len(rows)


# ===================================================================== signals
@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_saves_the_current_step_and_resume_is_bit_identical(tmp_path, sig,
                                                                     status):
    """Also: the step budget (a billion) costs no memory up front."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dualnum", "train", *FAST, "--steps", "1000000000",
         "--checkpoint-every", "0", "--eval-every", "0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        _wait_for(out / "metrics.jsonl", 200)
        with open(f"/proc/{proc.pid}/status") as f:
            peak = next(int(s.split()[1]) << 10 for s in f if s.startswith("VmHWM:"))
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, stderr
    assert not stderr and f"interrupted ({sig.name}) at step" in stdout
    assert peak < 600 << 20, f"peak RSS {peak / 2**20:.0f} MiB"
    step = checkpoint.load(out / "checkpoint.npz").step
    assert step > 0
    assert main(["train", *FAST, "--steps", str(step + 5), "--out", str(out), "--resume"]) == 0
    assert main(["train", *FAST, "--steps", str(step + 5), "--out", str(tmp_path / "u")]) == 0
    assert same_state(out / "checkpoint.npz", tmp_path / "u" / "checkpoint.npz") == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == summary["config"]["steps"] == step + 5


def test_a_second_signal_stops_at_once_keeping_the_last_checkpoint(tmp_path):
    out = tmp_path / "run"
    # Exact gradients make each step take a while, so both signals land inside one step.
    proc = subprocess.Popen(
        [sys.executable, "-m", "dualnum", "train", "--gradient", "exact", "--hidden", "128",
         "--chunk-size", "64", "--steps", "100000", "--log-every", "1", "--eval-every", "0",
         "--checkpoint-every", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        metrics = out / "metrics.jsonl"
        _wait_for(metrics)
        size = metrics.stat().st_size
        while metrics.stat().st_size == size:  # a step just ended: the next one begins
            time.sleep(0.002)
        time.sleep(0.2)  # past its checkpoint, into the next step (about a second long)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert not stderr and "interrupted again (SIGINT): stopped at once" in stdout
    kept = checkpoint.load(out / "checkpoint.npz").step
    assert f"the last good checkpoint (step {kept:,}) is kept" in stdout
    assert [p.name for p in out.glob(".*")] == [".dualnum.lock"]


_SLOW_IMPORT = """
import importlib.abc, os, sys, time

class Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "dualnum.core":
            os.write(2, b"importing dualnum\\n")
            time.sleep(60)
        return None

sys.meta_path.insert(0, Slow())
"""


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_dualnum_imports_ends_quietly(tmp_path, sig, status):
    """The console script's first import is _dualnum_entry, outside the package; a hook
    (in this test only) holds ``import dualnum`` long enough to interrupt it."""
    (tmp_path / "slow_import.py").write_text(_SLOW_IMPORT)
    script = ("import sys, slow_import\nfrom _dualnum_entry import main\n"
              "sys.exit(main())\n")  # what pip's generated `dualnum` script does
    env = dict(_env(), PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    proc = subprocess.Popen([sys.executable, "-c", script, "train"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stderr.readline() == "importing dualnum\n"
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status and stdout == "" and stderr == ""


# ===================================================================== bounded inputs
def test_a_3_gb_checkpoint_member_is_refused_by_resume_and_eval(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    checkpoint_with_member(out / "checkpoint.npz", "param.1.weight", (800_000_000,),
                           config={"data": "blobs", "model": "mlp"})
    peak, result = peak_rss(f"""
        from dualnum.cli import main
        result = [main(["train", "--out", {str(out)!r}, "--resume", "--steps", "5"]),
                  main(["eval", "--checkpoint", {str(out / "checkpoint.npz")!r}])]
    """, cwd=tmp_path)
    assert result == [1, 1] and peak < 600 << 20, f"peak RSS {peak / 2**20:.0f} MiB"
    code = subprocess.run([sys.executable, "-m", "dualnum", "eval", "--checkpoint",
                           str(out / "checkpoint.npz")], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert_one_line_error(code.returncode, code.stderr,
                          "is from another model: parameter 1.weight has shape (800000000,)")


@pytest.mark.parametrize("argv, fragment", [
    (["--momentum", "5"], "argument --momentum: must be in [0, 1), got 5 (0.9 is typical)"),
    (["--momentum", "1"], "argument --momentum: must be in [0, 1), got 1"),
    (["--out", ""], "argument --out: must name a directory, got ''"),
    (["--data-dir", " "], "argument --data-dir: must name a directory"),
    (["--steps", "10000000000"], "argument --steps: must be at most 1,000,000,000, got "
                                 "10,000,000,000 (a billion steps is days of training)"),
    (["--steps", "1e26"], "argument --steps: '1e26' is not an integer"),
    (["--lr", "inf"], "argument --lr: must be a positive finite number, got inf"),
    (["--lr", "nan"], "argument --lr: must be a positive finite number, got nan"),
    (["--hidden", "100000000"], "argument --hidden: must be at most 65,536"),
    (["--directions", "0"], "argument --directions: must be a positive integer, got 0"),
    (["--weight-decay", "-1"], "argument --weight-decay: must be a non-negative finite"),
    (["--seed", str(2**64)], "argument --seed: must be at most"),
])
def test_absurd_flags_are_refused_by_argparse(tmp_path, capsys, argv, fragment):
    code, _, err = run(capsys, "train", *argv, "--out", tmp_path / "r")
    assert_one_line_error(code, err, "dualnum train: error:", fragment, status=2)
    assert not (tmp_path / "r").exists()


def test_eval_flags_are_checked(capsys):
    code, _, err = run(capsys, "eval", "--checkpoint", "")
    assert_one_line_error(code, err, "argument --checkpoint: must name a file", status=2)


@pytest.mark.parametrize("config, fragment", [
    ("null", "its config is a JSON null, not an object"),
    ("[1, 2]", "its config is a JSON list, not an object"),
    ('{"data": "blobs", "model": "mlp", "log_every": 0}',
     "its config has log_every=0, which is invalid: must be a positive integer, got 0"),
    ('{"data": "blobs", "model": "mlp", "lr": NaN}',
     "its config has lr=nan, which is invalid: must be a positive finite number"),
    ('{"data": "blobs", "model": "mlp", "momentum": 5}', "must be in [0, 1), got 5"),
    ('{"data": "blobs", "model": "mlp", "steps": 1e30}', "its config has steps=1e+30"),
    ('{"data": "imagenet", "model": "mlp"}', "its config has data='imagenet'"),
    ('{"model": "mlp"}', "its config lacks data"),
    ('{"data": "blobs", "model": "mlp", "gradient": "exact", "clip": 1.0}',
     "--clip limits forward gradients"),
])
def test_crafted_checkpoint_configs_are_checked_like_flags(tmp_path, capsys, config,
                                                            fragment):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 2, "--out", out)[0] == 0
    path = out / "checkpoint.npz"
    _set_config(path, config)
    code, _, err = run(capsys, "train", "--steps", 4, "--out", out, "--resume")
    line = assert_one_line_error(code, err, str(path), fragment)
    assert "Traceback" not in line
    if "clip" not in fragment:
        code, _, err = run(capsys, "eval", "--checkpoint", path)
        assert_one_line_error(code, err, str(path), fragment)


def test_random_bytes_as_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(np.random.default_rng(0).bytes(20_000))
    for argv in (["train", "--out", out, "--resume"],
                 ["eval", "--checkpoint", out / "checkpoint.npz"]):
        code, _, err = run(capsys, *argv)
        line = assert_one_line_error(code, err, "is not a readable checkpoint")
        assert "pickle" not in line


# ===================================================================== messages
def test_eval_json_is_valid_json_even_for_a_diverged_model(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 2, "--out", out)[0] == 0
    path = out / "checkpoint.npz"
    ck = checkpoint.load(path)
    model = build_model("mlp", (2,), 3, hidden=64, rng=0)
    for p in model.parameters():
        p[...] = np.inf
    checkpoint.save(path, model=model, step=ck.step, config=ck.config,
                    extra={"norm.mean": ck.extra["norm.mean"], "norm.std": ck.extra["norm.std"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, stdout, err = run(capsys, "eval", "--checkpoint", path, "--json")
    assert code == 0, err
    res = json.loads(stdout, parse_constant=lambda c: pytest.fail(f"invalid JSON: {c}"))
    assert res["test_loss"] is None and res["step"] == 2


def test_resume_with_fewer_steps_keeps_the_summary_consistent(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 6, "--out", out)[0] == 0
    before = arrays(out / "checkpoint.npz")
    code, stdout, err = run(capsys, "train", "--steps", 4, "--out", out, "--resume")
    assert code == 0, err
    assert "already at step 6, past --steps 4" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == summary["config"]["steps"] == 6
    after = arrays(out / "checkpoint.npz")
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_eval_never_counts_training_images_as_test_images(tmp_path, capsys):
    """Trained where only MNIST's t10k files were, a checkpoint is evaluated on the
    images it held out, also once the training files are there too."""
    d = make_idx_set(tmp_path / "m", test_only=True, n_test=50)
    out = tmp_path / "r"
    assert run(capsys, "train", "--data", "mnist", "--data-dir", d, "--model", "logreg",
               "--batch-size", 8, "--steps", 3, "--out", out)[0] == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_examples"] == 10 and summary["test_split"] == "held-out"
    rng = np.random.default_rng(1)
    data.write_idx(d / "train-images-idx3-ubyte.gz",
                   rng.integers(0, 255, (30, 8, 8)).astype(np.uint8))
    data.write_idx(d / "train-labels-idx1-ubyte.gz", np.arange(30, dtype=np.uint8) % 10)
    assert data.mnist(d).test_name == "test"  # all four files now
    code, stdout, err = run(capsys, "eval", "--checkpoint", out / "checkpoint.npz", "--json")
    assert code == 0, err
    res = json.loads(stdout)
    assert res["test_examples"] == 10 and res["test_split"] == "held-out"
    assert res["test_accuracy"] == summary["test_accuracy"]
    assert "evaluated on the other 10 (held out)" in res["notes"][0]
    code, stdout, err = run(capsys, "eval", "--checkpoint", out / "checkpoint.npz")
    assert "note: this checkpoint was trained on 40 of the test files' images" in stdout
    # Resuming keeps training on the split it started with.
    code, stdout, err = run(capsys, "train", "--steps", 5, "--out", out, "--resume")
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["test_examples"] == 10


def test_cli_messages_use_flags_not_python_keywords(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", empty,
                       "--no-download", "--out", tmp_path / "r")
    line = assert_one_line_error(code, err, "--data-dir DIR", "(--no-download)")
    assert "data_dir=" not in line and "download=" not in line


def test_help_states_each_default_once(capsys):
    for argv in (["train", "--help"], ["eval", "--help"]):
        code, stdout, _ = run(capsys, *argv)
        assert code == 0
        assert "(default: None)" not in stdout
        text = " ".join(stdout.split())
        for flag_help in text.split(" --")[1:]:
            assert flag_help.count("(default:") <= 1, flag_help
    code, stdout, _ = run(capsys, "train", "--help")
    assert "runs/DATA-MODEL-2" in stdout and "--overwrite" in stdout and "143" in stdout


@pytest.mark.parametrize("what", ["file", "parent-file"])
def test_out_that_is_not_a_directory(tmp_path, capsys, what):
    f = tmp_path / "f"
    f.write_text("mine")
    out = f if what == "file" else f / "sub"
    code, _, err = run(capsys, "train", *FAST, "--steps", 2, "--out", out)
    assert_one_line_error(code, err, str(out), "is a file" if what == "file"
                          else "a part of that path is a file")
    assert f.read_text() == "mine"


def test_run_as_a_library_records_every_setting_and_its_estimator(tmp_path):
    class Halved(dn.train.ForwardGradient):
        def __call__(self, problem, rng):
            value, g = super().__call__(problem, rng)
            return value, [0.5 * gi for gi in g]

    est = Halved(4, "normal")
    summary = Run({"data": "blobs", "steps": 5, "out": str(tmp_path / "r")},
                  estimator=est).train()
    cfg = summary["config"]
    from dualnum.run.settings import SETTINGS

    assert set(cfg) == {s.name for s in SETTINGS}
    assert (cfg["directions"], cfg["distribution"]) == (4, "normal")
    with pytest.raises(RunError, match="resume=True continues .* overwrite=True replaces"):
        Run({}, resume=True, overwrite=True)
    with pytest.raises(RunError, match="unknown setting 'steps_'"):
        Run({"steps_": 3})


# ===================================================================== clean install
def test_compiling_kernels_writes_nothing_inside_the_package(tmp_path):
    """numba's cache goes to the per-user cache directory: a package directory that
    pip installed must hold exactly the files pip recorded."""
    pkg = Path(dn.__file__).resolve().parent

    def snapshot():
        return {str(p.relative_to(pkg)): p.stat().st_mtime_ns for p in pkg.rglob("*")
                if p.is_file() and p.suffix != ".pyc"}

    before = snapshot()
    cache = tmp_path / "cache"
    code = textwrap.dedent("""
        import numpy as np, dualnum as dn
        rng = np.random.default_rng(0)
        for dist in ("normal", "rademacher"):
            dn.forward_gradient(lambda w: np.sum(np.tanh(w) ** 2), np.ones(70_000), rng=rng,
                                n_directions=2, distribution=dist)
        x = np.ones((2, 1, 8, 8), np.float32)
        dn.max_pool2d(dn.conv2d(dn.Dual(x, x), np.ones((2, 1, 3, 3), np.float32)), 2)
    """)
    env = dict(os.environ, DUALNUM_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    env.pop("NUMBA_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert list(cache.rglob("*.nbi")), "no kernel was cached in DUALNUM_CACHE_DIR"
    assert snapshot() == before
    assert not [p for p in pkg.rglob("*") if p.suffix in (".nbi", ".nbc")]


def test_no_leftover_install_shadows_this_one(tmp_path):
    """``pip uninstall`` (which ``pip install -e`` runs on an earlier install) must leave
    nothing: a leftover ``dualnum/`` folder in site-packages imports as a namespace
    package and shadows this copy in processes started outside the checkout."""
    purelib = Path(sysconfig.get_paths()["purelib"]).resolve()
    here = Path(dn.__file__).resolve().parent
    if here.parent == purelib:
        pytest.skip("the tests run on the installed copy itself")
    left = [str(p) for p in (purelib / "dualnum", purelib / "_dualnum_entry.py")
            if p.exists()]
    assert not left, f"files left behind by an uninstall: {left}"
    out = subprocess.run([sys.executable, "-c", "import dualnum, _dualnum_entry; "
                          "print(dualnum.__file__); print(_dualnum_entry.__file__)"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, f"{out.stderr} (an install older than _dualnum_entry.py? " \
                                f"pip install -e . again)"
    pkg_file, entry_file = out.stdout.split()
    assert Path(pkg_file).resolve().parent == here
    assert Path(entry_file).resolve().parent == here.parent
