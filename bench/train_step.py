"""Training-step benchmarks: forward gradient (dualnum, PyTorch) against backprop (PyTorch).
Run as a script:

    python bench/train_step.py                  # full run (< 10 min), prints a Markdown report
    python bench/train_step.py --quick          # small models, few rounds (< 60 s)
    python bench/train_step.py --distribution rademacher      # one tangent distribution
    python bench/train_step.py --memory-point 8 --system dualnum-fg   # one memory point (JSON)

Timing (logistic regression 784→10, MLP 784→1024→1024→10, CNN of four 3×3 convolutions
with 64 channels; batch 64, float32, 2 threads), in one run:

* F: the loss value alone (PyTorch: under ``torch.no_grad``);
* FG, default: ``dn.forward_gradient(loss, params, rng=rng)`` then ``SGD.step(g)``, every
  setting at the library's default (what a user's script calls);
* FG: one forward-gradient step through dualnum's public API,
  ``dn.forward_gradient(loss, params, rng=rng, distribution=D)`` then
  ``dn.optim.SGD(params, lr).step(g)`` (in place), for every distribution in
  ``dualnum.fgrad.DISTRIBUTIONS`` unless ``--distribution`` picks some; R_f = FG/F;
* the FG step's parts, each timed on its own with fixed inputs: sampling v, the JVP with a
  fixed v, forming the estimate g = d·v, and the SGD update with a fixed g;
* PyTorch (when importable): F, FG (``torch.randn`` tangents, ``torch.func.jvp``, in-place
  update) with its parts, and BP (``zero_grad``, forward, ``backward``,
  ``torch.optim.SGD.step``), from the same initial weights on the same batch.

Medians over interleaved rounds: every round runs every op once (a sample is ``number``
back-to-back calls, ``number`` chosen so a sample lasts a few ms), in an order shuffled by
a seeded ``numpy.random.Generator``, with the garbage collector disabled. By default
dualnum and PyTorch run in two worker processes per model that take turns round by round
(in one process their thread pools, OpenBLAS's and libgomp's, slow each other down on 2
cores; ``--same-process`` interleaves them in one process instead). Compare numbers only
within one run: this machine is shared and noisy, and the report says how much CPU other
processes took meanwhile. The workers inherit the environment. dualnum's workers import
NumPy first, as a user's script does (``--dualnum-first``: the other order); either way
OpenBLAS's idle threads sleep at once (dualnum/_threads.py);
``OPENBLAS_THREAD_TIMEOUT=28 python bench/train_step.py`` restores OpenBLAS's default
spinning and shows what it costs the numba kernels that follow a GEMM.

Memory: the peak extra memory of one step for deep MLPs 784→[1024]×L→10 at batch 256,
each point in a fresh subprocess (``--memory-point L --system S``): peak RSS above the
RSS after model creation (kernels and lazy initialisation warmed up first on a one-layer
model), plus tracemalloc's peak of new NumPy allocations for dualnum.
"""
from __future__ import annotations

import argparse
import gc
import gzip
import inspect
import itertools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# A process that times dualnum imports NumPy first, as most scripts begin
# (``--dualnum-first`` imports dualnum first instead: the two orders must time the same,
# see dualnum/_threads.py). PyTorch processes import torch first (see try_torch).
if "--dualnum-first" in sys.argv:
    import dualnum  # noqa: F401

import numpy as np

HERE = Path(__file__).resolve().parent
MNIST_DIR = HERE.parent.parent / "shared" / "data" / "mnist"

# dualnum starts numba's OpenMP pool with passive waiting and restores OMP_WAIT_POLICY
# afterwards, so it no longer leaks into torch; the PyTorch processes still import torch
# first, and child processes get the environment as it was at start.
_OMP_WAIT_POLICY_AT_START = os.environ.get("OMP_WAIT_POLICY")
#: Environment variables that change the timings; reported as they were at start.
_THREAD_ENV = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "OPENBLAS_THREAD_TIMEOUT", "NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER")
_ENV_AT_START = {k: os.environ.get(k) for k in _THREAD_ENV}
_omp_policy_for_torch = "not imported"

MODELS = ("logreg", "mlp", "cnn")
BATCH = 64
MEMORY_BATCH = 256


# ---------------------------------------------------------------------------- setup
_thread_limits = None  # keeps threadpoolctl's limit alive


def set_threads(n, with_torch=True):
    """n threads for numba, BLAS (through threadpoolctl when installed) and torch."""
    global _thread_limits
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        from threadpoolctl import threadpool_limits

        _thread_limits = threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        pass
    if with_torch:
        torch = try_torch()
        if torch is not None:
            torch.set_num_threads(n)


def try_torch():
    global _omp_policy_for_torch
    first = "torch" not in sys.modules
    try:
        import torch
    except ImportError:
        return None
    if first:
        _omp_policy_for_torch = os.environ.get("OMP_WAIT_POLICY", "unset (libgomp default)")
    return torch


def child_env(**extra):
    """The environment for worker processes: ours, with OMP_WAIT_POLICY as it was before
    dualnum was imported."""
    env = dict(os.environ, **extra)
    if _OMP_WAIT_POLICY_AT_START is None:
        env.pop("OMP_WAIT_POLICY", None)
    else:
        env["OMP_WAIT_POLICY"] = _OMP_WAIT_POLICY_AT_START
    return env


