"""Shared pieces of the paper_*.py examples (a helper module, not an example).

The MNIST scripts build the same networks twice, in dualnum and (when it is installed) in
PyTorch with the same initial weights, time training steps, and save figures and JSON
results. Only dualnum's public API is used.

PyTorch always runs in a worker process (``python _paper.py worker CONFIG``), never next
to dualnum: both bring an OpenMP runtime named libgomp.so.1, the first one loaded serves
both, and whichever library did not load it runs slower (measured here: dualnum's
forward-gradient step of the paper's MLP took 32 ms instead of 19 ms when torch was
imported first; torch's backprop step slowed in the other order).
"""
from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "worker":
    import torch  # a PyTorch worker: torch loads its own OpenMP runtime first
else:
    torch = None

# dualnum before NumPy, so that OpenBLAS's idle threads do not spin (dualnum/__init__.py)
import dualnum as dn
import numpy as np

#: Whether PyTorch is installed (it is only imported by worker processes).
HAVE_TORCH = importlib.util.find_spec("torch") is not None

REPO = Path(__file__).resolve().parent.parent
#: Where the MNIST files are looked for when --data-dir is not given: the shared data
#: directory next to the current directory or next to this repository.
DEFAULT_MNIST_DIRS = (Path("..") / "shared" / "data" / "mnist",
                      REPO.parent / "shared" / "data" / "mnist")


# ------------------------------------------------------------------------------ data
def find_mnist_dir(data_dir):
    """``data_dir`` if given, else the first default directory that holds MNIST files,
    else None (dn.data.mnist then searches $DUALNUM_DATA, its cache, and downloads)."""
    if data_dir is not None:
        return Path(data_dir)
    for d in DEFAULT_MNIST_DIRS:
        if any(d.glob("*idx*-ubyte*")):
            return d
    return None


def load_mnist(data_dir, *, quick):
    """(dataset, where): MNIST from ``data_dir`` (or the defaults). In --quick mode, when
    no MNIST files are at hand, the bundled digits stand in (and ``where`` says so), so
    that CI runs the script without data or network."""
    d = find_mnist_dir(data_dir)
    if quick and d is None:
        ds = dn.data.digits()
        return ds, ("MNIST not found (--data-dir, ../shared/data/mnist); --quick uses "
                    "scikit-learn's bundled 8×8 digits instead: " + ds.split)
    ds = dn.data.mnist(d, log=lambda m: print(m, file=sys.stderr))
    return ds, ds.split


# ---------------------------------------------------------------------------- models
# A network is a list of layer specs, built identically by both engines:
# ("flatten",), ("linear", n_in, n_out), ("conv", c_in, c_out) (3×3, padding 1),
# ("relu",), ("pool",) (2×2 max pooling).
def mlp_spec(n_in, width, hidden_layers, n_out=10):
    """Flatten, then ``hidden_layers`` Linear+ReLU layers of ``width``, then Linear."""
    spec, last = [("flatten",)], n_in
    for _ in range(hidden_layers):
        spec += [("linear", last, width), ("relu",)]
        last = width
    return spec + [("linear", last, n_out)]


