"""The one place that holds numba's options.

Every kernel in dualnum is compiled through :func:`kernel`, so the options below are
chosen once, deliberately:

* a disk cache, so a warm start does not recompile (compilation is still lazy: a kernel
  compiles on its first call). numba's own ``cache=True`` writes next to the source, that
  is inside the installed package, where pip's uninstall cannot see the files; dualnum's
  kernels are cached under the per-user cache directory instead
  (``dualnum._paths.cache_dir() / "numba"``), by a locator attached to dualnum's own
  dispatchers only: numba's settings for the user's other code are left alone.
* ``fastmath=False``: derivative checks compare against finite differences in float64;
  reassociation and flush-to-zero would make kernels disagree with NumPy's value path.
* ``error_model="numpy"``: division by zero gives inf/nan as NumPy does, instead of
  raising ZeroDivisionError inside a kernel. The fused path and the NumPy path must give
  identical answers on every input, including the edges of a domain.
* ``nogil=True``: kernels release the GIL so user threads can overlap them.
* numba's threads wait passively (see ``_start_threads`` and ``dualnum._threads``).
* ``parallel``: the "parallel" variant of a kernel splits its ``prange`` loop over the
  threads numba was given; the serial variant is used below ``PARALLEL_MIN`` elements,
  where thread start-up costs more than it saves.
"""
from __future__ import annotations

import os
import threading
import types

import numba
from numba.core import caching as _caching

from . import _threads as _threading
from ._paths import cache_dir

_OPTIONS = dict(fastmath=False, error_model="numpy", nogil=True)


class _Locator(_caching._SourceFileBackedLocatorMixin, _caching._CacheLocator):
    """numba's cache files for dualnum's kernels: one folder per source directory (so a
    checkout and an installed copy never share entries) under the user cache."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        sub = self.get_suitable_cache_subpath(py_file)
        self._cache_path = os.path.join(cache_dir(), "numba", sub)

    def get_cache_path(self):
        return self._cache_path


class _CacheImpl(_caching.CompileResultCacheImpl):
    _locator_classes = [_Locator]


class _FunctionCache(_caching.FunctionCache):
    _impl_class = _CacheImpl


def _njit(py_func, **options):
    """numba.njit with dualnum's options and its cache location. Where that location is
    not writable the kernel still works, compiled afresh in each process."""
    disp = numba.njit(**_OPTIONS, **options)(py_func)
    try:
        disp._cache = _FunctionCache(py_func)
    except RuntimeError:  # no writable cache directory: numba raises "no locator"
        pass
    return disp

#: Below this many elements the serial variant of a kernel is used: handing half of a
#: pass to a sleeping thread (on a virtual machine, waking an idle virtual CPU) costs
#: more than the half it saves, up to about this size (an MLP's 64×1024 activations
#: included; bench/RESULTS.md).
PARALLEL_MIN = 1 << 18
#: The same for memory-bound passes: one thread streams about as fast as two on the
#: machines measured (bench/RESULTS.md), so the hand-off pays only on very large arrays.
PARALLEL_MIN_MEMORY = 1 << 22


_threads_started = False
_spinning = False
#: With numba's workqueue layer, one parallel region at a time: a lock, else None.
_one_region = None


def _start_threads():
    """Start numba's thread pool with passive waiting.

    OpenMP worker threads spin after each parallel region by default. On a small machine
    they then compete with OpenBLAS's threads: a GEMM right after a parallel kernel ran 7x
    slower (0.8 ms -> 8 ms on 2 cores). libgomp reads OMP_WAIT_POLICY once, when numba
    loads it, so the variable is set for that moment only and then restored: other
    OpenMP users in the process (PyTorch bundles its own libgomp) keep their defaults,
    and a user's own OMP_WAIT_POLICY always wins."""
    global _threads_started, _one_region, _spinning
    if _threads_started:
        return
    _spinning = _threading.started_spinning()
    if _spinning:
        # Too late to choose: numba's pool was started (by the user's own numba code,
        # before dualnum was imported) with OpenMP threads that spin between regions. On
        # a small machine every parallel region then waits for a scheduler slice
        # (8 ms per kernel call on 2 cores, against 0.3 ms), so dualnum's kernels run
        # their serial builds; report() says so, and how to avoid it.
        _threads_started = True
        return
    if _threading.choose_layer() == "workqueue":
        _one_region = threading.Lock()
    before = os.environ.get("OMP_WAIT_POLICY")
    if before is None:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        numba.get_num_threads()  # loads the threading layer
    finally:
        if before is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
    _threads_started = True


