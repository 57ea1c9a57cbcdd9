"""Thread pools sharing a process (dualnum/_threads.py): behaviour, not speed.

Each case runs in a fresh interpreter, since what is configured depends on what the
process loaded before dualnum."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

_PROBE = """
import json, threading
import numpy as np
import dualnum as dn, dualnum._threads as t
a = np.arange(256.0 * 256).reshape(256, 256) / 1e4
ok_blas = bool(np.allclose(a @ a, np.einsum("ij,jk->ik", a, a)))   # BLAS after its restart
x = np.linspace(-1, 1, 1 << 19)                                      # parallel kernels
d = dn.Dual(x, np.ones_like(x))
ok_kernel = bool(np.allclose((d * d).tangent, 2 * x))
res = []
def work():
    for _ in range(20):
        res.append(bool(np.allclose((d * d + d).tangent, 2 * x + 1)))
th = [threading.Thread(target=work) for _ in range(2)]
for h in th: h.start()
for h in th: h.join()
print(json.dumps(dict(t.report(), ok_blas=ok_blas, ok_kernel=ok_kernel, ok_threads=all(res))))
"""


def _run(prelude, env=None):
    import os

    e = dict(os.environ)
    e.pop("OPENBLAS_THREAD_TIMEOUT", None)
    e.pop("NUMBA_THREADING_LAYER", None)
    e.pop("OMP_WAIT_POLICY", None)
    e.update(env or {})
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(prelude) + _PROBE],
                         capture_output=True, text=True, env=e, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _correct(r):
    assert r["ok_blas"] and r["ok_kernel"] and r["ok_threads"], r


@pytest.mark.parametrize("prelude", ["import numpy", "import dualnum"],
                         ids=["numpy first", "dualnum first"])
def test_openblas_idle_threads_sleep_whatever_the_import_order(prelude):
    r = _run(prelude)
    _correct(r)
    if "not found" in r["openblas"]:
        pytest.skip("NumPy's BLAS is not an adjustable OpenBLAS here")
    assert r["openblas"].startswith("idle threads sleep at once"), r
    assert r["numba layer in use"] != "workqueue", r  # no foreign libgomp: numba's default


def test_with_pytorch_imported_first_dualnum_uses_the_workqueue_layer():
    pytest.importorskip("torch")
    r = _run("import torch")
    _correct(r)
    assert r["numba layer in use"] == "workqueue", r


def test_pytorch_first_with_passive_waits_shares_one_openmp_runtime():
    """The README's configuration for PyTorch and dualnum in one process: with
    OMP_WAIT_POLICY=PASSIVE in the environment PyTorch starts libgomp with sleeping
    threads, and dualnum's kernels then run on that same OpenMP runtime."""
    pytest.importorskip("torch")
    r = _run("import torch", env={"OMP_WAIT_POLICY": "PASSIVE"})
    _correct(r)
    assert r["numba layer in use"] == "omp", r


def test_a_users_threading_layer_wins():
    pytest.importorskip("torch")
    r = _run("import torch", env={"NUMBA_THREADING_LAYER": "omp"})
    _correct(r)
    assert r["numba layer in use"] == "omp" and r["layer"].startswith("user's choice"), r


def test_numba_pool_started_spinning_before_dualnum_gives_serial_kernels():
    # The user's own numba code started the OpenMP pool before dualnum was imported: its
    # threads spin between regions, so dualnum's kernels run serially (and say so).
    r = _run("import numba; numba.get_num_threads()", env={})
    _correct(r)
    assert r["layer"].startswith("serial kernels"), r
    r = _run("import numba; numba.get_num_threads()", env={"OMP_WAIT_POLICY": "PASSIVE"})
    _correct(r)
    assert not r["layer"].startswith("serial kernels"), r


def test_parallel_pieces_run_serial_kernels_on_one_blas_thread():
    """dualnum._jit.parallel_pieces: results in order, every piece with serial kernels and
    OpenBLAS on one thread, BLAS's setting restored afterwards, a piece's error raised."""
    import numba

    from dualnum import _jit, _threads

    controls = _threads._blas_controls()
    before = [get() for get, _ in controls]

    def piece(i):
        if i == 3:
            raise ValueError("piece 3")
        return i, getattr(_jit._in_piece, "on", False), [get() for get, _ in controls]

    two = numba.config.NUMBA_NUM_THREADS >= 2
    if two:
        numba.set_num_threads(2)
    out = _jit.parallel_pieces(piece, [0, 1, 2])
    assert [o[0] for o in out] == [0, 1, 2]
    if two:
        assert all(o[1] for o in out) and all(o[2] == [1] * len(controls) for o in out)
    assert [get() for get, _ in controls] == before
    with pytest.raises(ValueError, match="piece 3"):
        _jit.parallel_pieces(piece, [0, 3])
    assert [get() for get, _ in controls] == before
    if hasattr(os, "fork"):  # a forked child has the pool object, not its threads
        pid = os.fork()
        if pid == 0:
            import signal

            signal.alarm(60)  # a child waiting for threads it does not have fails, not hangs
            ok = [o[0] for o in _jit.parallel_pieces(piece, [0, 1, 2])] == [0, 1, 2]
            os._exit(0 if ok else 1)
        assert os.waitpid(pid, 0)[1] == 0
