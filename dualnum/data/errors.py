"""The typed errors of :mod:`dualnum.data`.

Every problem with a dataset raises a :class:`DataError` (a ``ValueError``) or one of
its subclasses, with a one-line message that names the file and what is wrong. The
command line prints that line and exits non-zero.

>>> import dualnum as dn
>>> issubclass(dn.data.ChecksumError, dn.data.DataError)
True
>>> issubclass(dn.data.DataNotFoundError, FileNotFoundError)
True
"""
from __future__ import annotations

from .._checks import argument, argument_names

__all__ = ["DataError", "IDXFormatError", "ChecksumError", "DownloadError",
           "DataNotFoundError", "argument", "argument_names"]


class DataError(ValueError):
    """A dataset could not be loaded: bad files, inconsistent contents, bad arguments."""


class IDXFormatError(DataError):
    """An IDX file (MNIST's format) has a bad magic number, is truncated, has trailing
    bytes, or is not the kind of array expected (``path`` names the file)."""

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


class ChecksumError(DataError):
    """A downloaded file's SHA-256 differs from the published one; nothing was kept."""

    def __init__(self, message, *, url=None, expected=None, actual=None):
        super().__init__(message)
        self.url, self.expected, self.actual = url, expected, actual


class DownloadError(DataError, ConnectionError):
    """A dataset's files are nowhere on disk and could not be downloaded (offline, or
    every mirror failed). The message says where to put the files by hand. ``offline``
    is true when no host could be reached at all; ``failures`` lists ``(url, reason)``;
    ``unwritable`` is true when the files could not be written on this machine
    (permissions, a full disk)."""

    offline = False
    unwritable = False
    failures = ()


class DataNotFoundError(DataError, FileNotFoundError):
    """A directory or file that was named explicitly does not exist."""