class _Kernel:
    """A lazily compiled kernel with a serial and a parallel variant."""

    __slots__ = ("py_func", "_serial", "_parallel", "__name__", "memory_bound")

    def __init__(self, py_func, memory_bound=False):
        self.py_func = py_func
        self.memory_bound = memory_bound
        self.__name__ = py_func.__name__
        self._serial = None
        self._parallel = None

    @property
    def serial(self):
        if self._serial is None:
            self._serial = _njit(self.py_func, parallel=False)
        return self._serial

    @property
    def parallel(self):
        if self._parallel is None:
            _start_threads()
            # A copy under another qualified name: numba's cache files are named by
            # qualname, and the serial and parallel builds must not share an entry.
            f = self.py_func
            twin = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
            twin.__qualname__ = f.__qualname__ + "__parallel"
            self._parallel = _njit(twin, parallel=True)
        return self._parallel

    def __call__(self, n, *args):
        """Run on ``n`` elements: serial below PARALLEL_MIN (PARALLEL_MIN_MEMORY for a
        memory-bound kernel), parallel above; serial inside a piece of
        :func:`parallel_pieces` (the pieces are the parallelism)."""
        if n < (PARALLEL_MIN_MEMORY if self.memory_bound else PARALLEL_MIN) \
                or getattr(_in_piece, "on", False):
            f = self._serial
            if f is None:
                f = self.serial
            return f(*args)
        if threads() > 1:
            lock = _one_region
            if lock is None:
                return self.parallel(*args)
            if lock.acquire(blocking=False):
                try:
                    return self.parallel(*args)
                finally:
                    lock.release()
        return self.serial(*args)


def kernel(py_func=None, *, memory_bound=False):
    """Declare a numba kernel. Loops written with ``numba.prange`` run in parallel
    for large inputs. Call it as ``k(n_elements, *arrays)``. ``@kernel(memory_bound=True)``
    marks a pass that does a few operations per element loaded (an update, an outer
    product): it runs in parallel only from PARALLEL_MIN_MEMORY elements."""
    if py_func is None:
        return lambda f: _Kernel(f, memory_bound)
    return _Kernel(py_func, memory_bound)


def jit(py_func=None, *, inline=False):
    """A plain (serial) numba function with the project's options, for helpers that
    kernels call; ``@jit(inline=True)`` inlines it into its callers in numba's own IR
    (LLVM does not always inline a helper that takes arrays)."""
    if py_func is None:
        return lambda f: jit(f, inline=inline)
    return _njit(py_func, **({"inline": "always"} if inline else {}))


_in_piece = threading.local()
_pool = None  # (threads, ThreadPoolExecutor, the pid that made it)


def _run_piece(fn, item):
    _in_piece.on = True
    try:
        return fn(item)
    finally:
        _in_piece.on = False


def parallel_pieces(fn, items):
    """``[fn(item) for item in items]``, the items spread over :func:`threads` Python
    threads, each item with serial kernels and single-threaded BLAS.

    For work that splits into a few large independent pieces (a convolution's chunks of
    images): one synchronisation per piece instead of one per kernel and per GEMM, and a
    piece delayed by another process on a shared machine delays only itself. ``fn``
    must release the GIL for its heavy parts (numba kernels and NumPy's BLAS calls do).
    """
    global _pool
    items = list(items)
    n = threads()
    if n <= 1 or len(items) < 2 or getattr(_in_piece, "on", False):
        return [fn(i) for i in items]
    if _pool is None or _pool[0] != n or _pool[2] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        if _pool is not None and _pool[2] == os.getpid():
            _pool[1].shutdown(wait=False)
        # a forked child has the pool object but none of its threads: it makes its own
        _pool = (n, ThreadPoolExecutor(max_workers=n, thread_name_prefix="dualnum"),
                 os.getpid())
    with _threading.single_threaded_blas():
        futures = [_pool[1].submit(_run_piece, fn, i) for i in items]
        return [f.result() for f in futures]


def threads():
    """Threads kernels may use: numba's setting (``NUMBA_NUM_THREADS``, or
    ``numba.set_num_threads``)."""
    _start_threads()
    if _spinning:
        return 1
    return numba.get_num_threads()


# Start the pool now, before anything else in the process asks numba for its threads
# (numba.get_num_threads() alone loads the threading layer, with spinning waits).
_start_threads()
