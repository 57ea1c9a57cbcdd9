"""Where dualnum keeps files of its own: one per-user cache directory.

Nothing is ever written inside the installed package: pip's uninstall removes only the
files it recorded, so anything written there at run time (numba's cache, say) would be
left behind, and a leftover ``dualnum/`` folder in site-packages imports as a namespace
package that shadows a later install.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

#: Overrides the cache root (downloads and compiled kernels).
CACHE_ENV = "DUALNUM_CACHE_DIR"


def cache_dir():
    """The per-user cache directory: ``$DUALNUM_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/dualnum`` or ``~/.cache/dualnum`` (``%LOCALAPPDATA%\\dualnum`` on
    Windows, ``~/Library/Caches/dualnum`` on macOS)."""
    own = os.environ.get(CACHE_ENV)
    if own:
        return Path(own).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    if not base and os.name == "nt":
        base = os.environ.get("LOCALAPPDATA")
    if not base and sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    return Path(base or Path.home() / ".cache") / "dualnum"