def cnn_spec(input_shape, channels=64, hidden=1024, n_out=10):
    """The CNN of bench/train_step.py: four 3×3 convolutions of ``channels`` channels with
    ReLU, 2×2 max pooling after the second and the fourth, then two Linear layers."""
    c_in, h, w = input_shape
    c = channels
    conv = [("conv", c, c), ("relu",)]
    return ([("conv", c_in, c), ("relu",)] + conv + [("pool",)] + conv + conv
            + [("pool",), ("flatten",), ("linear", c * (h // 4) * (w // 4), hidden),
               ("relu",), ("linear", hidden, n_out)])


def build(spec, seed):
    """The dualnum network (PyTorch's default initialisation, drawn from ``seed``)."""
    rng = np.random.default_rng(seed)
    nn = dn.nn
    make = {"linear": lambda s: nn.Linear(s[1], s[2], rng=rng),
            "conv": lambda s: nn.Conv2d(s[1], s[2], 3, padding=1, rng=rng),
            "relu": lambda s: nn.ReLU(), "pool": lambda s: nn.MaxPool2d(2),
            "flatten": lambda s: nn.Flatten()}
    return nn.Sequential(*[make[s[0]](s) for s in spec])


def to_torch(spec, model):
    """The same network in torch.nn with ``model``'s weights copied (both engines use
    (out, in) matrices, OIHW kernels and the same parameter names)."""
    nn = torch.nn
    make = {"linear": lambda s: nn.Linear(s[1], s[2]),
            "conv": lambda s: nn.Conv2d(s[1], s[2], 3, padding=1),
            "relu": lambda s: nn.ReLU(), "pool": lambda s: nn.MaxPool2d(2),
            "flatten": lambda s: nn.Flatten()}
    tmodel = nn.Sequential(*[make[s[0]](s) for s in spec])
    tmodel.load_state_dict({k: torch.from_numpy(np.array(v, copy=True))
                            for k, v in model.named_parameters()}, strict=True)
    return tmodel


# ---------------------------------------------------------------------------- timing
def median_seconds(fn, *, repeats=15, min_sample=0.02):
    """Median time of one call of ``fn``: each of ``repeats`` samples runs ``fn`` enough
    times to last ``min_sample`` seconds (so timer resolution does not matter)."""
    fn()  # warm up (compilation, lazy allocation)
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(min_sample / one))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return float(np.median(samples))


def smoothed(losses, window):
    """Trailing moving average (the first ``window - 1`` entries average what exists)."""
    losses = np.asarray(losses, np.float64)
    c = np.cumsum(np.insert(losses, 0, 0.0))
    n = np.arange(1, len(losses) + 1)
    lo = np.maximum(n - window, 0)
    return (c[n] - c[lo]) / (n - lo)


def machine():
    """One line naming the CPU, the core count and the library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba

    parts = [cpu, f"{os.cpu_count()} cores", f"Python {platform.python_version()}",
             f"NumPy {np.__version__}", f"dualnum {dn.__version__} "
             f"({numba.get_num_threads()} numba threads)"]
    return ", ".join(parts)


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# ----------------------------------------------------------------------------- files
def _atomic(path, write):
    # A temporary file in the same directory, then a rename: an interrupted run never
    # leaves a half-written result behind.
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".",
                               suffix=path.suffix)
    os.close(fd)
    # mkstemp makes the file private (0600); give it the mode a plain open() would
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_json(path, obj):
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
    return _atomic(path, write)


def pyplot():
    """matplotlib.pyplot (headless), or None with a note when it is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no figures: they need matplotlib, `pip install matplotlib` or "
              "`pip install .[plot]`)")
        return None
    return plt


def save_figure(fig, path):
    path = _atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- workers
