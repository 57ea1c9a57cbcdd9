"""``python -m dualnum`` and the ``dualnum`` console script: see :mod:`dualnum.cli`."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
