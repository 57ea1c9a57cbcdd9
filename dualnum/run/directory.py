"""A run directory: claimed by one process at a time, and never losing a finished run.

* **One run at a time.** A run holds an exclusive lock (``fcntl.flock``) on the file
  ``.dualnum.lock`` in its directory, which records its pid. A second run there is
  refused with one line naming the directory and that pid. The lock goes with the
  process, however it ends (``kill -9`` included); the file stays, harmless.
* **Default directories count up.** Without an explicit directory a new run takes
  ``runs/NAME``, or if that exists the next of ``runs/NAME-2``, ``runs/NAME-3``, ...
  after the highest there (created atomically, so two runs started together never share
  one), and a resumed run takes the highest-numbered one that holds a checkpoint.
* **Nothing is replaced before the new run has its own.** A new run in a directory that
  holds an earlier one writes its metrics to a temporary file; the earlier run's files
  stay until the new run saves its first checkpoint, and are then replaced (each by an
  atomic rename). A new run that fails before that leaves the earlier one intact.
* **Stale temporary files** (``.checkpoint.npz.*.tmp`` and the like, left by a process
  killed while writing) are removed when the next run takes the directory.
"""
from __future__ import annotations

import errno
import os
import re
import time
from pathlib import Path

from .._files import atomic_write

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not protected from each other
    fcntl = None

__all__ = ["RunDirectory", "RunDirectoryError", "RunLockedError", "LOCK", "OUTPUTS",
           "FINISHED", "next_free", "latest"]

LOCK = ".dualnum.lock"
#: The files a run writes.
OUTPUTS = ("checkpoint.npz", "metrics.jsonl", "summary.json", "loss.png", "accuracy.png")
#: The files whose presence means a run worth keeping is there.
FINISHED = ("checkpoint.npz", "summary.json")
_STALE = re.compile(r"^\.(?:%s)\.[^/]*\.tmp$" % "|".join(re.escape(n) for n in OUTPUTS))


class RunDirectoryError(ValueError):
    """A run directory cannot be used (one line naming it and what to do)."""


class RunLockedError(RunDirectoryError):
    """Another process holds the run directory. ``pid`` is its process id (or None)."""

    def __init__(self, message, pid=None):
        super().__init__(message)
        self.pid = pid


def _numbered(root, name):
    """(number, path) of the existing ``root/name`` (1), ``root/name-2``, ..., in order."""
    root = Path(root)
    if not root.is_dir():
        return []
    pattern = re.compile(re.escape(name) + r"(?:-([2-9]|[1-9]\d+))?")
    found = []
    for p in root.iterdir():
        m = pattern.fullmatch(p.name)
        if m and p.is_dir():
            found.append((int(m.group(1) or 1), p))
    return sorted(found)


def next_free(root, name):
    """``root/name`` if nothing of the series exists, else the next number after the
    highest (so the highest number is always the newest run)."""
    series = _numbered(root, name)
    n = series[-1][0] + 1 if series else 1
    while _path(root, name, n).exists():  # a file of that name, say
        n += 1
    return _path(root, name, n)


def _path(root, name, n):
    return Path(root) / (name if n == 1 else f"{name}-{n}")


def latest(root, name):
    """The highest-numbered of ``root/name``, ``root/name-2``, ... holding a checkpoint,
    or None."""
    for _, p in reversed(_numbered(root, name)):
        if (p / "checkpoint.npz").is_file():
            return p
    return None


def _os_error(path, e, what):
    why = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        return RunDirectoryError(f"cannot {what} {path}: no space left on the device")
    return RunDirectoryError(f"cannot {what} {path}: {why}")