def run_worker(kind, config, weights=None, *, env=None, timeout=None):
    """Run ``config`` (a JSON-able dict: task and settings) in a fresh process of kind
    ``"torch"`` or ``"dualnum"`` and return its result dict. ``weights`` (name → array)
    are handed over in an .npz file (loaded with allow_pickle=False)."""
    with tempfile.TemporaryDirectory() as d:
        cfg = dict(config, result=str(Path(d) / "result.json"))
        if weights is not None:
            cfg["weights"] = str(Path(d) / "weights.npz")
            np.savez(cfg["weights"], **{k: np.asarray(v) for k, v in weights.items()})
        write_json(Path(d) / "config.json", cfg)
        argv = [sys.executable, str(Path(__file__).resolve()),
                "worker" if kind == "torch" else "dualnum-worker", str(Path(d) / "config.json")]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           env=None if env is None else dict(os.environ, **env))
        if r.returncode != 0:
            tail = "\n".join(r.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"the {kind} worker failed (task {config.get('task')}):\n{tail}")
        return json.loads(Path(cfg["result"]).read_text())


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def peak_extra_bytes(step):
    """Peak resident memory one call of ``step`` adds above the memory before it: the
    kernel's peak-RSS counter is reset, ``step`` runs, and the new peak is read. Linux
    only; None elsewhere. Run it in a fresh process with MALLOC_MMAP_THRESHOLD_ set, so
    that large blocks return to the system when freed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        base = _status_kb("VmRSS")
        step()
        return max(0, _status_kb("VmHWM") - base) * 1024
    except OSError:
        step()
        return None


def _batch(cfg):
    if cfg.get("data") == "random":
        rng = np.random.default_rng(cfg["seed"])
        shape = (cfg["batch_size"],) + tuple(cfg["input_shape"])
        return (rng.standard_normal(shape).astype(np.float32),
                rng.integers(0, 10, cfg["batch_size"]))
    ds, _ = load_mnist(cfg["data_dir"], quick=cfg["quick"])
    return ds.x_train[:cfg["batch_size"]], ds.y_train[:cfg["batch_size"]]


def _torch_task(cfg):
    F = torch.nn.functional
    spec = [tuple(s) for s in cfg["spec"]]
    model = build(spec, cfg["seed"])  # the weights are overwritten when given
    if "weights" in cfg:
        with np.load(cfg["weights"], allow_pickle=False) as w:
            for name, p in model.named_parameters():
                p[...] = w[name]
    tmodel = to_torch(spec, model)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if cfg["task"] == "train":
        ds, _ = load_mnist(cfg["data_dir"], quick=cfg["quick"])
        loader = ds.batches(cfg["batch_size"], seed=cfg["seed"])
        lr0, k, steps = cfg["lr0"], cfg["k"], cfg["steps"]
        # two untimed steps on a copy first: PyTorch's first calls initialise its kernels
        warm = copy.deepcopy(tmodel)
        warm_opt = torch.optim.SGD(warm.parameters(), lr=lr0)
        for x, y in itertools.islice(loader.stream(), 2):
            warm_opt.zero_grad()
            F.cross_entropy(warm(torch.from_numpy(x)), torch.from_numpy(y)).backward()
            warm_opt.step()
        opt = torch.optim.SGD(tmodel.parameters(), lr=lr0)
        losses, times, elapsed = [], [], 0.0
        stream = loader.stream()
        for i in range(steps):
            x, y = (torch.from_numpy(a) for a in next(stream))
            t0 = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = lr0 * np.exp(-i * k)  # the same η_i as dn.optim.ExponentialDecay
            opt.zero_grad()
            loss = F.cross_entropy(tmodel(x), y)
            loss.backward()
            opt.step()
            elapsed += time.perf_counter() - t0
            losses.append(float(loss))
            times.append(elapsed)
            if not np.isfinite(losses[-1]):
                out["diverged_at"] = i
                break
        with torch.no_grad():
            logits = tmodel(torch.from_numpy(ds.x_test))
            out["heldout"] = {
                "loss": float(F.cross_entropy(logits, torch.from_numpy(ds.y_test))),
                "accuracy": float((logits.argmax(1).numpy() == ds.y_test).mean())}
        out.update(losses=losses, times=times)
    x, y = (torch.from_numpy(a) for a in _batch(cfg))
    opt = torch.optim.SGD(tmodel.parameters(), lr=cfg.get("lr0", 1e-4))

    def forward():
        with torch.no_grad():
            F.cross_entropy(tmodel(x), y)

    def step():
        opt.zero_grad()
        F.cross_entropy(tmodel(x), y).backward()
        opt.step()

    if cfg.get("timing", True):
        out["F_s"] = median_seconds(forward, repeats=cfg.get("repeats", 15))
        out["step_s"] = median_seconds(step, repeats=cfg.get("repeats", 15))
    if cfg.get("memory"):
        step()
        step()  # warm: lazy initialisation is not part of a step's memory
        opt.zero_grad()  # the gradients are made (and counted) inside the step
        out["peak_extra_bytes"] = peak_extra_bytes(step)
    return out


def _dualnum_task(cfg):
    spec = [tuple(s) for s in cfg["spec"]]
    model = build(spec, cfg["seed"])
    params = dict(model.named_parameters())
    x, y = _batch(cfg)
    opt = dn.optim.SGD(params, lr=cfg.get("lr0", 1e-4))
    rng = np.random.default_rng(cfg["seed"])

    def f(p):
        return dn.cross_entropy(dn.nn.functional_call(model, p, x), y)

    def step():
        _, g = dn.forward_gradient(f, params, rng=rng, distribution=cfg["distribution"],
                                   dense=False)
        opt.step(g)

    out = {}
    if cfg.get("timing", True):
        out["F_s"] = median_seconds(lambda: f(params), repeats=cfg.get("repeats", 15))
        out["step_s"] = median_seconds(step, repeats=cfg.get("repeats", 15))
    if cfg.get("memory"):
        step()
        step()  # warm: compiled kernels and lazy initialisation are not a step's memory
        out["peak_extra_bytes"] = peak_extra_bytes(step)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("worker", "dualnum-worker"):
        sys.exit("usage: python _paper.py {worker,dualnum-worker} CONFIG.json "
                 "(started by the paper_*.py examples)")
    config = json.loads(Path(sys.argv[2]).read_text())
    result = (_torch_task if sys.argv[1] == "worker" else _dualnum_task)(config)
    write_json(config["result"], result)
