"""The ``dualnum`` console script's entry point, outside the ``dualnum`` package on
purpose: the script imports this module before anything else, so Ctrl-C or SIGTERM while
``dualnum`` itself is still importing (NumPy, numba) end as quietly as later on, with
status 130 or 143 and no traceback. Training itself: :mod:`dualnum.cli`."""
import signal
import sys


class _Terminated(KeyboardInterrupt):
    pass


def _on_sigterm(signum, frame):
    raise _Terminated


def main():
    """Run ``dualnum`` and return its exit status."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from dualnum.cli import main as cli_main

        status = cli_main()
    except _Terminated:
        status = 128 + signal.SIGTERM
    except KeyboardInterrupt:
        status = 128 + signal.SIGINT
    # The status is decided: a signal arriving while Python shuts down must not turn it
    # into a death by signal.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    return status


if __name__ == "__main__":
    sys.exit(main())
