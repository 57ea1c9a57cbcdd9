"""``dualnum train`` / ``dualnum eval``: outputs, bit-identical resume, Ctrl-C, plots, and
the bad-input catalogue (each a one-line error and a non-zero exit status)."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dualnum import checkpoint, data
from dualnum.cli import main

from test_data import SHARED_MNIST, _closed_port, _serve_set, _Server, make_idx_set

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--data", "blobs", "--log-every", "1"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.delenv(data.MIRRORS_ENV, raising=False)
    monkeypatch.delenv("DUALNUM_DEBUG", raising=False)


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``dualnum *argv`` run in this process."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments, status=1):
    assert code == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], lines[0]
    return lines[0]


def arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def same_state(a, b):
    """Parameters, optimizer state, generator state and step agree bit for bit."""
    a, b = arrays(a), arrays(b)
    keys = [k for k in a if k.startswith(("param.", "optim.")) or k in ("rng", "step")]
    assert sorted(keys) == sorted(k for k in b if k.startswith(("param.", "optim."))
                                  or k in ("rng", "step"))
    return [k for k in keys if not np.array_equal(a[k], b[k])]


# ===================================================================== outputs
def test_train_writes_metrics_summary_and_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", "--steps", 30, "--eval-every", 10, "--out", out)
    assert code == 0, err
    assert "test accuracy" in stdout and "step/s" not in stdout  # no bar: not a terminal
    lines = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [10, 20, 30]
    assert all({"step", "loss", "lr", "seconds"} <= set(r) for r in lines)
    assert all("test_accuracy" in r and "test_loss" in r for r in lines)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("test_accuracy", "test_loss", "steps", "seconds", "config", "version"):
        assert key in summary
    assert summary["steps"] == 30 and summary["config"]["data"] == "digits"
    assert summary["config"]["model"] == "mlp" and summary["test_split"] == "test"
    assert summary["test_accuracy"] == lines[-1]["test_accuracy"]
    ck = arrays(out / "checkpoint.npz")  # allow_pickle=False
    assert int(ck["step"]) == 30 and "rng" in ck and "optim.step_count" in ck
    assert any(k.startswith("param.") for k in ck)
    assert [p.name for p in out.glob(".*")] == [".dualnum.lock"]  # no temporary files left

    code, stdout, err = run(capsys, "eval", "--checkpoint", out / "checkpoint.npz")
    assert code == 0, err
    assert f"{100 * summary['test_accuracy']:.1f}%" in stdout
    code, stdout, _ = run(capsys, "eval", "--checkpoint", out / "checkpoint.npz", "--json")
    res = json.loads(stdout)
    assert res["test_accuracy"] == summary["test_accuracy"] and res["step"] == 30
    assert abs(res["test_loss"] - summary["test_loss"]) < 1e-6


@pytest.mark.parametrize("model", ["logreg", "cnn"])
def test_models_adapt_to_the_input(tmp_path, capsys, model):
    code, stdout, err = run(capsys, "train", "--model", model, "--steps", 3, "--out",
                            tmp_path / model)
    assert code == 0, err
    assert json.loads((tmp_path / model / "summary.json").read_text())["config"]["model"] \
        == model


def test_exact_gradients_and_idx_data(tmp_path, capsys):
    d = make_idx_set(tmp_path / "m", test_only=True, n_test=100)
    code, stdout, err = run(capsys, "train", "--data", "mnist", "--data-dir", d, "--model",
                            "logreg", "--gradient", "exact", "--steps", 3, "--out",
                            tmp_path / "r")
    assert code == 0, err
    assert "held-out" in stdout and "only MNIST's test files" in stdout
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["test_split"] == "held-out" and "only MNIST's test files" in summary["split"]


# ===================================================================== resume
@pytest.mark.parametrize("extra", [[], ["--optimizer", "sgd"],
                                   ["--optimizer", "sgd", "--momentum", "0.9"],
                                   ["--estimator", "weight", "--distribution", "outer",
                                    "--lr-decay", "0.01"]])
def test_resume_is_bit_identical(tmp_path, capsys, extra):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(capsys, "train", *FAST, *extra, "--steps", 24, "--out", a)[0] == 0
    assert run(capsys, "train", *FAST, *extra, "--steps", 11, "--out", b)[0] == 0
    code, stdout, err = run(capsys, "train", *FAST, "--steps", 24, "--out", b, "--resume")
    assert code == 0, err
    assert "resuming at step 11" in stdout
    assert same_state(a / "checkpoint.npz", b / "checkpoint.npz") == []
    la = [json.loads(s) for s in (a / "metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(s) for s in (b / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["loss"]) for r in la] == [(r["step"], r["loss"]) for r in lb]
    summary = json.loads((b / "summary.json").read_text())
    assert summary["resumed_from"] == 11 and summary["steps"] == 24


def test_resume_drops_metrics_after_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 10, "--checkpoint-every", 4, "--out",
               out)[0] == 0
    # Pretend the run died after step 8's checkpoint: roll the checkpoint back.
    code = run(capsys, "train", *FAST, "--steps", 8, "--out", tmp_path / "r8")[0]
    assert code == 0
    shutil.copy(tmp_path / "r8" / "checkpoint.npz", out / "checkpoint.npz")
    assert run(capsys, "train", *FAST, "--steps", 10, "--out", out, "--resume")[0] == 0
    steps = [json.loads(s)["step"] for s in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 11))


# ===================================================================== plots
def test_plot_without_matplotlib_prints_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, stdout, err = run(capsys, "train", *FAST, "--steps", 5, "--plot", "--out", tmp_path)
    assert code == 0, err
    hint = [s for s in stdout.splitlines() if s.startswith("--plot")]
    assert len(hint) == 1 and "pip install" in hint[0]
    assert not list(tmp_path.glob("*.png"))


def test_plot_writes_pngs(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, stdout, err = run(capsys, "train", *FAST, "--steps", 20, "--eval-every", 5,
                            "--plot", "--out", tmp_path)
    assert code == 0, err
    for name in ("loss.png", "accuracy.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ===================================================================== bad input
def test_missing_data_dir(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", tmp_path / "nope",
                       "--out", tmp_path / "r")
    assert_one_line_error(code, err, "data directory", "nope does not exist")


def test_idx_bad_magic(tmp_path, capsys):
    d = make_idx_set(tmp_path / "m")
    bad = b"\x08\x03\x00\x00" + b"\0" * 30
    (d / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bad))
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", d, "--out",
                       tmp_path / "r")
    assert_one_line_error(code, err, "t10k-images-idx3-ubyte.gz", "bad magic number 0x08030000")
    (d / "t10k-images-idx3-ubyte.gz").unlink()
    (d / "t10k-images-idx3-ubyte").write_bytes(bad)  # raw files are read too
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", d, "--out",
                       tmp_path / "r")
    assert_one_line_error(code, err, "t10k-images-idx3-ubyte is not an IDX file")


def test_idx_corrupt_gzip(tmp_path, capsys):
    d = make_idx_set(tmp_path / "m")
    f = d / "train-labels-idx1-ubyte.gz"
    blob = bytearray(f.read_bytes())
    blob[-8] ^= 0xFF  # break the CRC
    f.write_bytes(bytes(blob))
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", d, "--out",
                       tmp_path / "r")
    assert_one_line_error(code, err, "train-labels-idx1-ubyte.gz is not valid gzip data")


def test_idx_truncated(tmp_path, capsys):
    d = make_idx_set(tmp_path / "m", gz=False)
    f = d / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", d, "--out",
                       tmp_path / "r")
    assert_one_line_error(code, err, "train-images-idx3-ubyte is truncated")


def test_images_and_labels_of_different_counts(tmp_path, capsys):
    d = make_idx_set(tmp_path / "m")
    data.write_idx(d / "train-labels-idx1-ubyte.gz", np.zeros(59, np.uint8))
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", d, "--out",
                       tmp_path / "r")
    assert_one_line_error(code, err, "has 60 images but", "has 59 labels")


def test_labels_out_of_range(tmp_path, capsys):
    d = make_idx_set(tmp_path / "m")
    data.write_idx(d / "t10k-labels-idx1-ubyte.gz", np.full(40, 10, np.uint8))
    code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", d, "--out",
                       tmp_path / "r")
    assert_one_line_error(code, err, "label 10 at index 0", "out of range")


def test_checksum_mismatch_from_a_mirror(tmp_path, capsys, monkeypatch):
    server = _Server()
    try:
        _serve_set(server, tmp_path, prefix="/")  # small files: not the published MNIST
        monkeypatch.setenv(data.MIRRORS_ENV, server.url + "/")
        empty = tmp_path / "empty"
        empty.mkdir()
        code, _, err = run(capsys, "train", "--data", "mnist", "--data-dir", empty, "--out",
                           tmp_path / "r")
    finally:
        server.close()
    assert_one_line_error(code, err, "checksum mismatch for train-images-idx3-ubyte.gz")
    assert not any((empty / "mnist").iterdir())


def test_offline_says_where_to_put_the_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(data.MIRRORS_ENV, f"http://127.0.0.1:{_closed_port()}/")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "train", "--data", "fashion-mnist", "--data-dir", empty,
                       "--out", tmp_path / "r")
    assert_one_line_error(code, err, "offline", "Put train-images-idx3-ubyte.gz",
                          str(empty / "fashion-mnist"))


@pytest.mark.parametrize("argv, fragment", [
    (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    (["--data", "cifar"], "argument --data: invalid choice: 'cifar'"),
    (["--steps", "0"], "argument --steps: must be a positive integer, got 0"),
    (["--steps", "-3"], "argument --steps: must be a positive integer, got -3"),
    (["--batch-size", "0"], "argument --batch-size: must be a positive integer"),
    (["--lr", "0"], "argument --lr: must be a positive finite number, got 0"),
    (["--lr", "-0.1"], "argument --lr: must be a positive finite number"),
    (["--lr", "nan"], "argument --lr: must be a positive finite number"),
    (["--steps", "ten"], "argument --steps: 'ten' is not an integer"),
])
def test_bad_arguments(tmp_path, capsys, argv, fragment):
    code, _, err = run(capsys, "train", *argv, "--out", tmp_path)
    assert_one_line_error(code, err, "dualnum train: error:", fragment, status=2)


@pytest.mark.parametrize("argv, fragment", [
    (["--data", "blobs", "--model", "cnn"], "model 'cnn' needs images"),
    (["--data", "blobs", "--batch-size", "5000"], "batch size 5000 is larger than the 1000"),
    (["--threads", "999"], "--threads 999 is more than"),
    (["--gradient", "exact", "--clip", "1"], "--clip"),
    (["--resume"], "--resume: no checkpoint in"),
])
def test_impossible_requests(tmp_path, capsys, argv, fragment):
    code, _, err = run(capsys, "train", *argv, "--steps", 2, "--out", tmp_path / "r")
    assert_one_line_error(code, err, fragment)


def test_checkpoint_from_another_model(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, "train", "--model", "logreg", "--steps", 2, "--out", out)[0] == 0
    code, _, err = run(capsys, "train", "--model", "mlp", "--steps", 4, "--out", out,
                       "--resume")
    assert_one_line_error(code, err, "from another model", "parameter 1.weight",
                          "(10, 64) in the checkpoint", "(64, 64) in this model")
    code, _, err = run(capsys, "train", "--model", "logreg", "--data", "blobs", "--steps", 4,
                       "--out", out, "--resume")
    assert_one_line_error(code, err, "parameter 1.weight", "(10, 64)", "(3, 2)")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "pickle"])
def test_corrupt_or_truncated_checkpoint(tmp_path, capsys, damage):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 2, "--out", out)[0] == 0
    path = out / "checkpoint.npz"
    blob = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(os.urandom(len(blob)))
    elif damage == "truncated":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # an object array needs pickle, which is never allowed
        np.savez(path, format=np.array(checkpoint.FORMAT), obj=np.array([{}], dtype=object))
    code, _, err = run(capsys, "train", *FAST, "--steps", 4, "--out", out, "--resume")
    assert_one_line_error(code, err, str(path))
    code, _, err = run(capsys, "eval", "--checkpoint", path)
    assert_one_line_error(code, err, str(path))


def test_eval_missing_checkpoint(tmp_path, capsys):
    code, _, err = run(capsys, "eval", "--checkpoint", tmp_path / "none.npz")
    assert_one_line_error(code, err, "no checkpoint at")


def test_nonfinite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "r"
    code, _, err = run(capsys, "train", *FAST, "--lr", "1e30", "--steps", 50,
                       "--checkpoint-every", 1, "--out", out)
    line = assert_one_line_error(code, err, "training stopped: the loss became",
                                 "the last good checkpoint (step")
    failed = int(line.split(" at step ")[1].split(";")[0].replace(",", ""))
    ck = checkpoint.load(out / "checkpoint.npz")
    assert 0 < ck.step < failed
    assert all(np.all(np.isfinite(p)) for p in ck.params.values())
    assert not (out / "summary.json").exists()


# ===================================================================== entry points
def test_python_dash_m_and_console_script(tmp_path):
    out = subprocess.run([sys.executable, "-m", "dualnum", "train", "--help"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--directions" in out.stdout
    out = subprocess.run([sys.executable, "-m", "dualnum", "train", "--model", "x"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    script = shutil.which("dualnum") or str(Path(sys.executable).parent / "dualnum")
    if not os.path.exists(script):
        pytest.skip("the dualnum console script is not installed")
    out = subprocess.run([script, "eval", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "--checkpoint" in out.stdout


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the shared MNIST test files are not here")
def test_train_on_the_shared_mnist_test_files(tmp_path, capsys):
    code, stdout, err = run(capsys, "train", "--data", "mnist", "--data-dir", SHARED_MNIST,
                            "--steps", 20, "--out", tmp_path)
    assert code == 0, err
    assert "8,000" in stdout and "held-out accuracy" in stdout


# ===================================================================== library
def test_checkpoint_library_errors_are_typed(tmp_path):
    import dualnum as dn

    model = dn.nn.Linear(3, 2, rng=0)
    opt = dn.optim.SGD(dict(model.named_parameters()), lr=0.1, momentum=0.9)
    opt.step({"weight": np.ones((2, 3), np.float32), "bias": np.ones(2, np.float32)})
    rng = np.random.default_rng(5)
    path = tmp_path / "c.npz"
    checkpoint.save(path, model=model, optimizer=opt, rng=rng, step=1, config={"a": 1})
    other_model = dn.nn.Linear(3, 2, rng=1)
    other_opt = dn.optim.SGD(dict(other_model.named_parameters()), lr=0.1, momentum=0.9)
    other_rng = np.random.default_rng(0)
    checkpoint.restore(checkpoint.load(path), other_model, other_opt, other_rng)
    assert np.array_equal(other_model.weight, model.weight)
    assert np.array_equal(other_opt.state["weight"]["momentum_buffer"],
                          opt.state["weight"]["momentum_buffer"])
    assert other_rng.random() == rng.random()
    with pytest.raises(checkpoint.CheckpointError, match="momentum_buffer"):
        checkpoint.restore(checkpoint.load(path), other_model,
                           dn.optim.Adam(dict(other_model.named_parameters())))
    blob = path.read_bytes()
    path.write_bytes(blob[:-40])
    with pytest.raises(checkpoint.CheckpointError, match="corrupt or truncated"):
        checkpoint.load(path)
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint at"):
        checkpoint.load(tmp_path / "missing.npz")


def test_resume_past_the_end_only_reports(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(capsys, "train", *FAST, "--steps", 6, "--out", out)[0] == 0
    before = arrays(out / "checkpoint.npz")
    code, stdout, err = run(capsys, "train", "--steps", 4, "--out", out, "--resume")
    assert code == 0, err
    assert "already at step 6" in stdout and "blobs" in stdout  # the checkpoint's data
    after = arrays(out / "checkpoint.npz")
    assert all(np.array_equal(before[k], after[k]) for k in before)
