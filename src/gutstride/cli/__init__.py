"""The ``gutstride`` command line.

Each area registers its commands from its own module; every command imports its heavy dependencies inside its
body, so that ``gutstride --help`` and ``gutstride inspect`` start fast. :func:`main` turns every
:class:`~gutstride.errors.GutstrideError` into a one-line message and exit code 2; a traceback is shown only
with ``--debug``.
"""

from __future__ import annotations

import sys

import typer

from gutstride import __version__
from gutstride.cli import activities, evidence, log, microbiome, profile, report, research
from gutstride.cli.common import STATE
from gutstride.errors import GutstrideError

app = typer.Typer(
    name="gutstride",
    help="What your training does to your gut: workout files, a symptom log and microbiome results, read honestly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rendering it with Rich costs ~0.1 s of start-up
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gutstride {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logging."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """gutstride: not a medical device; it does not diagnose."""
    from gutstride.settings import configure_logging

    STATE.debug = debug
    configure_logging(debug=debug)


for _module in (activities, microbiome, research, log, profile, evidence, report):
    _module.register(app)


class Interrupted(BaseException):  # noqa: N818 - named for what the user did
    """Ctrl-C. Not a KeyboardInterrupt, which click would turn into a blank line and an "Aborted!"."""


def _interrupt(_signum: int, _frame: object) -> None:
    raise Interrupted


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the app, mapping user errors to exit code 2 and Ctrl-C to one line
    and exit code 130."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt)
    try:
        code = app(args=argv, prog_name="gutstride", standalone_mode=False)
    except GutstrideError as exc:
        if STATE.debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except (Interrupted, KeyboardInterrupt):  # Ctrl-C: one line; what was committed stays
        typer.echo("interrupted: what was stored so far is kept; run the command again to finish", err=True)
        sys.exit(130)
    except OSError as exc:  # the file system said no (unwritable output, full disk): the user's to fix
        if STATE.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug: one line unless --debug
        import click

        if isinstance(exc, typer.BadParameter | click.BadParameter):  # e.g. an unreadable file argument
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(2)
        if isinstance(exc, click.ClickException | typer.TyperException) and hasattr(exc, "show"):
            exc.show()
            sys.exit(getattr(exc, "exit_code", 2))
        if STATE.debug:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        sys.exit(1)
    # without standalone mode, click returns the code of a `raise typer.Exit(code)` instead of exiting
    sys.exit(code if isinstance(code, int) else 0)
