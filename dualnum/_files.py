"""Writing files safely: atomically, and files generated from the code."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path, write, mode="wb"):
    """Call ``write(file)`` on a temporary file in ``path``'s directory, then rename it to
    ``path`` (atomic on one file system): readers see the old file or the new one, never
    half of one."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        # mkstemp creates the file private (0600); give it the mode the file had, or the
        # one a plain open() would give a new file.
        try:
            perms = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            perms = 0o666 & ~umask
        os.chmod(tmp, perms)
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_generated(path, text, *, check, command):
    """Write ``text`` to the generated file ``path`` (atomically), or with ``check`` only
    compare: returns 1 and says which ``command`` regenerates it when the file is stale."""
    path = Path(path)
    if check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run {command}")
            return 1
        return 0
    atomic_write(path, lambda f: f.write(text), mode="w")
    print(f"wrote {path}")
    return 0
