"""Thread pools that share a small machine: OpenBLAS's, numba's and other libraries'.

On 2 cores, a pool whose idle threads spin takes a core from the next parallel region
of another pool: a GEMM right after a numba kernel, or a numba kernel right after a GEMM,
then runs several times slower. dualnum keeps every pool it touches passive, in the same
way whatever was imported first:

* OpenBLAS (NumPy's BLAS) spins for 2^28 cycles after each call. It reads
  ``OPENBLAS_THREAD_TIMEOUT`` when it starts its threads: when dualnum loads NumPy the
  variable is set for that moment only; when NumPy was imported first, dualnum sets it,
  has OpenBLAS re-read its environment and stops its threads, which OpenBLAS restarts on
  the next call with the short timeout (the path OpenBLAS takes after every ``fork``).
  Then the variable is removed again. A user's own ``OPENBLAS_THREAD_TIMEOUT`` wins.
* numba's OpenMP layer (libgomp) reads ``OMP_WAIT_POLICY`` once, when it is loaded;
  dualnum starts it with ``PASSIVE`` (see :func:`dualnum._jit._start_threads`). When
  another library loaded libgomp before (PyTorch does, and the process then has one
  libgomp, already started with spinning waits), dualnum's kernels use numba's
  ``workqueue`` layer instead, whose threads sleep on a condition variable. That layer
  runs one parallel region at a time, so a kernel called from a second Python thread
  while one runs takes its serial build (:func:`dualnum._jit._Kernel.__call__`).
  ``NUMBA_THREADING_LAYER`` (or ``numba.config.THREADING_LAYER``), when set, wins.
  When numba's own pool was already started, spinning, by code that ran before dualnum
  was imported, no layer can be chosen any more: dualnum's kernels then run serially
  rather than wait for the spinning threads.

:func:`report` tells what was done, for benchmarks and bug reports.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading

_STATE = {"openblas": "not configured", "layer": "not chosen"}


def _loaded_libraries():
    """Paths of the shared libraries mapped into this process (Linux), or []."""
    try:
        with open("/proc/self/maps") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    seen = []
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) == 6 and ".so" in parts[5] and parts[5] not in seen:
            seen.append(parts[5].strip())
    return seen


def _with_env(name, value, fn):
    """Run ``fn()`` with ``os.environ[name] = value``, then restore the variable."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        return fn()
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def quiet_openblas_at_load():
    """Before NumPy is imported: load it with OpenBLAS's short idle timeout."""
    if "numpy" in sys.modules or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False

    def load():
        import numpy  # noqa: F401  (loads OpenBLAS now)

    _with_env("OPENBLAS_THREAD_TIMEOUT", "4", load)
    _STATE["openblas"] = "idle threads sleep at once (timeout set while NumPy loaded it)"
    return True


def quiet_openblas_now():
    """After NumPy was imported: give its OpenBLAS the short idle timeout by restarting
    its threads. Returns True when it did."""
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        _STATE["openblas"] = "user's OPENBLAS_THREAD_TIMEOUT kept"
        return False
    done = False
    for path in _loaded_libraries():
        if "openblas" not in os.path.basename(path).lower():
            continue
        try:
            lib = ctypes.CDLL(path)
            read_env, shutdown = lib.openblas_read_env, lib.blas_thread_shutdown_
        except (OSError, AttributeError):
            continue  # another BLAS build: its timeout stays as it is
        _with_env("OPENBLAS_THREAD_TIMEOUT", "4", read_env)
        shutdown()  # threads restart on the next call, with the new timeout
        done = True
    _STATE["openblas"] = ("idle threads sleep at once (threads restarted after NumPy "
                          "loaded OpenBLAS)" if done else "OpenBLAS not found or not adjustable")
    return done


_BLAS_CONTROLS = None
_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0
_BLAS_BEFORE = []


def _blas_controls():
    """(get_num_threads, set_num_threads) of every OpenBLAS loaded in this process (the
    names differ between builds: NumPy's wheels prefix them ``scipy_openblas_``)."""
    global _BLAS_CONTROLS
    if _BLAS_CONTROLS is None:
        found = []
        for path in _loaded_libraries():
            if "openblas" not in os.path.basename(path).lower():
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                                   ("openblas_", "64_"), ("openblas_", "")):
                get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                    found.append((get, put))
                    break
        _BLAS_CONTROLS = found
    return _BLAS_CONTROLS


@contextlib.contextmanager
def single_threaded_blas():
    """OpenBLAS on one thread inside the block (nested and concurrent blocks share one
    setting, restored when the last leaves): for work split into coarse pieces that
    threads of dualnum's own run side by side, where BLAS's threads would only wait
    for each other."""
    global _BLAS_USERS, _BLAS_BEFORE
    controls = _blas_controls()
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            _BLAS_BEFORE = [get() for get, _ in controls]
            for _, put in controls:
                put(1)
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                for (_, put), n in zip(controls, _BLAS_BEFORE):
                    put(n)


def foreign_libgomp():
    """True when libgomp is already loaded in this process and was started without a
    passive wait policy (by another library: numba has not loaded it yet)."""
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        return False
    return any(os.path.basename(p).startswith("libgomp") for p in _loaded_libraries())


def started_spinning():
    """True when numba's threading layer was started before dualnum could choose it, as
    OpenMP with spinning waits (``OMP_WAIT_POLICY`` not ``PASSIVE``)."""
    from numba.np.ufunc import parallel

    if not getattr(parallel, "_is_initialized", False):
        return False
    import numba

    if numba.threading_layer() != "omp" or \
            os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        return False
    _STATE["layer"] = ("serial kernels: numba's OpenMP pool was started with spinning "
                       "waits before dualnum was imported (import dualnum first, or set "
                       "OMP_WAIT_POLICY=PASSIVE, to use both cores)")
    return True


def choose_layer():
    """Before numba starts its threads: use the workqueue layer when another library's
    libgomp spins. Returns the layer chosen, or None when numba's default stays."""
    import numba

    if os.environ.get("NUMBA_THREADING_LAYER") or numba.config.THREADING_LAYER != "default":
        _STATE["layer"] = f"user's choice ({numba.config.THREADING_LAYER})"
        return None
    if foreign_libgomp():
        numba.config.THREADING_LAYER = "workqueue"
        _STATE["layer"] = "workqueue (another library's libgomp was loaded, spinning)"
        return "workqueue"
    _STATE["layer"] = "numba's default (OpenMP started with passive waits)"
    return None


def report():
    """What dualnum did to the thread pools of this process, as a dict of strings.

    >>> import dualnum._threads as t
    >>> sorted(t.report())
    ['layer', 'numba layer in use', 'openblas']
    """
    import numba

    out = dict(_STATE)
    try:
        out["numba layer in use"] = numba.threading_layer()
    except ValueError:  # no parallel region has run yet
        out["numba layer in use"] = "not started yet"
    return out
