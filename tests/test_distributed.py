"""Distributed training on a real Dask LocalCluster of 2 worker processes (one per module):
replicas identical to the single-process run, bytes per step independent of the model's
size, a worker killed mid-run, divergence caught by the checksums."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import dualnum as dn
from dualnum.run import Reporter

distributed = pytest.importorskip("distributed")

from dualnum.distributed import DistributedRun, ReplicasDivergedError  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            c.wait_for_workers(2, timeout=60)
            yield c


def _params(summary):
    ck = np.load(summary["files"]["checkpoint"])
    return {k: ck[k] for k in ck.files if k.startswith(("param.", "optim."))}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


BASE = {"data": "digits", "steps": 24, "seed": 3, "checkpoint_every": 8, "eval_every": 0}


class _At(Reporter):
    """Calls ``action`` once, after step ``step``."""

    def __init__(self, step, action):
        self.step, self.action = step, action

    def advance(self, step, loss, accuracy):
        if step == self.step:
            self.action()


def test_distributed_run_matches_single_process_and_resumes(client, tmp_path):
    single = dn.run.Run(dict(BASE, out=str(tmp_path / "single"))).train()
    half = DistributedRun(dict(BASE, steps=12, out=str(tmp_path / "dist")), client=client).train()
    assert half["distributed"]["workers"] == 2 and half["distributed"]["bytes_per_step"] > 0
    done = DistributedRun(dict(BASE, out=str(tmp_path / "dist")), client=client,
                          resume=True).train()
    assert done["steps"] == 24 and done["resumed_from"] == 12
    assert _same(_params(single), _params(done))  # bit for bit, through a resume


def test_weight_perturbation_within_bound(client, tmp_path):
    # Random directions: a share's tangent products are other GEMMs than the whole's, and
    # OpenBLAS rounds the last rows of a product differently (docs/distributed.md).
    est = dict(estimator="weight", directions=16, distribution="rademacher",
               combination="mean", optimizer="sgd")
    single = dn.run.Run(dict(BASE, **est, out=str(tmp_path / "s"))).train()
    dist = DistributedRun(dict(BASE, **est, out=str(tmp_path / "d")), client=client).train()
    a, b = _params(single), _params(dist)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-5, err_msg=k)


def test_bytes_per_step_do_not_grow_with_the_model(client, tmp_path):
    cfg = dict(BASE, steps=3, checkpoint_every=0, directions=32)
    small = DistributedRun(dict(cfg, hidden=64, out=str(tmp_path / "a")), client=client).train()
    big = DistributedRun(dict(cfg, hidden=1024, out=str(tmp_path / "b")), client=client).train()
    assert big["parameters"] > 10 * small["parameters"]
    assert big["distributed"]["bytes_per_step"] == small["distributed"]["bytes_per_step"]
    assert big["distributed"]["bytes_per_step"] < 4 * big["parameters"] / 10


def test_divergence_is_caught_at_the_checksum(client, tmp_path):
    def tamper():
        def poke():
            from dualnum.distributed import replica
            for rep in replica._REPLICAS.values():
                next(iter(rep.model.parameters()))[0, 0] += 1.0
        client.run(poke, workers=[sorted(client.nthreads())[0]])

    run = DistributedRun(dict(BASE, out=str(tmp_path / "r")), client=client,
                         reporter=_At(3, tamper))
    with pytest.raises(ReplicasDivergedError, match=r"step 8: replicas differ.*tcp://"):
        run.train()


def test_a_killed_worker_is_replaced_and_the_run_goes_on(client, tmp_path):
    single = dn.run.Run(dict(BASE, out=str(tmp_path / "single"))).train()
    victim = sorted(client.nthreads())[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    run = DistributedRun(dict(BASE, out=str(tmp_path / "dist")), client=client,
                         reporter=_At(5, lambda: os.kill(pid, signal.SIGKILL)))
    summary = run.train()
    assert summary["distributed"]["recoveries"][0]["workers"] == [victim]
    assert _same(_params(single), _params(summary))
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it


def test_import_dualnum_does_not_import_dask():
    code = ("import sys, dualnum, dualnum.cli, dualnum.run; "
            "assert not any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_cnn_recipe_is_refused_before_any_step(client, tmp_path):
    with pytest.raises(dn.run.RunError, match="window by window.*--local-losses no"):
        DistributedRun(dict(BASE, model="cnn", out=str(tmp_path / "c")), client=client).train()
    assert not (tmp_path / "c" / "checkpoint.npz").exists()


def test_the_command_line_with_workers_matches_one_process(tmp_path):
    """``dualnum train --workers 2`` starts its own LocalCluster, records the workers and
    the bytes per step, leaves no worker behind, and ends where one process ends."""
    argv = ["--data", "digits", "--steps", "20", "--seed", "3", "--eval-every", "0"]
    proc = subprocess.run([sys.executable, "-m", "dualnum", "train", *argv, "--workers", "2",
                           "--out", str(tmp_path / "d")], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert proc.returncode == 0, proc.stderr
    assert "dashboard" in proc.stdout + proc.stderr
    single = dn.run.Run(dict(BASE, steps=20, out=str(tmp_path / "s"))).train()
    d = tmp_path / "d" / "summary.json"
    import json

    summary = json.loads(d.read_text())
    assert summary["distributed"]["workers"] == 2
    assert summary["distributed"]["bytes_per_step"] > 0
    assert _same(_params(single), _params(summary))
