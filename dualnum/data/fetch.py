"""Downloading dataset files: SHA-256 verified, written atomically, retried over mirrors.

A file is streamed into a temporary file next to its destination while its SHA-256 is
computed; only a complete file with the published checksum is renamed into place
(``os.replace``, atomic on one file system), so an interrupted or corrupt download never
leaves a half file under the real name. Each round tries every mirror in order; failed
rounds are retried after a pause.

``DUALNUM_MIRRORS`` (base URLs separated by commas or spaces) replaces the built-in mirror
lists, e.g. to use a local copy, a proxy, or a test server.
"""
from __future__ import annotations

import errno
import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request

from .errors import ChecksumError, DownloadError

__all__ = ["MIRRORS", "FILES", "MIRRORS_ENV", "download_file", "download", "mirrors_for",
           "sha256_of"]

#: Environment variable with base URLs that replace the built-in mirrors.
MIRRORS_ENV = "DUALNUM_MIRRORS"

#: Base URLs, tried in order, for each downloadable dataset.
MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
}

#: The published files and their SHA-256 sums.
FILES = {
    "mnist": {
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz":
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz":
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz":
            "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        "train-labels-idx1-ubyte.gz":
            "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        "t10k-images-idx3-ubyte.gz":
            "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        "t10k-labels-idx1-ubyte.gz":
            "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
}

#: The published files' contents after decompression, as ``{file name: (size, sha256)}``,
#: to recognise copies that were unpacked. (Only MNIST's are known here.)
RAW_FILES = {
    "mnist": {
        "train-images-idx3-ubyte":
            (47_040_016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels-idx1-ubyte":
            (60_008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "t10k-images-idx3-ubyte":
            (7_840_016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte":
            (10_008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
}

_CHUNK = 1 << 16


def sha256_of(path):
    """The hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def mirrors_for(name, mirrors=None):
    """The base URLs to try for dataset ``name``: ``mirrors`` if given, else those in
    ``$DUALNUM_MIRRORS``, else the built-in list."""
    if mirrors is None:
        env = os.environ.get(MIRRORS_ENV, "").replace(",", " ").split()
        mirrors = env or MIRRORS.get(name, ())
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    return [m if m.endswith("/") else m + "/" for m in mirrors]


class _Truncated(Exception):
    pass


class _LocalWrite(Exception):
    """Writing the downloaded bytes failed on this machine (not the network's fault)."""


class _Mismatch(Exception):
    def __init__(self, actual):
        super().__init__(actual)
        self.actual = actual


def _offline(exc):
    """Whether ``exc`` means the network (or the host) cannot be reached at all."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) and not isinstance(
        exc, urllib.error.HTTPError) else exc
    if isinstance(reason, (socket.gaierror, ConnectionRefusedError)):
        return True
    return isinstance(reason, OSError) and reason.errno in (
        errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL)


def _fetch(url, tmp, expected, timeout):
    """Stream ``url`` into the open file ``tmp``, checking length and checksum."""
    from .. import __version__

    req = urllib.request.Request(url, headers={"User-Agent": f"dualnum/{__version__}"})
    h = hashlib.sha256()
    got = 0
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        try:
            while True:
                block = resp.read(_CHUNK)
                if not block:
                    break
                try:
                    tmp.write(block)
                except OSError as e:
                    raise _LocalWrite(e) from None
                h.update(block)
                got += len(block)
        except http.client.IncompleteRead as e:
            raise _Truncated(f"connection closed after {got + len(e.partial)} of "
                             f"{length if length is not None else '?'} bytes") from None
    if length is not None and got != length:
        raise _Truncated(f"connection closed after {got} of {length} bytes")
    actual = h.hexdigest()
    if expected is not None and actual != expected.lower():
        raise _Mismatch(actual)
    return got


def download_file(urls, dest, sha256, *, retries=3, timeout=30.0, backoff=1.0, log=None):
    """Download the first of ``urls`` that delivers a file with SHA-256 ``sha256`` to
    ``dest`` (atomically) and return ``dest``.

    Up to ``retries`` rounds over the ``urls``, sleeping ``backoff * 2**round`` seconds
    between rounds. Only transient failures are retried: a mirror that served a file with
    another checksum, or answered 4xx, is not asked again, and when no host could be
    reached at all there is one round only.

    Raises :class:`~dualnum.data.ChecksumError` when some mirror served a file with
    another checksum and none served the right one, and
    :class:`~dualnum.data.DownloadError` otherwise (its ``offline`` attribute is true when
    no host could be reached at all).
    """
    dest = os.fspath(dest)
    if isinstance(urls, str):
        urls = [urls]
    if not urls:
        raise DownloadError(f"no URL to download {os.path.basename(dest)} from")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 1:
        raise ValueError(f"retries must be a positive integer, got {retries!r}")
    directory = os.path.dirname(os.path.abspath(dest))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise _unwritable(directory, e) from None
    failures = []          # (url, message)
    mismatch = None        # (url, actual sha)
    all_offline = True
    active = list(urls)    # mirrors still worth trying
    for attempt in range(retries):
        if attempt:
            if all_offline or not active:  # nothing transient to retry
                break
            time.sleep(backoff * 2 ** (attempt - 1))
        for url in list(active):
            try:
                fd, tmp = tempfile.mkstemp(dir=directory,
                                           prefix=f".{os.path.basename(dest)}.", suffix=".part")
            except OSError as e:
                raise _unwritable(directory, e) from None
            try:
                with os.fdopen(fd, "wb") as f:
                    size = _fetch(url, f, sha256, timeout)
                    try:
                        f.flush()
                        os.fsync(f.fileno())
                    except OSError as e:
                        raise _LocalWrite(e) from None
                os.replace(tmp, dest)
                if log is not None:
                    log(f"downloaded {url} ({size:,} bytes, sha256 verified)")
                return dest
            except _Mismatch as e:  # the mirror serves another file: do not ask again
                all_offline = False
                active.remove(url)
                mismatch = (url, e.actual)
                failures.append((url, f"sha256 {e.actual} is not the published {sha256}"))
            except _LocalWrite as e:
                raise _unwritable(directory, e.args[0]) from None
            except _Truncated as e:
                all_offline = False
                failures.append((url, f"download cut off: {e}"))
            except urllib.error.HTTPError as e:
                all_offline = False
                if 400 <= e.code < 500:  # not there (404), forbidden (403): permanent
                    active.remove(url)
                failures.append((url, f"HTTP {e.code} {e.reason}"))
            except (urllib.error.URLError, http.client.HTTPException, OSError,
                    ValueError) as e:
                all_offline = all_offline and _offline(e)
                failures.append((url, f"{type(e).__name__}: {e}"))
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            if log is not None:
                log(f"failed: {failures[-1][0]}: {failures[-1][1]}")
    name = os.path.basename(dest)
    if mismatch is not None:
        url, actual = mismatch
        raise ChecksumError(f"checksum mismatch for {name} from {url}: sha256 {actual}, "
                            f"expected {sha256}; the file was discarded",
                            url=url, expected=sha256, actual=actual)
    last_url, last = failures[-1]
    err = DownloadError(f"could not download {name} ({len(failures)} attempts; last: "
                        f"{last_url}: {last})")
    err.offline = all_offline
    err.failures = failures
    raise err


def _unwritable(directory, err):
    e = DownloadError(f"cannot write to {directory}: {err.strerror or err}; nothing was "
                      f"kept there")
    e.unwritable = True
    return e


def download(name, directory, *, files=None, mirrors=None, retries=3, timeout=30.0,
             backoff=1.0, log=None):
    """Download dataset ``name``'s files (``files``: ``{file name: sha256}``, by default
    the published ones in :data:`FILES`) into ``directory``, skipping files already there
    with the right checksum. Returns ``directory``."""
    if files is None:
        try:
            files = FILES[name]
        except KeyError:
            raise DownloadError(f"no download source is known for dataset {name!r}") from None
    bases = mirrors_for(name, mirrors)
    for fname, sha in files.items():
        dest = os.path.join(directory, fname)
        if os.path.exists(dest) and (sha is None or sha256_of(dest) == sha):
            continue
        download_file([b + fname for b in bases], dest, sha, retries=retries,
                      timeout=timeout, backoff=backoff, log=log)
    return directory