def load_batch(n, source, seed):
    """(images (n, 784) float32, normalised as usual for MNIST; labels (n,) int64, and a
    description). ``source``: "auto" (MNIST t10k when present, else random), "random",
    or a directory holding t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz."""
    d = MNIST_DIR if source == "auto" else Path(source)
    img, lab = d / "t10k-images-idx3-ubyte.gz", d / "t10k-labels-idx1-ubyte.gz"
    if source != "random" and img.exists() and lab.exists():
        with gzip.open(img, "rb") as f:
            raw = f.read(16 + 784 * n)
        with gzip.open(lab, "rb") as f:
            labels = np.frombuffer(f.read(8 + n), np.uint8, offset=8).astype(np.int64)
        x = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255
        if len(x) == n:
            x = (x - np.float32(0.1307)) / np.float32(0.3081)
            return x, labels, f"MNIST t10k, first {n} images ({d})"
    elif source not in ("auto", "random"):
        raise SystemExit(f"--data {source}: MNIST files not found there")
    rng = np.random.default_rng(seed + 1)
    x = ((rng.random((n, 784), dtype=np.float32) - np.float32(0.1307)) / np.float32(0.3081))
    return x, rng.integers(0, 10, n).astype(np.int64), f"random MNIST-shaped data ({n} images)"


# --------------------------------------------------------------------------- models
def arch(name, quick):
    """(layer spec, input shape, description). Quick mode shrinks the widths."""
    if name == "logreg":
        return [("linear", 784, 10)], (784,), "logistic regression 784→10"
    if name == "mlp":
        h = 256 if quick else 1024
        return ([("linear", 784, h), ("relu",), ("linear", h, h), ("relu",), ("linear", h, 10)],
                (784,), f"MLP 784→{h}→{h}→10, ReLU")
    if name == "cnn":
        c, h = (16, 256) if quick else (64, 1024)
        conv = [("conv", c, c), ("relu",)]
        return ([("conv", 1, c), ("relu",)] + conv + [("pool",)] + conv + conv
                + [("pool",), ("flatten",), ("linear", c * 49, h), ("relu",), ("linear", h, 10)],
                (1, 28, 28), f"CNN 4× conv3×3({c}), 2 max-pools, {c * 49}→{h}→10")
    raise ValueError(name)


def deep_mlp(depth, width):
    spec = [("linear", 784, width), ("relu",)]
    for _ in range(depth - 1):
        spec += [("linear", width, width), ("relu",)]
    return spec + [("linear", width, 10)]


def build_dualnum(spec, seed):
    import dualnum as dn

    nn, rng = dn.nn, np.random.default_rng(seed)
    make = {"linear": lambda s: nn.Linear(s[1], s[2], rng=rng),
            "conv": lambda s: nn.Conv2d(s[1], s[2], 3, padding=1, rng=rng),
            "relu": lambda s: nn.ReLU(), "pool": lambda s: nn.MaxPool2d(2),
            "flatten": lambda s: nn.Flatten()}
    return nn.Sequential(*[make[s[0]](s) for s in spec])


def build_torch(spec, weights_from=None):
    """The same architecture in torch.nn; with ``weights_from`` (a dualnum model) its
    weights are copied (both use OIHW kernels and (out, in) matrices, and the same names)."""
    import torch

    nn = torch.nn
    make = {"linear": lambda s: nn.Linear(s[1], s[2]),
            "conv": lambda s: nn.Conv2d(s[1], s[2], 3, padding=1),
            "relu": lambda s: nn.ReLU(), "pool": lambda s: nn.MaxPool2d(2),
            "flatten": lambda s: nn.Flatten()}
    model = nn.Sequential(*[make[s[0]](s) for s in spec])
    if weights_from is not None:
        sd = {k: torch.from_numpy(np.array(v, copy=True))
              for k, v in weights_from.named_parameters()}
        model.load_state_dict(sd, strict=True)
    return model


def dualnum_loss(model, x, y):
    import dualnum as dn

    return lambda p: dn.cross_entropy(dn.nn.functional_call(model, p, x), y)


def fg_kwargs():
    """Extra keywords for dn.forward_gradient: structured (e.g. low-rank) estimates stay
    factored when the engine offers it, so dn.optim.SGD applies them as a fused update."""
    import dualnum as dn

    params = inspect.signature(dn.forward_gradient).parameters
    return {"dense": False} if "dense" in params else {}


def distributions(requested):
    from dualnum import fgrad as fg

    offered = list(fg.DISTRIBUTIONS)
    if requested in (None, "all"):
        return offered
    names = [d.strip() for d in requested.split(",") if d.strip()]
    bad = [d for d in names if d not in offered]
    if bad:
        raise SystemExit(f"--distribution: {bad} not offered; dualnum.fgrad.DISTRIBUTIONS has "
                         f"{offered}")
    return names


# ---------------------------------------------------------------------------- timing
class Interleaved:
    """Ops timed in interleaved rounds, each round in a freshly shuffled order."""

    def __init__(self):
        self.ops = {}
        self.number = {}
        self.samples = {}

    def add(self, key, fn):
        self.ops[key] = fn

    def prepare(self, min_sample):
        """Warm every op up (loads kernels, fills caches), then choose how many
        back-to-back calls make one sample of at least ``min_sample`` seconds."""
        for k, f in self.ops.items():
            f()
            t0 = time.perf_counter()
            f()
            t = time.perf_counter() - t0
            self.number[k] = max(1, min(1000, math.ceil(min_sample / max(t, 1e-7))))
            self.samples[k] = []

    def round(self, rng):
        """One sample of every op, in an order drawn from ``rng`` (the caller keeps the
        garbage collector disabled)."""
        keys = list(self.ops)
        for i in rng.permutation(len(keys)):
            k = keys[i]
            f, n = self.ops[k], self.number[k]
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            self.samples[k].append((time.perf_counter() - t0) / n)

    def run(self, rounds, rng, min_sample):
        self.prepare(min_sample)
        gc.collect()
        gc.disable()
        try:
            for _ in range(rounds):
                self.round(rng)
        finally:
            gc.enable()
        return self.results()

    def results(self):
        self.garbage = gc.collect()  # cyclic garbage left by the timed ops
        return {k: {"median": float(np.median(v)), "p25": float(np.percentile(v, 25)),
                    "p75": float(np.percentile(v, 75)), "number": self.number[k],
                    "rounds": len(v), "samples": v} for k, v in self.samples.items()}


