"""Hostile files built cheaply (a few MB on disk, gigabytes when inflated), and a way to
measure a child process's peak memory."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import numpy as np

_BLOCK = 1 << 24  # 16 MiB of zeros per repeated deflate block


def gzip_bomb(path, header, total):
    """A valid gzip file whose contents are ``header`` followed by zeros, ``total`` bytes
    in all (a multiple of 16 MiB after the header is rounded down), with a correct CRC.

    Deflate blocks ending in a full flush do not refer back past themselves, so one
    compressed block of zeros can be repeated to build any length in a few MB."""
    n = (total - len(header)) // _BLOCK
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(header) + co.flush(zlib.Z_FULL_FLUSH)
    zeros = co.compress(bytes(_BLOCK)) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(header)
    block = bytes(_BLOCK)
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    size = len(header) + n * _BLOCK
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        f.write(first)
        for _ in range(n):
            f.write(zeros)
        f.write(tail)
        f.write(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    return size


def npy_header(shape, dtype="<f4"):
    """The bytes of a version-1.0 .npy header declaring ``shape`` and ``dtype``."""
    text = repr({"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    pad = 64 - (10 + len(text) + 1) % 64
    body = (text + " " * pad + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body


def _npy(value):
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
    return buf.getvalue()


def checkpoint_with_member(path, name, shape, *, config=None):
    """A checkpoint (.npz) with a member ``name`` holding float32 zeros of ``shape``: a
    valid zip (ZIP64, correct sizes and CRC) of a few MB that inflates to the whole array.
    Repeated deflate blocks of zeros build it without compressing gigabytes."""
    header = npy_header(shape)
    nbytes = int(np.prod(shape, dtype=object)) * 4
    n, rest = divmod(nbytes, _BLOCK)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = co.compress(bytes(_BLOCK)) + co.flush(zlib.Z_FULL_FLUSH)
    parts = [co.compress(header) + co.flush(zlib.Z_FULL_FLUSH)] + [zeros] * n
    parts.append(co.compress(bytes(rest)) + co.flush(zlib.Z_FINISH))
    crc = zlib.crc32(header)
    block = bytes(_BLOCK)
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(bytes(rest), crc)
    small = {"format": np.array("dualnum-checkpoint-1"), "step": np.array(3, np.int64),
             "config": np.array(json.dumps(config or {"data": "digits", "model": "logreg"}))}
    members = [(f"{k}.npy", [_npy(v)], 0, None, None) for k, v in small.items()]
    members.append((f"{name}.npy", parts, zipfile.ZIP_DEFLATED, len(header) + nbytes, crc))
    _write_zip64(path, members)


def _write_zip64(path, members):
    """A zip with every entry in ZIP64 form: ``members`` are (name, chunks, method,
    uncompressed size or None for stored data, crc or None)."""
    with open(path, "wb") as out:
        records = []
        for name, chunks, method, size, crc in members:
            csize = sum(len(c) for c in chunks)
            if method == 0:
                data = b"".join(chunks)
                size, crc = len(data), zlib.crc32(data)
            offset = out.tell()
            fname = name.encode()
            extra = struct.pack("<HHQQ", 1, 16, size, csize)
            out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 45, 0, method, 0, 0, crc,
                                  0xFFFFFFFF, 0xFFFFFFFF, len(fname), len(extra)))
            out.write(fname + extra)
            for c in chunks:
                out.write(c)
            records.append((fname, method, crc, size, csize, offset))
        start = out.tell()
        for fname, method, crc, size, csize, offset in records:
            extra = struct.pack("<HHQQQ", 1, 24, size, csize, offset)
            out.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 45, 45, 0, method, 0, 0,
                                  crc, 0xFFFFFFFF, 0xFFFFFFFF, len(fname), len(extra), 0, 0,
                                  0, 0, 0xFFFFFFFF))
            out.write(fname + extra)
        end = out.tell()
        out.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, len(records),
                              len(records), end - start, start))
        out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1))
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                              0xFFFFFFFF, 0))


def peak_rss(code, *, cwd=None, env=None, timeout=300):
    """Run ``code`` in a fresh Python; returns (peak RSS in bytes, its result).
    ``code`` leaves its result (JSON-able) in a variable called ``result``.

    The peak is Linux's VmHWM of the child's own address space: getrusage's ru_maxrss
    would also count the pages of the (large) test process it was forked from."""
    wrapper = textwrap.dedent("""
        import json, resource, sys
        result = None
        {code}
        try:
            with open("/proc/self/status") as f:
                kb = next(int(s.split()[1]) for s in f if s.startswith("VmHWM:"))
        except (OSError, StopIteration):
            kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"peak": kb * 1024, "result": result}}))
    """).format(code=textwrap.dedent(code).strip())
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                         timeout=timeout, cwd=cwd, env=env)
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    return rec["peak"], rec["result"]
