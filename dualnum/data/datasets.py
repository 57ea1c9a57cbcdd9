"""Datasets: scikit-learn's 8×8 digits (embedded), MNIST and Fashion-MNIST (IDX files,
found on disk or downloaded), and two synthetic sets for teaching (two spirals, Gaussian
blobs). Each loader returns a :class:`Dataset` with float32 inputs, normalised with
statistics of its training split, and integer labels.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _paths
from .batching import Loader
from .errors import DataError, DataNotFoundError, DownloadError, argument
from .fetch import FILES, RAW_FILES, download, sha256_of
from .idx import read_idx

__all__ = ["Dataset", "DATASETS", "DATA_ENV", "SPLIT_SEED", "load", "digits",
           "mnist", "fashion_mnist", "spirals", "blobs", "cache_dir", "search_dirs"]

#: Names accepted by :func:`load` (and ``dualnum train --data``).
DATASETS = ("digits", "mnist", "fashion-mnist", "spirals", "blobs")
#: Environment variable naming a directory searched for dataset files.
DATA_ENV = "DUALNUM_DATA"
#: The seed of every fixed train/test split (independent of any training seed).
SPLIT_SEED = 0
#: With only MNIST's test files, this fraction of them trains and the rest is held out.
TEST_ONLY_TRAIN_FRACTION = 0.8

NORMALIZE = ("standard", "unit", "none")

_STEMS = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
          "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_TORCHVISION = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
_CLASSES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
_KNOWN = {sha: (ds, fname) for ds, files in FILES.items() for fname, sha in files.items()}
_KNOWN_RAW = {sha: (ds, fname) for ds, files in RAW_FILES.items()
              for fname, (_, sha) in files.items()}
_RAW_SIZES = {size for files in RAW_FILES.values() for size, _ in files.values()}


# ===================================================================== Dataset
@dataclass(repr=False)
class Dataset:
    """A classification dataset split into train and test parts.

    ``x_*`` are float arrays, images as ``(N, 1, H, W)`` (NCHW) and feature vectors as
    ``(N, D)``; ``y_*`` are int64 class indices in ``range(n_classes)``. ``split`` says in
    one sentence where the two parts come from; ``test_name`` is ``"test"``, or
    ``"held-out"`` when the test part was carved out of other data (MNIST's test files
    alone). ``mean`` and ``std`` are the normalisation applied (after dividing by
    ``scale``), computed on the training part.

    >>> import dualnum as dn
    >>> ds = dn.data.digits()
    >>> ds.x_train.shape, ds.x_test.shape, ds.x_train.dtype, ds.n_classes
    ((1437, 1, 8, 8), (360, 1, 8, 8), dtype('float32'), 10)
    >>> xb, yb = next(iter(ds.batches(32, seed=0)))
    >>> xb.shape, yb.dtype
    ((32, 1, 8, 8), dtype('int64'))
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    classes: tuple
    split: str
    test_name: str = "test"
    source: str | None = None
    scale: float = 1.0
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @property
    def input_shape(self):
        """The shape of one example, e.g. ``(1, 28, 28)`` or ``(2,)``."""
        return tuple(self.x_train.shape[1:])

    @property
    def is_image(self):
        """Whether examples are ``(C, H, W)`` images."""
        return len(self.input_shape) == 3

    def batches(self, batch_size, seed=0, *, shuffle=True, drop_last=True):
        """Mini-batches of the training part: a :class:`Loader` (seeded, resumable)."""
        return Loader(self.x_train, self.y_train, batch_size, seed, shuffle=shuffle,
                      drop_last=drop_last)

    def __repr__(self):
        return (f"Dataset({self.name!r}, train={len(self.y_train)}, "
                f"{self.test_name}={len(self.y_test)}, input_shape={self.input_shape}, "
                f"n_classes={self.n_classes})")


# ===================================================================== helpers
def _check_normalize(normalize):
    if normalize is None:
        return "none"
    if normalize not in NORMALIZE:
        raise DataError(f"unknown normalize={normalize!r}; choose from {list(NORMALIZE)}")
    return normalize