def default_rounds(name, args):
    return args.rounds or (5 if args.quick else (30 if name == "cnn" else 60))


def setup_model(name, args, dists, systems):
    """The timed ops of one model for ``systems`` (a subset of {"dualnum", "torch"}):
    ``(bench, out, finish)``; ``finish()`` completes ``out`` once the timing is done."""
    import dualnum as dn
    from dualnum import fgrad as fg

    torch = try_torch() if "torch" in systems else None
    seed_rng = np.random.default_rng([args.seed, MODELS.index(name)])
    spec, in_shape, desc = arch(name, args.quick)
    x, y, _ = load_batch(BATCH, args.data, args.seed)
    x = x.reshape((BATCH,) + in_shape)
    model = build_dualnum(spec, args.seed)
    params = dict(model.named_parameters())
    n_params = sum(p.size for p in params.values())
    loss = dualnum_loss(model, x, y)
    lr = args.lr
    opt = dn.optim.SGD(params, lr=lr)
    kw = fg_kwargs()
    names, leaves = list(params), list(params.values())
    out = {"name": name, "desc": desc, "n_params": int(n_params), "notes": [],
           "fg_call": f"dn.forward_gradient(loss, params, rng=rng, distribution=D"
                      + "".join(f", {k}={v!r}" for k, v in kw.items()) + ") + SGD.step(g)"}
    bench = Interleaved()

    # Cross-check before anything moves the weights: same loss, same directional derivative.
    if torch is not None:
        import torch.nn.functional as tF

        tmodel = build_torch(spec, weights_from=model)          # BP copy
        fmodel = build_torch(spec, weights_from=model)          # FG copy (functional)
        for p in fmodel.parameters():
            p.requires_grad_(False)
        tnames = [k for k, _ in fmodel.named_parameters()]
        tparams = tuple(p for _, p in fmodel.named_parameters())
        tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())

        def tloss_fn(*ps):
            return tF.cross_entropy(torch.func.functional_call(fmodel, dict(zip(tnames, ps)),
                                                               (tx,)), ty)

        v = [np.random.default_rng(args.seed + 7).standard_normal(p.shape, dtype=np.float32)
             for p in leaves]
        f_dn = float(loss(params))
        with torch.no_grad():
            f_t = float(tF.cross_entropy(tmodel(tx), ty))
        _, d_dn = dn.jvp(loss, (params,), (dict(zip(names, v)),))
        _, d_t = torch.func.jvp(tloss_fn, tparams, tuple(torch.from_numpy(a) for a in v))
        d_dn, d_t = float(d_dn), float(d_t)
        out["check"] = {"f_dualnum": f_dn, "f_torch": f_t, "d_dualnum": d_dn, "d_torch": d_t}

    # dualnum: the public-API step per distribution, and its parts with fixed inputs.
    parts_ok = hasattr(fg, "sample_directions") and hasattr(fg, "estimate")
    if "dualnum" in systems:
        bench.add(("dualnum", "F"), lambda: loss(params))
        default_rng = np.random.default_rng(seed_rng.integers(2**63))

        def default_step():
            # what a user's script calls: every setting at the library's default (the
            # default distribution, dense estimates)
            _, g = dn.forward_gradient(loss, params, rng=default_rng)
            opt.step(g)

        bench.add(("dualnum", "default", "FG"), default_step)
    for dist in (dists if "dualnum" in systems else ()):
        step_rng = np.random.default_rng(seed_rng.integers(2**63))

        def fg_step(dist=dist, step_rng=step_rng):
            _, g = dn.forward_gradient(loss, params, rng=step_rng, distribution=dist, **kw)
            opt.step(g)

        bench.add(("dualnum", dist, "FG"), fg_step)
        if not parts_ok:
            out["notes"].append("dualnum.fgrad has no sample_directions/estimate: FG parts "
                                "not measured")
            continue
        try:
            part_rng = np.random.default_rng(seed_rng.integers(2**63))
            vs = fg.sample_directions(part_rng, leaves, 1, dist)
            vtree = dict(zip(names, vs))
            _, d = dn.jvp(loss, (params,), (vtree,), batched=True)
            d = np.asarray(d).reshape(1)
            est_dense = kw.get("dense", True)
            # The update is timed with g and -g in turn, so the weights do not drift.
            gtrees = itertools.cycle([dict(zip(names, fg.estimate(s * d, vs, dense=est_dense)))
                                      for s in (1, -1)])
        except Exception as e:  # an engine change broke the internal helpers
            out["notes"].append(f"FG parts for {dist!r} not measured: {type(e).__name__}: {e}")
            continue
        bench.add(("dualnum", dist, "sample"),
                  lambda dist=dist, r=part_rng: fg.sample_directions(r, leaves, 1, dist))
        bench.add(("dualnum", dist, "J"),
                  lambda vtree=vtree: dn.jvp(loss, (params,), (vtree,), batched=True))
        bench.add(("dualnum", dist, "estimate"),
                  lambda d=d, vs=vs: fg.estimate(d, vs, dense=est_dense))
        bench.add(("dualnum", dist, "update"), lambda gtrees=gtrees: opt.step(next(gtrees)))

    if torch is not None:
        topt = torch.optim.SGD(tmodel.parameters(), lr=lr)

        def t_f():
            with torch.no_grad():
                return tF.cross_entropy(tmodel(tx), ty)

        def t_bp():
            topt.zero_grad()
            tF.cross_entropy(tmodel(tx), ty).backward()
            topt.step()

        def t_fg():
            vs = tuple(torch.randn(p.shape) for p in tparams)
            _, d = torch.func.jvp(tloss_fn, tparams, vs)
            s = -lr * float(d)
            for p, v in zip(tparams, vs):
                p.add_(v, alpha=s)

        tvs = tuple(torch.randn(p.shape) for p in tparams)
        td = float(torch.func.jvp(tloss_fn, tparams, tvs)[1])
        steps = itertools.cycle([-lr * td, lr * td])  # alternate signs: no drift

        def t_update():
            s = next(steps)
            for p, v in zip(tparams, tvs):
                p.add_(v, alpha=s)

        bench.add(("torch", "F"), t_f)
        bench.add(("torch", "FG"), t_fg)
        bench.add(("torch", "sample"), lambda: tuple(torch.randn(p.shape) for p in tparams))
        bench.add(("torch", "J"), lambda: torch.func.jvp(tloss_fn, tparams, tvs))
        bench.add(("torch", "update"), t_update)
        bench.add(("torch", "BP"), t_bp)

    out["order_rng"] = np.random.default_rng(seed_rng.integers(2**63))

    def finish():
        out["times"] = bench.results()
        out["garbage"] = bench.garbage
        out.pop("order_rng")
        out["threads"] = {" + ".join(sorted(systems)): thread_settings()}
        if "dualnum" in systems:
            out["final_loss"] = float(loss(params))
        if torch is not None:
            with torch.no_grad():
                out["final_loss_torch_bp"] = float(tF.cross_entropy(tmodel(tx), ty))
                out["final_loss_torch_fg"] = float(tloss_fn(*tparams))
        return out

    return bench, out, finish


