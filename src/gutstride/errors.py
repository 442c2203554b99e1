"""The one exception hierarchy of gutstride.

Every error a user can cause is a :class:`GutstrideError`. The CLI turns it into a one-line message and exit
code 2; anything else is a bug and is shown with a traceback only under ``--debug``.
"""


class GutstrideError(Exception):
    """Base class of every error gutstride raises on purpose."""

    exit_code = 2


class BadInputError(GutstrideError):
    """The input exists and has a known format, but its content is malformed or out of range."""


class UnsupportedFormatError(GutstrideError):
    """The input is not in any format gutstride reads (or a variant of one it does not support)."""


class MissingDataError(GutstrideError):
    """Something needed is not there: a file, a workspace, a column, or enough observations."""
