"""The typer app of the ``gutstride`` command line (run by :func:`gutstride.cli.main`).

Each area registers its commands from its own module; every command imports its heavy dependencies inside its
body, so that ``gutstride --help`` starts fast.
"""

from __future__ import annotations

import typer
from typer._click.exceptions import BadParameter, ClickException  # typer vendors click: its usage errors

from gutstride import __version__
from gutstride.cli import activities, athlete, evidence, log, microbiome, profile, report, research, serve
from gutstride.cli.common import STATE

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


def run(argv: list[str]) -> int:
    """Run the app on ``argv``; return the exit code. Typer's own exits, aborts and usage errors are handled here;
    :class:`~gutstride.errors.GutstrideError` and bugs propagate to :func:`gutstride.cli.main`."""
    try:
        code = app(args=argv, prog_name="gutstride", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except BadParameter as exc:  # e.g. an unreadable file argument: one line, as any other user error
        typer.echo(f"error: {exc.format_message()}", err=True)
        return 2
    except ClickException as exc:  # usage errors: click's own message, exit code 2
        exc.show()
        return int(exc.exit_code)
    # without standalone mode, click returns the code of a `raise typer.Exit(code)` instead of exiting
    return code if isinstance(code, int) else 0