def min_sample(args):
    return 0.002 if args.quick else 0.005


def bench_model(name, args, dists, systems):
    """Time one model's ops for ``systems``, all interleaved in this process."""
    bench, out, finish = setup_model(name, args, dists, systems)
    t0 = time.perf_counter()
    bench.run(default_rounds(name, args), out["order_rng"], min_sample(args))
    out["seconds"] = time.perf_counter() - t0
    return finish()


def serve(name, args, dists, system):
    """Worker process: set up ``system``'s ops, warm up, then run one round per "round"
    line on stdin (garbage collector off throughout) and print the results on "finish"."""
    bench, out, finish = setup_model(name, args, dists, {system})
    bench.prepare(min_sample(args))
    gc.collect()
    gc.disable()
    print("ready", flush=True)
    busy = 0.0
    for line in sys.stdin:
        if line.strip() == "round":
            t0 = time.perf_counter()
            bench.round(out["order_rng"])
            busy += time.perf_counter() - t0
            print("ok", flush=True)
        elif line.strip() == "finish":
            break
    gc.enable()
    out["seconds"] = busy
    out = finish()
    out["times"] = {"|".join(k): v for k, v in out["times"].items()}
    print(json.dumps(out), flush=True)


# ---------------------------------------------------------------------------- memory
def _status_kb(field):
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Reset the kernel's peak-RSS counter (VmHWM); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_point(depth, system, dist, width, batch, args):
    """Peak extra memory (bytes) of one step; prints one JSON line."""
    set_threads(args.threads, with_torch=system.startswith("torch"))
    x, y, _ = load_batch(batch, args.data, args.seed)
    spec = deep_mlp(depth, width)

    if system == "dualnum-fg":
        import dualnum as dn

        kw = fg_kwargs()

        def make(spec):
            model = build_dualnum(spec, args.seed)
            params = dict(model.named_parameters())
            loss, opt = dualnum_loss(model, x, y), dn.optim.SGD(params, lr=args.lr)
            rng = np.random.default_rng(args.seed)

            def step():
                _, g = dn.forward_gradient(loss, params, rng=rng, distribution=dist, **kw)
                opt.step(g)

            return params, step
    else:
        import torch
        import torch.nn.functional as tF

        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        torch.manual_seed(args.seed)

        def make(spec):
            model = build_torch(spec)
            if system == "torch-bp":
                opt = torch.optim.SGD(model.parameters(), lr=args.lr)

                def step():
                    opt.zero_grad()
                    tF.cross_entropy(model(tx), ty).backward()
                    opt.step()
                    opt.zero_grad()  # set_to_none: the gradients are part of the step

                return dict(model.named_parameters()), step
            for p in model.parameters():
                p.requires_grad_(False)
            names = [k for k, _ in model.named_parameters()]
            ps = tuple(p for _, p in model.named_parameters())

            def f(*q):
                return tF.cross_entropy(torch.func.functional_call(model, dict(zip(names, q)),
                                                                   (tx,)), ty)

            def step():
                vs = tuple(torch.randn(p.shape) for p in ps)
                _, d = torch.func.jvp(f, ps, vs)
                s = -args.lr * float(d)
                for p, v in zip(ps, vs):
                    p.add_(v, alpha=s)

            return dict(model.named_parameters()), step

    _, warm = make(deep_mlp(1, width))  # same kernels, lazy initialisation done
    warm()
    warm()
    del warm
    params, step = make(spec)
    n_bytes = sum(int(np.prod(tuple(p.shape))) * 4 for p in params.values())
    gc.collect()
    resettable = _reset_peak_rss()
    base_kb = _status_kb("VmRSS")
    base_max_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    traced = system == "dualnum-fg"
    if traced:
        tracemalloc.start()
    step()
    peak_kb = _status_kb("VmHWM") if resettable else None
    if peak_kb is None:  # fall back on the lifetime peak (may hide a smaller step peak)
        peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, base_max_kb)
    res = {"depth": depth, "system": system, "distribution": dist if traced else None,
           "param_bytes": n_bytes, "rss_base": base_kb * 1024,
           "rss_extra": max(0, peak_kb - base_kb) * 1024,
           "peak_method": "VmHWM reset" if resettable else "ru_maxrss"}
    if traced:
        res["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps(res))


def memory_table(args, dists):
    depths = (2, 4) if args.quick else (2, 8, 32)
    width = 256 if args.quick else 1024
    systems = [("dualnum-fg", d) for d in dists]
    if not args.no_torch and try_torch() is not None:
        systems += [("torch-fg", None), ("torch-bp", None)]
    # Fixed mmap threshold: large blocks are mmapped and unmapped when freed, so RSS
    # follows live memory instead of glibc's heap high-water mark.
    env = child_env(MALLOC_MMAP_THRESHOLD_=os.environ.get("MALLOC_MMAP_THRESHOLD_", "65536"))
    rows = []
    for depth in depths:
        for system, dist in systems:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-point", str(depth),
                   "--system", system, "--width", str(width), "--threads", str(args.threads),
                   "--memory-batch", str(args.memory_batch),
                   "--data", args.data, "--seed", str(args.seed), "--lr", str(args.lr)]
            if dist:
                cmd += ["--distribution", dist]
            print(f"  memory: L={depth} {system} {dist or ''}", file=sys.stderr, flush=True)
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if r.returncode != 0:
                rows.append({"depth": depth, "system": system, "distribution": dist,
                             "error": r.stderr.strip().splitlines()[-1:] or ["failed"]})
                continue
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return depths, width, args.memory_batch, rows


