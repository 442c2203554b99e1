"""The ``gutstride`` command line.

:func:`main` runs the typer app (:mod:`gutstride.cli.app`), except for a plain ``gutstride inspect FILE...
[--json]``, which it runs directly (:mod:`gutstride.cli.inspect_files`): building the typer app and parsing with it
imports typer and pydantic, about half of that command's start-up. Both routes turn every
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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the command, mapping user errors to exit code 2."""
    from gutstride.errors import GutstrideError

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
    except Exception as exc:  # a bug: one line unless --debug
        if _debug():
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        sys.exit(1)
    sys.exit(code)