def _float_dtype(dtype):
    dt = np.dtype(dtype)
    if dt.kind != "f" or dt.itemsize < 4:
        raise DataError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _finish(name, x_train, y_train, x_test, y_test, *, n_classes, classes, split, scale,
            dtype, normalize, stats, test_name="test", source=None):
    """Scale, normalise and package the arrays."""
    dtype = _float_dtype(dtype)
    normalize = _check_normalize(normalize)
    xtr = np.asarray(x_train, np.float64) / scale
    xte = np.asarray(x_test, np.float64) / scale
    if stats is not None:
        mean, std = (np.asarray(s, np.float64) for s in stats)
    elif normalize == "standard":
        if xtr.ndim > 2:   # images: one mean and std over all pixels
            mean, std = np.array(xtr.mean()), np.array(xtr.std())
        else:              # feature vectors: per feature
            mean, std = xtr.mean(axis=0), xtr.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    else:
        mean = std = None
    if mean is not None:
        xtr, xte = (xtr - mean) / std, (xte - mean) / std
    return Dataset(name, xtr.astype(dtype), np.asarray(y_train, np.int64),
                   xte.astype(dtype), np.asarray(y_test, np.int64), n_classes, tuple(classes),
                   split, test_name, source, float(scale),
                   None if mean is None else mean.astype(dtype),
                   None if std is None else std.astype(dtype))


def _split(n, n_test, seed=SPLIT_SEED):
    """(train indices, test indices) of a seeded permutation, each sorted."""
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def cache_dir():
    """The per-user cache directory where downloads go by default (see
    :func:`dualnum._paths.cache_dir`)."""
    return _paths.cache_dir()


def search_dirs(data_dir=None):
    """The directories searched for dataset files, in order: ``data_dir`` (which must
    exist), then ``$DUALNUM_DATA``, then :func:`cache_dir`, as ``(path, label)`` pairs."""
    roots = []
    if data_dir is not None:
        p = Path(os.fspath(data_dir)).expanduser()
        if not p.exists():
            raise DataNotFoundError(f"data directory {p} does not exist")
        if not p.is_dir():
            raise DataNotFoundError(f"data directory {p} is not a directory")
        roots.append((p, "--data-dir"))
    env = os.environ.get(DATA_ENV)
    if env:
        roots.append((Path(env).expanduser(), f"${DATA_ENV}"))
    roots.append((cache_dir(), "the cache"))
    return roots


# ===================================================================== digits
def digits(*, dtype=np.float32, normalize="standard", stats=None, test_size=360):
    """The 1,797 8×8 handwritten digits bundled with scikit-learn (no download), split
    with the fixed seed :data:`SPLIT_SEED` into 1,437 training and 360 test images.

    Pixels (0..16) are divided by 16, then standardised with the training split's mean
    and std (``normalize="unit"`` stops after the division, ``"none"`` keeps 0..16).
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images[:, None, :, :]
    y = bunch.target
    n = len(y)
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Integral) \
            or not 0 < test_size < n:
        raise DataError(f"test_size must be an integer in 1..{n - 1}, got {test_size!r}")
    tr, te = _split(n, int(test_size))
    return _finish("digits", x[tr], y[tr], x[te], y[te], n_classes=10,
                   classes=[str(i) for i in range(10)],
                   split=f"scikit-learn's digits: {len(tr):,} training and {len(te):,} test "
                         f"images (fixed split, seed {SPLIT_SEED})",
                   scale=1.0 if normalize == "none" else 16.0, dtype=dtype,
                   normalize=normalize, stats=stats, source="sklearn.datasets.load_digits")


# ===================================================================== MNIST-style sets
def _find(directory, stem):
    """The first of the names ``stem`` may have that is present in ``directory`` (a
    directory or a broken link there is found too, so that reading it says what is
    wrong instead of the file seeming absent)."""
    for fname in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz",
                  stem.replace("-idx", ".idx")):
        p = directory / fname
        if os.path.lexists(p):
            return p
    return None


def _candidates(root, name):
    return [root / name, root / _TORCHVISION[name] / "raw", root]


def _locate(name, roots):
    """(directory, {key: path}, complete?) of the first directory holding a usable set
    (all four files, or the two test files), and notes on incomplete directories."""
    notes = []
    for root, _ in roots:
        for d in _candidates(root, name):
            if not d.is_dir():
                continue
            found = {k: _find(d, stem) for k, stem in _STEMS.items()}
            have = [k for k, p in found.items() if p is not None]
            if len(have) == 4:
                return d, found, True, notes
            if found["test_images"] and found["test_labels"]:
                return d, found, False, notes
            if have:
                missing = [_STEMS[k] for k in found if found[k] is None]
                notes.append(f"{d} lacks {', '.join(missing)}")
    return None, None, None, notes


def _identify(path):
    """(dataset, published file name) when ``path`` is, byte for byte, a published file
    (as downloaded, or unpacked), else None."""
    try:
        if path.suffix == ".gz":
            return _KNOWN.get(sha256_of(path))
        if path.stat().st_size in _RAW_SIZES:  # hash only what could match
            return _KNOWN_RAW.get(sha256_of(path))
    except OSError:  # reading it will say what is wrong
        pass
    return None


def _check_identity(name, files):
    """Refuse files that are, byte for byte, another dataset's published files."""
    for path in files.values():
        if path is None:
            continue
        known = _identify(path)
        if known is not None and known[0] != name:
            raise DataError(f"{path} is {_TITLES[known[0]]}'s {known[1]}, not "
                            f"{_TITLES[name]}'s; keep each dataset in its own directory "
                            f"(e.g. {path.parent / name})")