# ---------------------------------------------------------------------------- report
def thread_settings():
    """What this process's thread pools are set to (numba, BLAS, torch if imported)."""
    import numba

    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run
        layer = "layer not yet chosen"
    parts = [f"numba {numba.get_num_threads()} ({layer})"]
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                parts.append(f"{info.get('internal_api')} {info.get('version')} "
                             f"{info.get('num_threads')}")
    except ImportError:
        pass
    if "torch" in sys.modules:
        parts.append(f"torch {sys.modules['torch'].get_num_threads()} (OMP_WAIT_POLICY when "
                     f"torch was imported: {_omp_policy_for_torch})")
    return ", ".join(parts)


def machine():
    from _common import cpu_model

    cpu = cpu_model()
    import numba

    parts = [f"{cpu}, {os.cpu_count()} cores", f"Python {platform.python_version()}",
             f"NumPy {np.__version__}", f"numba {numba.__version__}"]
    torch = try_torch()
    parts.append(f"torch {torch.__version__}" if torch is not None else "torch not installed")
    return ", ".join(parts)


def cpu_snapshot():
    """(machine busy seconds, steal seconds, this process's and its waited-for children's
    CPU seconds, wall time), to tell how much other processes used the machine."""
    busy = steal = float("nan")
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
        busy = (sum(v[:8]) - v[3] - v[4]) / hz  # all but idle and iowait
        steal = v[7] / hz if len(v) > 7 else 0.0
    except (OSError, ValueError, IndexError):
        pass
    t = os.times()
    return busy, steal, t.user + t.system + t.children_user + t.children_system, \
        time.perf_counter()


def contention(a, b):
    """Share of the machine's CPU time between snapshots a and b that went to other
    processes (and to steal by the hypervisor)."""
    wall = b[3] - a[3]
    cap = wall * (os.cpu_count() or 1)
    if not cap > 0 or a[0] != a[0]:
        return "unknown"
    other = max(0.0, (b[0] - a[0]) - (b[2] - a[2]))
    return (f"other processes used {100 * other / cap:.0f} % of the machine's CPU time "
            f"(steal {100 * (b[1] - a[1]) / cap:.0f} %)")


