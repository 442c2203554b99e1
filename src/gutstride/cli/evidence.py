"""CLI commands of the evidence area (registered on the root app by :func:`register`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from gutstride.cli.common import print_json

if TYPE_CHECKING:
    from gutstride.evidence.model import Claim

_CERTAINTY_LABEL = {"high": "HIGH", "moderate": "MODERATE", "low": "LOW", "very_low": "VERY LOW"}
_CERTAINTY_STYLE = {"high": "green", "moderate": "cyan", "low": "yellow", "very_low": "red"}


def claim_json(claim: Claim) -> dict[str, Any]:
    """The ``--json`` shape of one claim (citations as pmid, doi, title or display text, and the full reference with
    the official page for a source without a verified identifier), with its summary-of-findings row."""
    out = claim.to_dict()
    out["citations"] = [
        {"pmid": c.pmid, "doi": c.doi, "title": c.title, "reference": c.reference, "url": c.url, "role": c.role}
        for c in claim.citations
    ]
    return out


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("evidence")
    def evidence(
        query: str | None = typer.Argument(None, help="A question, e.g. 'Can exercise improve my gut microbiome?'"),
        as_json: bool = typer.Option(False, "--json", help="Print the claims as JSON."),
        limit: int = typer.Option(3, "--limit", "-n", min=1, help="How many matching claims to show for a query."),
    ) -> None:
        """What the science says, and how sure it is: answer a question, or list every claim by certainty."""
        from gutstride.services.evidence import find_claims

        claims = find_claims(query, limit)
        if as_json:
            print_json({"query": query, "claims": [claim_json(c) for c in claims]})
            return
        _print_rich(claims, detailed=bool(query))


def _print_rich(claims: list[Claim], detailed: bool) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not detailed:
        table = Table(title="gutstride evidence base (not medical advice)", show_lines=False)
        table.add_column("certainty")
        table.add_column("claim id")
        table.add_column("what the evidence supports")
        for claim in claims:
            style = _CERTAINTY_STYLE[claim.certainty]
            table.add_row(Text(_CERTAINTY_LABEL[claim.certainty], style=style), claim.id, claim.plain_wording)
        console.print(table)
        return
    for claim in claims:
        body = Text()
        body.append("Answer: ", style="bold")
        body.append(claim.direct_answer + "\n\n")
        body.append("Certainty: ", style="bold")
        body.append(_CERTAINTY_LABEL[claim.certainty], style=_CERTAINTY_STYLE[claim.certainty])
        body.append(f" ({claim.plain_wording})\n")
        body.append("Outcome: ", style="bold")
        body.append(f"{claim.outcome}. {claim.n_studies} studies; {claim.participants}. Effect: {claim.effect}\n")
        if claim.downgrades:
            body.append("Why not higher: ", style="bold")
            body.append("; ".join(f"{d.domain.replace('_', ' ')}: {d.reason}" for d in claim.downgrades) + "\n")
        if claim.regraded:
            body.append("Regraded: ", style="bold")
            body.append(f"was {claim.regraded.previous.replace('_', ' ')}: {claim.regraded.reason}\n")
        a = claim.applies_to
        body.append("Applies to: ", style="bold")
        body.append(f"{a.species}; population {a.population}; training status {a.training_status}\n\n")
        body.append("What is known: ", style="bold")
        body.append(claim.what_is_known + "\n\n")
        body.append("What is not known: ", style="bold")
        body.append(claim.what_is_not_known + "\n\n")
        body.append("Citations:\n", style="bold")
        for c in claim.citations:
            ident = f"PMID {c.pmid}" if c.pmid else (f"DOI {c.doi}" if c.doi else "no identifier verified")
            body.append(f"  [{c.role}] {c.title}; {ident}" + (f"; {c.url}" if c.url else "") + "\n")
        console.print(Panel(body, title=f"{claim.statement}", subtitle=claim.id))
    console.print("gutstride is not a medical device and does not diagnose.", style="dim")