def _read_pair(images_path, labels_path, n_classes):
    images = read_idx(images_path, ndim=3, dtype=np.uint8)
    labels = read_idx(labels_path, ndim=1, dtype=np.uint8)
    n, h, w = images.shape
    if n == 0:
        raise DataError(f"{images_path} holds no images (its header declares shape "
                        f"{images.shape}); replace it with the dataset's file")
    if h == 0 or w == 0:
        raise DataError(f"{images_path} holds images of {h}×{w} pixels; an image needs at "
                        f"least one pixel: replace it with the dataset's file")
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{images_path} has {images.shape[0]:,} images but {labels_path} has "
                        f"{labels.shape[0]:,} labels")
    if labels.size and labels.max() >= n_classes:
        i = int(np.argmax(labels >= n_classes))
        raise DataError(f"{labels_path} has label {int(labels[i])} at index {i}: labels out "
                        f"of range (this dataset has classes 0..{n_classes - 1})")
    return images, labels


def _idx_dataset(name, data_dir, *, download_missing, mirrors, dtype, normalize, stats, log,
                 test_files_only=False):
    title = _TITLES[name]
    roots = search_dirs(data_dir)
    d, files, complete, notes = _locate(name, roots)
    if d is None:
        target = roots[0][0] / name
        where = " or ".join(f"{r / name} ({label})" for r, label in roots)
        put = (f"Put {', '.join(s + '.gz' for s in _STEMS.values())} (gzipped or raw) in "
               f"{where}, or pass {argument('data_dir=DIR')} naming where they are; the two "
               f"t10k-* files alone also work (80% train / 20% held out)")
        extra = f" ({'; '.join(notes)})" if notes else ""
        if not download_missing:
            raise DownloadError(f"{title} was not found{extra} and downloading is off "
                                f"({argument('download=False')}). {put}")
        if log is not None:
            log(f"{title} not found on disk{extra}; downloading to {target}")
        try:
            download(name, target, mirrors=mirrors, log=log)
        except DownloadError as e:
            if e.unwritable:
                raise DownloadError(f"{title} is not on this machine and could not be "
                                    f"downloaded: {e}. Pass {argument('data_dir=DIR')} "
                                    f"naming a writable directory (the files go to "
                                    f"DIR/{name}/), or set ${DATA_ENV} or "
                                    f"$DUALNUM_CACHE_DIR to one") from None
            why = "offline: no mirror could be reached" if e.offline else str(e)
            raise DownloadError(f"{title} is not on this machine and could not be downloaded "
                                f"({why}). {put}") from None
        d, files, complete, _ = _locate(name, [(target, "download")])
    _check_identity(name, files)
    n_classes = 10
    xte, yte = _read_pair(files["test_images"], files["test_labels"], n_classes)
    if complete and not test_files_only:
        xtr, ytr = _read_pair(files["train_images"], files["train_labels"], n_classes)
        if xtr.shape[1:] != xte.shape[1:]:
            raise DataError(f"{files['train_images']} holds {xtr.shape[1:]} images but "
                            f"{files['test_images']} holds {xte.shape[1:]} images")
        split = (f"{title}'s standard split: {len(ytr):,} training images (train-*) and "
                 f"{len(yte):,} test images (t10k-*) from {d}")
        test_name = "test"
    else:
        n = len(yte)
        if n < 2:
            raise DataError(f"{files['test_images']} holds {n} image(s); too few to split")
        n_train = min(max(int(round(TEST_ONLY_TRAIN_FRACTION * n)), 1), n - 1)
        tr, te = _split(n, n - n_train)
        xtr, ytr, xte, yte = xte[tr], yte[tr], xte[te], yte[te]
        which = (f"{title}'s test files (t10k-*) alone were used" if complete else
                 f"only {title}'s test files (t10k-*) were found")
        split = (f"{which}, in {d}: {len(ytr):,} of "
                 f"their {n:,} images train the model and the other {len(yte):,} (fixed "
                 f"split, seed {SPLIT_SEED}) are held out to test it; this is not "
                 f"{title}'s official train/test split")
        test_name = "held-out"
    return _finish(name, xtr[:, None], ytr, xte[:, None], yte, n_classes=n_classes,
                   classes=_CLASSES[name], split=split, test_name=test_name, source=str(d),
                   scale=1.0 if normalize == "none" else 255.0, dtype=dtype,
                   normalize=normalize, stats=stats)


