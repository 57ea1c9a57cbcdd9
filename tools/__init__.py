"""Developer tools, outside the runtime package: the kernel generator and the README's
coverage-table writer (run from the repository root: ``python tools/NAME.py``)."""
