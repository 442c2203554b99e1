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
from gutstride.cli import activities, athlete, evidence, log, microbiome, profile, report, research, serve
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


for _module in (activities, athlete, microbiome, research, log, profile, evidence, report, serve):
    _module.register(app)


def _is_click_exception(exc: Exception) -> bool:
    """Click's usage errors, whether from click itself or the copy of click that Typer carries."""
    import click

    return isinstance(exc, click.ClickException) or any(
        cls.__name__ == "ClickException" and cls.__module__.endswith("click.exceptions") for cls in type(exc).__mro__
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the app, mapping user errors to exit code 2."""
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
    except Exception as exc:  # a usage error: click's message and exit 2; else a bug: one line unless --debug
        if _is_click_exception(exc):
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if STATE.debug:
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        sys.exit(1)
    # without standalone mode, click returns the code of a `raise typer.Exit(code)` instead of exiting
    sys.exit(code if isinstance(code, int) else 0)
