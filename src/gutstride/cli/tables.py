"""Tables on the terminal, and plain wide text when the output is a pipe or a file (no typer: ``inspect`` uses it)."""

from __future__ import annotations

import sys


def print_table(title: str, headers: list[str], rows: list[list[str]], styles: list[str] | None = None) -> None:
    """Print a table to stdout: a Rich table on a terminal; otherwise (a pipe or a file) plain text, one line per
    row, columns padded to their widest cell and never cut, so that scripts and logs get every character.

    ``styles`` gives a Rich style per row for the second column (the status), used on a terminal only.
    """
    from rich.console import Console

    console = Console()
    if console.is_terminal:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=title)
        for name in headers:
            table.add_column(name, overflow="fold")
        for i, row in enumerate(rows):
            cells = [escape(cell) for cell in row]
            if styles and styles[i] and len(cells) > 1:
                cells[1] = f"[{styles[i]}]{cells[1]}[/]"
            table.add_row(*cells)
        console.print(table)
        return
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    sys.stdout.write("\n".join(lines) + "\n")