def mnist(data_dir=None, *, download=True, mirrors=None, dtype=np.float32,
          normalize="standard", stats=None, log=None, test_files_only=False):
    """MNIST from IDX files (gzipped or raw), looked for in ``data_dir``, then
    ``$DUALNUM_DATA``, then :func:`cache_dir` (in each, in ``<dir>/mnist/``,
    ``<dir>/MNIST/raw/`` (torchvision's layout), then ``<dir>/`` itself), and
    otherwise downloaded (``download=True``) from the public mirrors, SHA-256 verified,
    into ``<first of those dirs>/mnist/``.

    When a directory holds only the two test files (``t10k-*``), 80% of those images
    (8,000 of 10,000) form the training part and the rest is held out (fixed seed), and
    ``split`` and ``test_name`` say so; ``test_files_only=True`` splits the test files so
    even where the training files are there (to evaluate a model trained that way on
    the images it did not see). Pixels are divided by 255 and standardised with the
    training part's mean and std. ``log`` (a callable) receives progress messages.
    """
    return _idx_dataset("mnist", data_dir, download_missing=download, mirrors=mirrors,
                        dtype=dtype, normalize=normalize, stats=stats, log=log,
                        test_files_only=test_files_only)


def fashion_mnist(data_dir=None, *, download=True, mirrors=None, dtype=np.float32,
                  normalize="standard", stats=None, log=None, test_files_only=False):
    """Fashion-MNIST (Zalando), exactly as :func:`mnist` but in ``fashion-mnist/`` (or
    ``FashionMNIST/raw/``) directories. Files that are MNIST's are refused."""
    return _idx_dataset("fashion-mnist", data_dir, download_missing=download,
                        mirrors=mirrors, dtype=dtype, normalize=normalize, stats=stats,
                        log=log, test_files_only=test_files_only)


# ===================================================================== synthetic
def _check_sizes(n_train, n_test):
    for v, what in ((n_train, "n_train"), (n_test, "n_test")):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise DataError(f"{what} must be a positive integer, got {v!r}")
    return int(n_train), int(n_test)


