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

import errno
import gzip
import math
import os
import stat
import zlib

import numpy as np

from .errors import DataNotFoundError, IDXFormatError

__all__ = ["read_idx", "write_idx", "IDX_TYPES", "MAX_BYTES"]

#: IDX type code -> big-endian NumPy dtype.
IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


#: The most array data :func:`read_idx` accepts by default (bytes, after decompression):
#: five times MNIST's largest file. A header declaring more is refused before anything
#: is decompressed or allocated.
MAX_BYTES = 1 << 28
#: How far past the declared size a gzip stream is decompressed to report trailing bytes.
_MARGIN = 1 << 16


def _open(path):
    """The open file, or a one-line error naming what is there instead of a file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise IDXFormatError(f"{path} is a broken symbolic link (to "
                                 f"{os.readlink(path)}); replace it with the IDX file",
                                 path) from None
        raise DataNotFoundError(f"IDX file {path} does not exist") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise IDXFormatError(f"{path} is a symbolic link loop; replace it with the IDX "
                                 f"file", path) from None
        raise IDXFormatError(f"cannot read {path}: {e.strerror}", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise IDXFormatError(f"{path} is a directory, not an IDX file; put the IDX file "
                             f"itself (gzipped or raw) under that name", path)
    if not stat.S_ISREG(st.st_mode):
        raise IDXFormatError(f"{path} is not a regular file; put the IDX file itself "
                             f"(gzipped or raw) under that name", path)
    try:
        return open(path, "rb")
    except OSError as e:
        raise IDXFormatError(f"cannot read {path}: {e.strerror}", path) from None


def _read_into(stream, buf, path):
    """Fill ``buf`` from ``stream``; returns the number of bytes read."""
    view = memoryview(buf).cast("B")
    got = 0
    try:
        while got < len(view):
            n = stream.readinto(view[got:])
            if not n:
                break
            got += n
    except EOFError:
        raise IDXFormatError(f"{path} is truncated: its gzip stream ends early (an "
                             f"interrupted download?); delete it and fetch it again",
                             path) from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise IDXFormatError(f"{path} is not valid gzip data ({e}); delete it and fetch it "
                             f"again", path) from None
    except OSError as e:
        raise IDXFormatError(f"cannot read {path}: {e.strerror or e}", path) from None
    return got


def _read(stream, n, path):
    buf = bytearray(n)
    return bytes(buf[:_read_into(stream, buf, path)])


def read_idx(path, *, ndim=None, dtype=None, max_bytes=MAX_BYTES):
    """The array stored in the IDX file ``path`` (gzip-compressed or raw, detected from
    the contents), in native byte order.

    ``ndim`` and ``dtype``, when given, are what the caller expects; anything else raises
    :class:`~dualnum.data.IDXFormatError`, as do a bad magic number, a file shorter than
    its header promises (truncated), trailing bytes, and a header declaring more than
    ``max_bytes`` bytes of data. Memory is bounded by what the header declares: a gzip
    stream is decompressed only that far (plus a small margin to report trailing bytes),
    never inflated whole.
    """
    path = os.fspath(path)
    with _open(path) as f:
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        stream = gzip.GzipFile(fileobj=f, mode="rb") if compressed else f
        head = _read(stream, 4, path)
        if len(head) < 4:
            raise IDXFormatError(f"{path} is truncated: {len(head)} bytes, shorter than an "
                                 f"IDX header", path)
        magic = int.from_bytes(head, "big")
        code, nd = head[2], head[3]
        if head[0] != 0 or head[1] != 0 or code not in IDX_TYPES or nd == 0:
            raise IDXFormatError(f"{path} is not an IDX file: bad magic number "
                                 f"0x{magic:08X} (expected 0x0000TTNN: type code TT in "
                                 f"{{{', '.join(f'{c:02X}' for c in IDX_TYPES)}}}, NN "
                                 f"dimensions)", path)
        dims = _read(stream, 4 * nd, path)
        if len(dims) < 4 * nd:
            raise IDXFormatError(f"{path} is truncated inside its header ({4 + len(dims)} "
                                 f"of {4 + 4 * nd} bytes)", path)
        shape = tuple(int.from_bytes(dims[4 * i:4 * i + 4], "big") for i in range(nd))
        dt = IDX_TYPES[code]
        if ndim is not None and nd != ndim:
            raise IDXFormatError(f"{path} holds a {nd}-D array of shape {shape}; a {ndim}-D "
                                 f"array was expected (images are 3-D, labels 1-D)", path)
        if dtype is not None and dt.newbyteorder("=") != np.dtype(dtype):
            raise IDXFormatError(f"{path} holds {dt.newbyteorder('=')} data; "
                                 f"{np.dtype(dtype)} was expected", path)
        want = math.prod(shape) * dt.itemsize  # Python ints: no overflow
        if want > max_bytes:
            raise IDXFormatError(f"{path} declares shape {shape}, {want:,} bytes of data, "
                                 f"more than the {max_bytes:,} accepted (read_idx(..., "
                                 f"max_bytes=)); it is not an MNIST-style file", path)
        if not compressed:  # the file's size says it all before anything is read
            have = os.fstat(f.fileno()).st_size - 4 - 4 * nd
            if have != want:
                _size_error(path, shape, want, have)
        data = np.empty(want, np.uint8)
        have = _read_into(stream, data, path)
        if have < want:
            _size_error(path, shape, want, have)
        more = len(_read(stream, _MARGIN, path))
        if more:
            _size_error(path, shape, want, want + more, capped=more == _MARGIN)
    return data.view(dt).reshape(shape).astype(dt.newbyteorder("="))


def _size_error(path, shape, want, have, capped=False):
    if have < want:
        raise IDXFormatError(f"{path} is truncated: its header promises shape {shape} "
                             f"({want:,} bytes of data) but only {have:,} bytes follow",
                             path)
    extra = f"at least {have - want:,}" if capped else f"{have - want:,}"
    raise IDXFormatError(f"{path} has {extra} bytes after the {want:,} bytes its header "
                         f"(shape {shape}) describes; delete it and fetch it again", path)


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
