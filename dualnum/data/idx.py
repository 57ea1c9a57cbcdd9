"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST, gzipped or raw.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim``
big-endian uint32 dimensions, then the array's bytes in C order (big-endian).

>>> import os, tempfile, numpy as np, dualnum as dn
>>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
>>> dn.data.write_idx(path, np.array([3, 1, 4], np.uint8))
>>> dn.data.read_idx(path)
array([3, 1, 4], dtype=uint8)
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from .errors import DataNotFoundError, IDXFormatError

__all__ = ["read_idx", "write_idx", "IDX_TYPES"]

#: IDX type code -> big-endian NumPy dtype.
IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path):
    """The file's (decompressed) contents."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataNotFoundError(f"IDX file {path} does not exist") from None
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise IDXFormatError(f"{path} is truncated: its gzip stream ends early "
                             f"(an interrupted download?); delete it and fetch it again",
                             path) from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        raise IDXFormatError(f"{path} is not valid gzip data ({e}); delete it and fetch it "
                             f"again", path) from None


def read_idx(path, *, ndim=None, dtype=None):
    """The array stored in the IDX file ``path`` (gzip-compressed or raw, detected from
    the contents), in native byte order.

    ``ndim`` and ``dtype``, when given, are what the caller expects; anything else raises
    :class:`~dualnum.data.IDXFormatError`, as do a bad magic number, a file shorter than
    its header promises (truncated) and trailing bytes.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(f"{path} is truncated: {len(data)} bytes, shorter than an IDX "
                             f"header", path)
    magic = int.from_bytes(data[:4], "big")
    code, nd = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in IDX_TYPES or nd == 0:
        raise IDXFormatError(f"{path} is not an IDX file: bad magic number 0x{magic:08X} "
                             f"(expected 0x0000TTNN: type code TT in "
                             f"{{{', '.join(f'{c:02X}' for c in IDX_TYPES)}}}, NN dimensions)",
                             path)
    head = 4 + 4 * nd
    if len(data) < head:
        raise IDXFormatError(f"{path} is truncated inside its header ({len(data)} of {head} "
                             f"bytes)", path)
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd))
    dt = IDX_TYPES[code]
    want = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    have = len(data) - head
    if have < want:
        raise IDXFormatError(f"{path} is truncated: its header promises shape {shape} "
                             f"({want} bytes of data) but only {have} bytes follow", path)
    if have > want:
        raise IDXFormatError(f"{path} has {have - want} bytes after the {want} bytes its "
                             f"header (shape {shape}) describes", path)
    if ndim is not None and nd != ndim:
        raise IDXFormatError(f"{path} holds a {nd}-D array of shape {shape}; a {ndim}-D array "
                             f"was expected (images are 3-D, labels 1-D)", path)
    if dtype is not None and dt.newbyteorder("=") != np.dtype(dtype):
        raise IDXFormatError(f"{path} holds {dt.newbyteorder('=')} data; {np.dtype(dtype)} was "
                             f"expected", path)
    arr = np.frombuffer(data, dtype=dt, count=want // dt.itemsize, offset=head)
    return arr.reshape(shape).astype(dt.newbyteorder("="))


def write_idx(path, array, *, compress=None):
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64, at least 1-D) to
    ``path`` as an IDX file, gzip-compressed when ``compress`` is true or, by default,
    when the name ends in ``.gz``. Mostly for tests and small custom datasets."""
    path = os.fspath(path)
    arr = np.asarray(array)
    code = _CODES.get(arr.dtype.newbyteorder("="))
    if code is None or arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"write_idx: cannot store a {arr.ndim}-D {arr.dtype} array in IDX")
    body = bytes([0, 0, code, arr.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in arr.shape) + arr.astype(IDX_TYPES[code]).tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        body = gzip.compress(body, mtime=0)
    with open(path, "wb") as f:
        f.write(body)