class RunDirectory:
    """A run's directory, locked for the lifetime of the object (see the module's
    description). Use :meth:`claim` for an explicit directory and :meth:`claim_new` for
    a new numbered one; :meth:`release` ends the claim.

    >>> import tempfile
    >>> from dualnum.run.directory import RunDirectory
    >>> root = tempfile.mkdtemp()
    >>> a = RunDirectory.claim_new(root, "digits-mlp")
    >>> b = RunDirectory.claim_new(root, "digits-mlp")
    >>> a.path.name, b.path.name
    ('digits-mlp', 'digits-mlp-2')
    >>> RunDirectory.claim(a.path)
    Traceback (most recent call last):
    ...
    dualnum.run.directory.RunLockedError: ... is in use by another dualnum run (pid ...); wait for it to end or choose another directory
    >>> a.release(); b.release()
    """

    def __init__(self, path, created=False):
        self.path = Path(path)
        self.created = created
        self._fd = None
        self._staged = None

    # ------------------------------------------------------------ claiming
    @classmethod
    def claim(cls, path):
        """Create ``path`` if needed and lock it."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise RunDirectoryError(f"{path} is a file, not a directory; choose a directory "
                                    f"for the run")
        created = not path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):  # a parent is a file
            raise RunDirectoryError(f"cannot create {path}: a part of that path is a file, "
                                    f"not a directory") from None
        except OSError as e:
            raise _os_error(path, e, "create") from None
        d = cls(path, created)
        d._lock()
        return d

    @classmethod
    def claim_new(cls, root, name):
        """Create and lock the first free one of ``root/name``, ``root/name-2``, ..."""
        try:
            Path(root).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise RunDirectoryError(f"cannot create {root}: a part of that path is a file, "
                                    f"not a directory") from None
        except OSError as e:
            raise _os_error(root, e, "create") from None
        while True:
            path = next_free(root, name)
            try:
                path.mkdir()  # atomic: of two runs started together, one gets it
            except FileExistsError:
                continue
            except OSError as e:
                raise _os_error(path, e, "create") from None
            d = cls(path, created=True)
            try:
                d._lock()
            except RunLockedError:  # someone named it explicitly meanwhile
                continue
            return d

    def _lock(self):
        lock = self.path / LOCK
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise _os_error(self.path, e, "write to") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise _os_error(self.path, e, "lock") from None
                # The holder writes its pid just after locking; a loser that arrives in
                # between waits a moment for it rather than reporting "pid unknown".
                pid = _read_pid(fd)
                deadline = time.monotonic() + 1.0
                while pid is None and time.monotonic() < deadline:
                    time.sleep(0.01)
                    pid = _read_pid(fd)
                os.close(fd)
                raise RunLockedError(
                    f"{self.path} is in use by another dualnum run "
                    f"({'pid ' + str(pid) if pid else 'pid unknown'}); wait for it to end or "
                    f"choose another directory", pid) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:  # the lock holds without the note
            pass
        self._fd = fd

    def release(self, *, remove_if_unused=False):
        """Unlock. With ``remove_if_unused``, a directory this object created and in
        which nothing but the lock was written is removed again."""
        if self._fd is None:
            return
        self.discard_staged()
        if remove_if_unused and self.created and \
                {p.name for p in self.path.iterdir()} <= {LOCK}:
            try:
                os.unlink(self.path / LOCK)
                self.path.rmdir()
            except OSError:
                pass
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None

    # ------------------------------------------------------------ contents
    def file(self, name):
        return self.path / name

    def existing(self, names=OUTPUTS):
        """Which of ``names`` are present."""
        return [n for n in names if (self.path / n).exists()]

    def remove_stale(self):
        """Remove temporary files left by a process killed while writing; returns their
        names. Call only while holding the lock."""
        gone = []
        for p in self.path.iterdir():
            if _STALE.match(p.name) and p.is_file():
                try:
                    p.unlink()
                    gone.append(p.name)
                except OSError:
                    pass
        return sorted(gone)

    # ------------------------------------------------------------ metrics
    def open_metrics(self, *, keep_until=None, stage=False):
        """The metrics file, opened for appending. ``keep_until`` (a step) keeps the lines
        of a resumed run up to that step; ``stage`` writes to a temporary file that
        :meth:`commit` puts in place (so the earlier run's metrics survive until then)."""
        final = self.path / "metrics.jsonl"
        if stage:
            self._staged = self.path / f".metrics.jsonl.{os.getpid()}.tmp"
            return open(self._staged, "w", encoding="utf-8")
        if keep_until is not None and final.exists():
            _trim(final, keep_until)
        return open(final, "a" if keep_until is not None else "w", encoding="utf-8")

    def commit(self, replaced=("summary.json", "loss.png", "accuracy.png")):
        """The new run now has a checkpoint of its own: its staged metrics replace the
        earlier run's, whose other files (``replaced``) go."""
        if self._staged is None:
            return
        os.replace(self._staged, self.path / "metrics.jsonl")
        self._staged = None
        for name in replaced:
            try:
                os.unlink(self.path / name)
            except FileNotFoundError:
                pass

    @property
    def staged(self):
        """Whether the new run's metrics are still staged (the earlier run's files are
        all still in place)."""
        return self._staged is not None

    def discard_staged(self):
        if self._staged is not None:
            try:
                os.unlink(self._staged)
            except FileNotFoundError:
                pass
            self._staged = None


def _read_pid(fd):
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def _trim(path, last_step):
    """Keep the lines of a metrics file up to ``last_step`` (a resumed run rewrites what
    came after its checkpoint), streaming: the file may be long."""
    import json

    def write(out):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    if json.loads(line)["step"] <= last_step:
                        out.write(line if line.endswith("\n") else line + "\n")
                except (ValueError, KeyError, TypeError):
                    continue

    atomic_write(path, write, mode="w")
