"""CLI commands of the profile area (registered on the root app by :func:`register`)."""

from __future__ import annotations

import typer

from gutstride.cli.common import PERSON_OPTION, WORKSPACE_OPTION


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("profile")
    def profile(
        workspace: str | None = WORKSPACE_OPTION,
        birth_year: int | None = typer.Option(None, "--birth-year", help="Year of birth."),
        age: float | None = typer.Option(None, "--age", help="Age in years (stored as a birth year)."),
        sex: str | None = typer.Option(None, "--sex", help="female or male (for the Banister TRIMP constants)."),
        mass_kg: float | None = typer.Option(None, "--mass-kg", help="Body mass, kg."),
        height_m: float | None = typer.Option(None, "--height-m", help="Height, metres."),
        resting_hr: float | None = typer.Option(None, "--resting-hr", help="Resting heart rate, beats/min."),
        hrmax: float | None = typer.Option(None, "--hrmax", help="Maximum heart rate from a test, beats/min."),
        lthr: float | None = typer.Option(None, "--lthr", help="Lactate-threshold heart rate, beats/min."),
        as_json: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
        person: int | None = PERSON_OPTION,
    ) -> None:
        """Set profile fields in the workspace (creating it) and print the profile with BMI and its class."""
        from datetime import date

        from gutstride.cli.common import open_athlete, print_json
        from gutstride.errors import BadInputError
        from gutstride.services.profile import get_profile, set_profile

        if birth_year is not None and age is not None:
            raise BadInputError("give --birth-year or --age, not both")
        today = date.today()
        changes = dict(birth_year=birth_year, age=age, sex=sex.lower() if sex else None, mass_kg=mass_kg,
                       height_m=height_m, resting_hr=resting_hr, hrmax=hrmax, lthr=lthr)
        ws, athlete = open_athlete(workspace, person, create=True)
        current = get_profile(ws, athlete)
        if any(v is not None for v in changes.values()):
            if birth_year is not None:
                current = current.with_values(age=None)
            current = set_profile(ws, athlete, current.with_values(**changes), today)
        out = current.to_dict(today)
        if as_json:
            print_json(out)
            return
        labels = {"birth_year": "birth year", "age": "age", "sex": "sex", "mass_kg": "mass (kg)",
                  "height_m": "height (m)", "bmi": "BMI", "bmi_class": "BMI class", "resting_hr": "resting HR",
                  "hrmax": "HRmax (test)", "lthr": "LTHR"}
        for key, label in labels.items():
            value = out[key]
            shown = "-" if value is None else format(value, "g") if isinstance(value, float) else value
            typer.echo(f"{label:<14} {shown}")
