"""``python -m dualnum``: see :mod:`dualnum.cli` (the ``dualnum`` console script starts in
``_dualnum_entry``, outside the package)."""
import signal
import sys

from .cli import main

if __name__ == "__main__":
    status = main()
    # The status is decided: a signal arriving while Python shuts down must not turn it
    # into a death by signal.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    sys.exit(status)