def dualnum_version():
    import dualnum as dn

    s = f"dualnum {dn.__version__}"
    try:
        root = HERE.parent
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "dualnum"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        s += f", git {head}" + (" + uncommitted changes under dualnum/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return s


def ms(t):
    return f"{t * 1e3:.3f}" if t < 0.01 else (f"{t * 1e3:.2f}" if t < 1 else f"{t * 1e3:.0f}")


def ratio(times, a, b):
    """``median(a) / median(b)`` and the median over rounds of ``a_r / b_r`` (both ops
    sampled in each round r, so a drift in machine speed cancels)."""
    x, y = times[a], times[b]
    per_round = np.median(np.asarray(x["samples"]) / np.asarray(y["samples"]))
    return f"{x['median'] / y['median']:.2f} ({per_round:.2f})"


def _default_label():
    """The default distribution, as dn.forward_gradient's signature or settings say."""
    try:
        from dualnum.fgrad._checks import default_distribution

        return f"`{default_distribution('weight', 'mean')}`, dense estimate"
    except ImportError:
        return "dense estimate"


def report_models(results, dists, has_torch):
    print("### Step times (ms, medians)\n")
    print("F: loss value only. FG: one forward-gradient step (sample v, one forward-mode pass, "
          "update). R_f = FG/F. BP: PyTorch's backprop step (`zero_grad`, forward, "
          "`backward`, `torch.optim.SGD.step`). Ratios: of the medians, and in parentheses "
          "the median over rounds of the ratio within a round (robust to drifts in machine "
          "speed).\n")
    head = "| model | params | tangents | F | FG | R_f = FG/F |"
    line = "|---|---|---|---|---|---|"
    if has_torch:
        head += (" torch F | torch FG | torch R_f | torch BP | torch FG/BP | "
                 "dualnum FG / torch BP |")
        line += "---|---|---|---|---|---|"
    print(head + "\n" + line)
    for r in results:
        t = {k: v["median"] for k, v in r["times"].items()}
        for dist in (["default"] if ("dualnum", "default", "FG") in t else []) + list(dists):
            fg_key = ("dualnum", dist, "FG")
            label = f"default ({_default_label()})" if dist == "default" else dist
            row = (f"| {r['name']} | {r['n_params'] / 1e6:.3f} M | {label} | "
                   f"{ms(t[('dualnum', 'F')])} | {ms(t[fg_key])} | "
                   f"{ratio(r['times'], fg_key, ('dualnum', 'F'))} |")
            if ("torch", "BP") in t:
                row += (f" {ms(t[('torch', 'F')])} | {ms(t[('torch', 'FG')])} | "
                        f"{ratio(r['times'], ('torch', 'FG'), ('torch', 'F'))} | "
                        f"{ms(t[('torch', 'BP')])} | "
                        f"{ratio(r['times'], ('torch', 'FG'), ('torch', 'BP'))} | "
                        f"**{ratio(r['times'], fg_key, ('torch', 'BP'))}** |")
            print(row)

    print("\n### dualnum FG step, part by part (ms, medians; each part timed on its own "
          "with fixed inputs)\n")
    print("sample: `dualnum.fgrad.sample_directions` (K = 1). JVP: `dn.jvp(loss, (params,), "
          "(v,), batched=True)` with a fixed v. estimate: `dualnum.fgrad.estimate` (g = d·v). "
          "update: `SGD.step(g)` with a fixed g (g and −g in turn). rest: FG step − sum of "
          "parts (pytree handling, checks, and any fusion a distribution does).\n")
    print("| model | tangents | sample v | JVP | J/F | estimate | update | sum of parts | "
          "FG step | rest | largest part |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        t = {k: v["median"] for k, v in r["times"].items()}
        for dist in dists:
            keys = [("dualnum", dist, p) for p in ("sample", "J", "estimate", "update")]
            if not all(k in t for k in keys):
                print(f"| {r['name']} | {dist} | n/a | n/a | | n/a | n/a | | "
                      f"{ms(t[('dualnum', dist, 'FG')])} | | |")
                continue
            p = [t[k] for k in keys]
            total, fgt = sum(p), t[("dualnum", dist, "FG")]
            labels = ["sample", "JVP", "estimate", "update", "rest"]
            shares = p + [max(fgt - total, 0.0)]
            big = int(np.argmax(shares))
            print(f"| {r['name']} | {dist} | {ms(p[0])} | {ms(p[1])} | "
                  f"{p[1] / t[('dualnum', 'F')]:.1f} | {ms(p[2])} | {ms(p[3])} | {ms(total)} | "
                  f"{ms(fgt)} | {ms(fgt - total)} | {labels[big]} "
                  f"({100 * shares[big] / fgt:.0f} % of FG) |")

    if has_torch:
        print("\n### PyTorch FG step, part by part (ms, medians)\n")
        print("sample: `torch.randn` per parameter. JVP: `torch.func.jvp` with a fixed v. "
              "update: `p.add_(v, alpha=∓lr·d)` with a fixed v.\n")
        print("| model | sample v | JVP | J/F | update | sum | FG step | BP step |")
        print("|---|---|---|---|---|---|---|---|")
        for r in results:
            t = {k: v["median"] for k, v in r["times"].items()}
            p = [t[("torch", k)] for k in ("sample", "J", "update")]
            print(f"| {r['name']} | {ms(p[0])} | {ms(p[1])} | {p[1] / t[('torch', 'F')]:.1f} | "
                  f"{ms(p[2])} | {ms(sum(p))} | {ms(t[('torch', 'FG')])} | "
                  f"{ms(t[('torch', 'BP')])} |")

    print("\n### Checks\n")
    for r in results:
        c = r.get("check")
        s = f"- {r['name']} ({r['desc']}, {r['n_params']:,} parameters): "
        if c:
            rel = abs(c["d_dualnum"] - c["d_torch"]) / max(abs(c["d_torch"]), 1e-30)
            s += (f"initial loss dualnum {c['f_dualnum']:.6f} vs torch {c['f_torch']:.6f}; "
                  f"directional derivative for one shared v: {c['d_dualnum']:.6g} vs "
                  f"{c['d_torch']:.6g} (relative difference {rel:.1e}). ")
        s += f"Loss after all timed steps: dualnum {r['final_loss']:.4f}"
        if "final_loss_torch_bp" in r:
            s += (f", torch BP {r['final_loss_torch_bp']:.4f}, "
                  f"torch FG {r['final_loss_torch_fg']:.4f}")
        wall = f" ({r['wall_seconds']:.0f} s wall clock)" if "wall_seconds" in r else ""
        s += (f". Timed rounds took {r['seconds']:.0f} s{wall}; gc.collect() afterwards "
              f"freed {r['garbage']} objects; while timing it, {r['contention']}.")
        print(s)
        for n in r["notes"]:
            print(f"  - note: {n}")

    print("\n<details><summary>Every timed op: median, quartiles (ms), calls per sample, "
          "rounds</summary>\n")
    print("| model | op | median | p25 | p75 | calls/sample | rounds |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        for k, v in r["times"].items():
            print(f"| {r['name']} | {' '.join(k)} | {ms(v['median'])} | {ms(v['p25'])} | "
                  f"{ms(v['p75'])} | {v['number']} | {v['rounds']} |")
    print("\n</details>")


def report_memory(depths, width, batch, rows):
    mb = 1024 * 1024
    print(f"\n### Peak extra memory of one step: MLP 784→[{width}]×L→10, batch {batch}, "
          "float32 (MB)\n")
    print("Each point in a fresh process (`--memory-point L --system S`): peak RSS (VmHWM, "
          "reset just before the step) above the RSS after model creation, after warming "
          "kernels and lazy initialisation up on a one-layer model; glibc's mmap threshold "
          "fixed at 64 KiB so freed arrays leave RSS. P = the parameters' bytes; "
          "tracemalloc (dualnum only) counts NumPy allocations made during the step.\n")
    cols = []
    for r in rows:
        key = (r["system"], r.get("distribution"))
        if key not in cols:
            cols.append(key)
    label = {("torch-fg", None): "torch FG (jvp)", ("torch-bp", None): "torch BP"}
    head = "| L | P |" + "".join(f" {label.get(c, f'dualnum FG ({c[1]})')} |" for c in cols)
    print(head + "\n|---|---|" + "---|" * len(cols))
    by = {(r["depth"], r["system"], r.get("distribution")): r for r in rows}
    p_bytes = {r["depth"]: r["param_bytes"] for r in rows if "param_bytes" in r}
    for depth in depths:
        cells = []
        for c in cols:
            r = by.get((depth,) + c)
            if r is None or "error" in r:
                cells.append(f"failed: {r['error'][0] if r else 'missing'}")
                continue
            cell = f"{r['rss_extra'] / mb:.1f} ({r['rss_extra'] / r['param_bytes']:.2f}×P)"
            if "traced_peak" in r:
                cell += f"; traced {r['traced_peak'] / mb:.1f}"
            cells.append(cell)
        p = f"{p_bytes[depth] / mb:.1f}" if depth in p_bytes else "?"
        print(f"| {depth} | {p} |" + "".join(f" {c} |" for c in cells))
    if len(depths) >= 2:
        lo, hi = depths[-2], depths[-1]
        cells = []
        for c in cols:
            a, b = by.get((lo,) + c), by.get((hi,) + c)
            if a and b and "rss_extra" in a and "rss_extra" in b:
                cells.append(f"{(b['rss_extra'] - a['rss_extra']) / mb / (hi - lo):.2f}")
            else:
                cells.append("")
        p = (f"{(p_bytes[hi] - p_bytes[lo]) / mb / (hi - lo):.2f}"
             if lo in p_bytes and hi in p_bytes else "?")
        print(f"| MB per added layer (L={lo}→{hi}) | {p} |" + "".join(f" {c} |" for c in cells))
    methods = sorted({r.get("peak_method", "?") for r in rows if "error" not in r})
    print(f"\nPeak measured by: {', '.join(methods)}.")


def _worker_argv(args, system, name, dists):
    a = [sys.executable, str(Path(__file__).resolve()), "--worker", system, "--models", name,
         "--distribution", ",".join(dists), "--threads", str(args.threads), "--data", args.data,
         "--lr", repr(args.lr), "--seed", str(args.seed)]
    return a + (["--quick"] if args.quick else []) + (
        ["--dualnum-first"] if args.dualnum_first and system == "dualnum" else [])


def run_workers(name, args, dists):
    """Time one model with dualnum and PyTorch each in its own process, alternating round
    by round (in an order drawn each round) so both see the same machine load, with a
    pause between them so the other process's spinning threads have gone to sleep."""
    procs, errs = {}, {}
    order_rng = np.random.default_rng([args.seed, 99, MODELS.index(name)])

    def talk(system, msg, expect):
        """Send ``msg`` and return the first reply line that starts with ``expect``."""
        p = procs[system]
        if msg:
            p.stdin.write(msg + "\n")
            p.stdin.flush()
        while True:
            line = p.stdout.readline()
            if not line:
                errs[system].seek(0)
                raise SystemExit(f"the {system} worker for {name} failed:\n"
                                 f"{errs[system].read()}")
            if line.startswith(expect):
                return line.strip()

    print(f"timing {name}: starting workers ...", file=sys.stderr, flush=True)
    t_start = time.perf_counter()
    for system in ("dualnum", "torch"):  # one at a time: warm-up and calibration alone
        errs[system] = tempfile.TemporaryFile("w+")
        procs[system] = subprocess.Popen(_worker_argv(args, system, name, dists),
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=errs[system], text=True, env=child_env())
        talk(system, None, "ready")
    rounds = default_rounds(name, args)
    print(f"timing {name}: {rounds} rounds ...", file=sys.stderr, flush=True)
    systems = list(procs)
    for _ in range(rounds):
        for i in order_rng.permutation(len(systems)):
            time.sleep(args.pause)
            talk(systems[i], "round", "ok")
    merged = None
    for system in systems:
        out = json.loads(talk(system, "finish", "{"))
        procs[system].wait()
        errs[system].close()
        out["times"] = {tuple(k.split("|")): v for k, v in out["times"].items()}
        if merged is None:
            merged = out
        else:
            merged["times"].update(out["times"])
            merged["notes"] += out["notes"]
            merged["seconds"] += out["seconds"]
            merged["garbage"] += out["garbage"]
            merged["threads"].update(out["threads"])
            for k in ("check", "final_loss_torch_bp", "final_loss_torch_fg"):
                if k in out:
                    merged[k] = out[k]
    merged["wall_seconds"] = time.perf_counter() - t_start
    return merged


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small models, few rounds (< 60 s)")
    ap.add_argument("--distribution", default="all",
                    help="tangent distribution(s), comma-separated, or 'all' (default): every "
                         "entry of dualnum.fgrad.DISTRIBUTIONS")
    ap.add_argument("--models", default=",".join(MODELS), help="subset of logreg,mlp,cnn")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds (default: 60, CNN 30; --quick 5)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="auto",
                    help="auto (MNIST t10k from ../shared/data/mnist if present), random, "
                         "or a directory with the MNIST t10k files")
    ap.add_argument("--lr", type=float, default=1e-5,
                    help="SGD learning rate (small: weights barely move while timing)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dualnum-first", action="store_true",
                    help="dualnum's workers import dualnum before NumPy (default: NumPy first)")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument("--same-process", action="store_true",
                    help="time dualnum and PyTorch interleaved in one process (default: "
                         "each in its own process, taking turns round by round)")
    ap.add_argument("--pause", type=float, default=0.1,
                    help="seconds between one process's round and the other's (default 0.1)")
    ap.add_argument("--worker", choices=["dualnum", "torch"], default=None,
                    help="(internal) serve timing rounds of one system for --models")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory table")
    ap.add_argument("--memory-only", action="store_true", help="only the memory table")
    ap.add_argument("--memory-point", type=int, default=None, metavar="L",
                    help="(internal) measure one memory point in this process, print JSON")
    ap.add_argument("--system", choices=["dualnum-fg", "torch-fg", "torch-bp"],
                    default="dualnum-fg", help="with --memory-point")
    ap.add_argument("--width", type=int, default=1024, help="with --memory-point")
    ap.add_argument("--memory-batch", type=int, default=MEMORY_BATCH,
                    help=f"batch size of the memory points (default {MEMORY_BATCH})")
    args = ap.parse_args(argv)
    if not args.no_torch and (args.worker == "torch" or args.same_process
                              or args.system.startswith("torch")):
        try_torch()  # before dualnum: see _OMP_WAIT_POLICY_AT_START

    if args.memory_point is not None:
        dist = args.distribution if args.distribution != "all" else "normal"
        memory_point(args.memory_point, args.system, dist, args.width, args.memory_batch, args)
        return

    dists = distributions(args.distribution)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if any(m not in MODELS for m in models):
        raise SystemExit(f"--models: choose from {MODELS}")
    if args.worker:
        set_threads(args.threads, with_torch=args.worker == "torch")
        serve(models[0], args, dists, args.worker)
        return
    import importlib.util

    # The driver stays light (no torch, no thread pools) while the workers time.
    has_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    if args.same_process or not has_torch:
        set_threads(args.threads, with_torch=has_torch)
    start = time.perf_counter()
    snap0 = cpu_snapshot()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()
    _, _, data_desc = load_batch(BATCH, args.data, args.seed)

    results = []
    if not args.memory_only:
        for name in models:
            snap = cpu_snapshot()
            if args.same_process or not has_torch:
                print(f"timing {name} ...", file=sys.stderr, flush=True)
                results.append(bench_model(name, args, dists,
                                           {"dualnum", "torch"} if has_torch else {"dualnum"}))
            else:
                results.append(run_workers(name, args, dists))
            results[-1]["contention"] = contention(snap, cpu_snapshot())
    mem = None
    if not args.no_memory:
        mem = memory_table(args, dists)

    cmd = " ".join(["python", "bench/train_step.py"] + sys.argv[1:] if argv is None
                   else ["python", "bench/train_step.py"] + list(argv))
    load1 = os.getloadavg()
    busy = contention(snap0, cpu_snapshot())
    print(f"## Training step: forward gradient vs backprop (`{cmd}`)\n")
    print(f"- date: {date}; total run time {time.perf_counter() - start:.0f} s")
    print(f"- machine: {machine()}")
    print(f"- {dualnum_version()}; tangent distributions offered by dualnum.fgrad: "
          f"{', '.join(distributions('all'))}")
    env = ", ".join(f"{k}={v}" for k, v in _ENV_AT_START.items() if v is not None)
    print(f"- environment (inherited by every worker): {env or 'none of'} "
          f"{'' if env else ', '.join(_THREAD_ENV) + ' set'}".rstrip())
    print(f"- machine load during the run: {busy}; load average (1 min) at start "
          f"{load0[0]:.2f}, at end {load1[0]:.2f}. The machine is shared: compare only "
          f"numbers from one run")
    if results:
        r0 = results[0]
        rounds = ", ".join(f"{r['name']} {next(iter(r['times'].values()))['rounds']}"
                           for r in results)
        print(f"- data: {data_desc}; batch {BATCH}, float32, cross-entropy loss, SGD lr "
              f"{args.lr:g}; threads (`--threads {args.threads}`) as the timing processes "
              f"reported them: " + "; ".join(f"{k} process: {v}" for k, v in
                                              results[-1]["threads"].items()))
        if not has_torch:
            where = "PyTorch not timed."
        elif args.same_process:
            where = ("dualnum and PyTorch ran in the same process, interleaved (`--same-process`"
                     "; their thread pools slow each other down).")
        else:
            where = (f"dualnum and PyTorch each ran in its own process (per model), taking "
                     f"turns round by round in a shuffled order with a {args.pause:g} s pause "
                     f"between turns: sharing one process, OpenBLAS's and libgomp's spinning "
                     f"threads slow each other down on 2 cores (`--same-process` shows it). "
                     f"dualnum's process imports "
                     f"{'dualnum before NumPy' if args.dualnum_first else 'NumPy before dualnum'}"
                     f"; the PyTorch process imports torch before dualnum; "
                     f"the cross-check ran in it before its timing.")
        print(f"- method: medians over interleaved rounds ({rounds}); every round runs every "
              f"op of the process, in an order shuffled by a numpy Generator seeded from "
              f"--seed {args.seed}; a sample is enough back-to-back calls to last ≥ "
              f"{2 if args.quick else 5} ms; gc disabled while timing; ops warmed up "
              f"(kernels compiled) first. {where}")
        print(f"- dualnum FG step: `{r0['fg_call']}`, `SGD = dn.optim.SGD(params, lr)`, in place")
        print()
        report_models(results, dists, has_torch)
    if mem is not None:
        report_memory(*mem)


if __name__ == "__main__":
    main()
