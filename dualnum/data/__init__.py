"""Datasets for training: the embedded 8×8 digits, MNIST and Fashion-MNIST (found on
disk or downloaded), two synthetic sets, and seeded, resumable batching.

>>> import dualnum as dn
>>> ds = dn.data.load("digits")
>>> ds
Dataset('digits', train=1437, test=360, input_shape=(1, 8, 8), n_classes=10)
>>> print(ds.split)
scikit-learn's digits: 1,437 training and 360 test images (fixed split, seed 0)

Every problem raises a :class:`DataError` (a ``ValueError``) with a one-line message;
see :mod:`dualnum.data.errors`.
"""
from .batching import Batches, Loader, batches
from .datasets import (DATA_ENV, DATASETS, SPLIT_SEED, Dataset, blobs, cache_dir, digits,
                       fashion_mnist, load, mnist, search_dirs, spirals)
from .fetch import FILES, MIRRORS, MIRRORS_ENV, download, download_file, sha256_of
from .errors import (ChecksumError, DataError, DataNotFoundError, DownloadError,
                     IDXFormatError)
from .idx import read_idx, write_idx

__all__ = ["Dataset", "Loader", "Batches", "batches", "DATASETS", "DATA_ENV", "SPLIT_SEED",
           "load", "digits", "mnist", "fashion_mnist", "spirals", "blobs", "cache_dir",
           "search_dirs",
           "read_idx", "write_idx", "download", "download_file", "sha256_of", "FILES",
           "MIRRORS", "MIRRORS_ENV", "DataError", "IDXFormatError", "ChecksumError",
           "DownloadError", "DataNotFoundError"]
