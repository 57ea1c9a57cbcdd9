"""``python -m dualnum``: see :mod:`dualnum.cli` (the ``dualnum`` console script starts in
``_dualnum_entry``, outside the package)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