def spirals(n_train=1000, n_test=1000, *, noise=0.05, turns=1.5, seed=0, dtype=np.float32,
            normalize="standard", stats=None):
    """Two interleaved spirals in the plane (class 0 and 1), a classic that a linear model
    cannot separate. Radii grow from 0 to 1 over ``turns`` turns; ``noise`` is the std of
    Gaussian jitter. Train and test points are drawn together from ``seed``.

    >>> import dualnum as dn
    >>> ds = dn.data.spirals(100, 50)
    >>> ds.x_train.shape, sorted(set(ds.y_test.tolist()))
    ((100, 2), [0, 1])
    """
    n_train, n_test = _check_sizes(n_train, n_test)
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    y = rng.permutation(np.arange(n) % 2)
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * turns * 2 * math.pi
    r = t / (turns * 2 * math.pi)
    angle = t + math.pi * y
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    x += noise * rng.standard_normal(x.shape)
    return _finish("spirals", x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                   n_classes=2, classes=["arm 0", "arm 1"],
                   split=f"two spirals: {n_train:,} training and {n_test:,} test points "
                         f"(seed {seed})", scale=1.0, dtype=dtype, normalize=normalize,
                   stats=stats, source="synthetic")


def blobs(n_train=1000, n_test=1000, *, centers=3, n_features=2, std=1.0, radius=4.0,
          seed=0, dtype=np.float32, normalize="standard", stats=None):
    """Gaussian blobs: ``centers`` classes, each an isotropic Gaussian with ``std`` around
    a center spaced evenly on a circle of ``radius`` in the first two coordinates (the
    other ``n_features - 2`` coordinates are pure noise). Drawn from ``seed``.

    >>> import dualnum as dn
    >>> ds = dn.data.blobs(90, 30, centers=3)
    >>> ds.n_classes, ds.input_shape
    (3, (2,))
    """
    n_train, n_test = _check_sizes(n_train, n_test)
    for v, what in ((centers, "centers"), (n_features, "n_features")):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise DataError(f"{what} must be a positive integer, got {v!r}")
    if centers < 2:
        raise DataError(f"centers must be at least 2 (classes), got {centers}")
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    y = rng.permutation(np.arange(n) % centers)
    mu = np.zeros((centers, n_features))
    ang = 2 * math.pi * np.arange(centers) / centers
    mu[:, 0] = radius * np.cos(ang)
    if n_features > 1:
        mu[:, 1] = radius * np.sin(ang)
    x = mu[y] + std * rng.standard_normal((n, n_features))
    return _finish("blobs", x[:n_train], y[:n_train], x[n_train:], y[n_train:],
                   n_classes=int(centers), classes=[f"blob {i}" for i in range(centers)],
                   split=f"Gaussian blobs: {n_train:,} training and {n_test:,} test points "
                         f"(seed {seed})", scale=1.0, dtype=dtype, normalize=normalize,
                   stats=stats, source="synthetic")


# ===================================================================== dispatch
def load(name, data_dir=None, *, download=True, mirrors=None, dtype=np.float32,
         normalize="standard", stats=None, log=None, test_files_only=False):
    """The dataset called ``name`` (one of :data:`DATASETS`) with its defaults.

    ``data_dir``, ``download``, ``mirrors``, ``log`` and ``test_files_only`` apply to the
    file-based sets (MNIST, Fashion-MNIST) and are ignored by the others.
    ``stats=(mean, std)`` applies a given normalisation instead of the training part's own
    (to evaluate a saved model).

    >>> import dualnum as dn
    >>> dn.data.load("blobs").name
    'blobs'
    >>> dn.data.load("cifar")
    Traceback (most recent call last):
    ...
    dualnum.data.errors.DataError: unknown dataset 'cifar'; choose from digits, mnist, fashion-mnist, spirals, blobs
    """
    common = dict(dtype=dtype, normalize=normalize, stats=stats)
    if name == "digits":
        return digits(**common)
    if name in ("mnist", "fashion-mnist"):
        f = mnist if name == "mnist" else fashion_mnist
        return f(data_dir, download=download, mirrors=mirrors, log=log,
                 test_files_only=test_files_only, **common)
    if name == "spirals":
        return spirals(**common)
    if name == "blobs":
        return blobs(**common)
    raise DataError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
