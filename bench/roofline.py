"""The roofline of this machine as NumPy sees it: GEMM GFLOP/s (float32, float64) and
memory bandwidth (a streaming copy and a triad), for 1 thread and for all threads.

    python bench/roofline.py            # prints a Markdown table

Each figure is the best of several repeats (a roofline is what the hardware can do, so
the best run is the estimate; on a shared machine the others were interrupted).
NumPy is imported first, as a user's script does; OpenBLAS picks its kernel at load
(OPENBLAS_CORETYPE, when set, decides it): the report names the one it runs.
"""
from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np


def best(fn, repeat=7, number=1):
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        ts.append((time.perf_counter() - t0) / number)
    return min(ts)


def gemm_gflops(n, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    c = np.empty((n, n), dtype)
    t = best(lambda: np.matmul(a, b, out=c), number=max(1, int(2e9 / (2 * n ** 3))))
    return 2 * n ** 3 / t / 1e9


def conv_gemm_gflops(dtype):
    # the CNN's largest product: (64, 576) @ (576, 64·784), as conv2d's im2col GEMM
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 576)).astype(dtype)
    cols = rng.standard_normal((576, 64 * 784)).astype(dtype)
    out = np.empty((64, 64 * 784), dtype)
    t = best(lambda: np.matmul(w, cols, out=out), repeat=5)
    return 2 * 64 * 576 * 64 * 784 / t / 1e9


def bandwidth():
    n = 1 << 25  # 128 MiB per float32 array, far beyond the caches
    a = np.ones(n, np.float32)
    b = np.empty_like(a)
    c = np.ones(n, np.float32)
    t_copy = best(lambda: np.copyto(b, a), repeat=5)
    t_triad = best(lambda: np.add(a, c, out=b), repeat=5)
    return 2 * a.nbytes / t_copy / 1e9, 3 * a.nbytes / t_triad / 1e9


def openblas_info():
    try:
        from threadpoolctl import threadpool_info

        return "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
                         f"{i.get('num_threads')} threads" for i in threadpool_info()
                         if i.get("user_api") == "blas")
    except ImportError:
        return "threadpoolctl not installed"


def set_blas_threads(n):
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(n, user_api="blas")
    except ImportError:
        return None



if __name__ == "__main__":
    rows = []
    lines = [f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, NumPy {np.__version__}",
             f"- OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
             f"BLAS: {openblas_info()}",
             f"- load average at start: {os.getloadavg()[0]:.2f}"]
    for threads in (1, os.cpu_count()):
        lim = set_blas_threads(threads)
        r = [threads]
        for dt in (np.float32, np.float64):
            r.append(gemm_gflops(1024, dt))
        r.append(conv_gemm_gflops(np.float32))
        rows.append(r)
        del lim
    cp, tr = bandwidth()
    lines.append(f"- load average at end: {os.getloadavg()[0]:.2f}")
    print("\n".join(lines))
    print()
    print("| BLAS threads | sgemm 1024³ GFLOP/s | dgemm 1024³ GFLOP/s | conv GEMM (64×576)·(576×50176) f32 GFLOP/s |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.0f} | {r[2]:.0f} | {r[3]:.0f} |")
    print()
    print(f"Memory bandwidth (NumPy, 128 MiB float32 arrays, 1 thread): copy {cp:.1f} GB/s "
          f"(read + write), a + b -> c {tr:.1f} GB/s")
