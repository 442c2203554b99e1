"""The ``gutstride`` command line.

:func:`main` runs the typer app (:mod:`gutstride.cli.app`), except for a plain ``gutstride inspect FILE...
[--json]``, which it runs directly (:mod:`gutstride.cli.inspect_files`): building the typer app and parsing with it
costs about 0.05 s more (a third of that command's start-up). Both routes turn every
:class:`~gutstride.errors.GutstrideError` into a one-line message and exit code 2; a traceback is shown only with
``--debug``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _plain_inspect(argv: list[str]) -> list[Path] | None:
    """The files of ``inspect FILE... [--json]`` when ``argv`` is exactly that (no other option, at least one
    file); else None (help, other options and usage errors are left to typer)."""
    if argv[:1] != ["inspect"]:
        return None
    files = [arg for arg in argv[1:] if arg != "--json"]
    if not files or any(arg.startswith("-") for arg in files):
        return None
    return [Path(arg) for arg in files]


def _debug() -> bool:
    """Whether ``--debug`` was given (only the typer route parses it)."""
    from gutstride.cli.common import STATE

    return STATE.debug


class Interrupted(BaseException):  # noqa: N818 - named for what the user did
    """Ctrl-C. Not a KeyboardInterrupt, which click would turn into a blank line and an "Aborted!"."""


def _interrupt(_signum: int, _frame: object) -> None:
    raise Interrupted


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the command, mapping user errors (and file-system refusals) to exit
    code 2 and Ctrl-C to one line and exit code 130."""
    import signal
    import threading

    from gutstride.errors import GutstrideError

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt)
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        files = _plain_inspect(args)
        if files is not None:
            from gutstride.cli.inspect_files import inspect_files

            inspect_files(files, as_json="--json" in args)
            code = 0
        else:
            from gutstride.cli.app import run

            code = run(args)
    except GutstrideError as exc:
        if _debug():
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (Interrupted, KeyboardInterrupt):  # Ctrl-C: one line; what was committed stays
        print("interrupted: what was stored so far is kept; run the command again to finish", file=sys.stderr)
        sys.exit(130)
    except OSError as exc:  # the file system said no (unwritable output, full disk): the user's to fix
        if _debug():
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # a bug: one line unless --debug
        if _debug():
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        sys.exit(1)
    sys.exit(code)
