"""CLI commands of the log area (registered on the root app by :func:`register`).

``gutstride log`` adds or updates one day's (or one activity's) entry from quick flags or interactive prompts,
asks the periodic red-flag checklist (``--checklist``), imports a CSV/JSON log, exports the stored log, or prints
the template. Any red flag entered is reported at once with a "see a doctor" message.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gutstride.cli.common import PERSON_OPTION, WORKSPACE_OPTION, open_athlete
from gutstride.model.log_entry import FIELD_BY_NAME

if TYPE_CHECKING:
    from gutstride.model.finding import Finding

#: What to tell the person for each red flag (shown as soon as one is entered).
RED_FLAG_ADVICE = {
    "red_flag.blood_in_stool": "blood in the stool",
    "red_flag.black_stool": "black, tarry stool (can mean bleeding higher in the gut)",
    "red_flag.gi_bleeding_during_exercise": "blood in the stool on a training day",
    "red_flag.bowel_habit_change": "a change in bowel habit lasting 3 weeks or more",
    "red_flag.bowel_habit_change_reported": "a change in bowel habit lasting weeks",
    "red_flag.weight_loss": "weight loss you cannot explain",
    "red_flag.anaemia": "anaemia",
    "red_flag.persistent_vomiting": "vomiting, not just at the end of a hard effort",
    "red_flag.difficulty_swallowing": "difficulty swallowing",
    "red_flag.night_symptoms": "gut symptoms that wake you at night",
    "red_flag.rest_day_symptoms": "gut symptoms on rest days",
}


#: The quick flag of each log field that has one.
QUICK_FLAGS = {
    "nausea": "--nausea", "reflux": "--reflux", "bloating": "--bloating", "cramps": "--cramps",
    "urge_diarrhoea": "--urge", "flatulence": "--flatulence", "bristol": "--bristol",
    "stool_frequency": "--stool-frequency", "sleep_hours": "--sleep-hours", "sleep_quality": "--sleep-quality",
    "stress": "--stress", "fluids_l": "--fluids", "fibre_g": "--fibre-g", "fibre_servings": "--fibre-servings",
    "fermented_servings": "--fermented",
    "alcohol_units": "--alcohol", "caffeine_mg": "--caffeine", "nsaid": "--nsaid", "probiotic": "--probiotic",
    "blood_in_stool": "--blood-in-stool", "black_stool": "--black-stool", "illness": "--illness",
    "antibiotics": "--antibiotics", "notes": "--note", "date": "--date", "activity_start": "--activity",
    "belching": "--belching", "vomiting": "--vomiting", "symptom_timing": "--timing",
    "pre_meal_minutes_before": "--meal-minutes-before", "pre_meal_fibre": "--meal-fibre", "pre_meal_fat": "--meal-fat",
    "pre_meal_carb_g": "--meal-carb-g", "fodmap_load": "--fodmap", "lactose_load": "--lactose",
    "sweetener_load": "--sweetener", "caffeine_before_mg": "--caffeine-before", "carb_g_per_h": "--carb-per-h",
    "fluid_ml_per_h": "--fluid-per-h", "session_type": "--session-type", "menstrual_phase": "--menstrual-phase",
    "contraception": "--contraception", "experiment": "--experiment", "experiment_arm": "--experiment-arm",
}


def _opt(name: str) -> Any:
    return typer.Option(None, QUICK_FLAGS[name], help=FIELD_BY_NAME[name].describe())


def _switch(name: str) -> Any:
    return typer.Option(False, QUICK_FLAGS[name], help=FIELD_BY_NAME[name].describe().replace(" (true or false)", ""))


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""

    @app.command("log")
    def log(
        workspace: str | None = WORKSPACE_OPTION,
        day: str | None = typer.Option(None, "--date", help="Day of the entry, YYYY-MM-DD (default: today)."),
        activity: str | None = typer.Option(
            None, "--activity", help="Start of the activity the entry is about (ISO, UTC, e.g. 2024-05-01T06:30Z)."
        ),
        nausea: int | None = _opt("nausea"),
        reflux: int | None = _opt("reflux"),
        bloating: int | None = _opt("bloating"),
        cramps: int | None = _opt("cramps"),
        urge: int | None = _opt("urge_diarrhoea"),
        flatulence: int | None = _opt("flatulence"),
        belching: int | None = _opt("belching"),
        vomiting: int | None = _opt("vomiting"),
        timing: str | None = _opt("symptom_timing"),
        bristol: int | None = _opt("bristol"),
        stool_frequency: int | None = _opt("stool_frequency"),
        sleep_hours: float | None = _opt("sleep_hours"),
        sleep_quality: int | None = _opt("sleep_quality"),
        stress: int | None = _opt("stress"),
        fluids: float | None = _opt("fluids_l"),
        fibre_g: float | None = _opt("fibre_g"),
        fibre_servings: float | None = _opt("fibre_servings"),
        fermented: float | None = _opt("fermented_servings"),
        alcohol: float | None = _opt("alcohol_units"),
        caffeine: float | None = _opt("caffeine_mg"),
        meal_minutes_before: float | None = _opt("pre_meal_minutes_before"),
        meal_fibre: str | None = _opt("pre_meal_fibre"),
        meal_fat: str | None = _opt("pre_meal_fat"),
        meal_carb_g: float | None = _opt("pre_meal_carb_g"),
        fodmap: str | None = _opt("fodmap_load"),
        lactose: str | None = _opt("lactose_load"),
        sweetener: str | None = _opt("sweetener_load"),
        caffeine_before: float | None = _opt("caffeine_before_mg"),
        carb_per_h: float | None = _opt("carb_g_per_h"),
        fluid_per_h: float | None = _opt("fluid_ml_per_h"),
        session_type: str | None = _opt("session_type"),
        menstrual_phase: str | None = _opt("menstrual_phase"),
        contraception: str | None = _opt("contraception"),
        experiment: str | None = _opt("experiment"),
        experiment_arm: str | None = _opt("experiment_arm"),
        nsaid: bool = _switch("nsaid"),
        probiotic: bool = _switch("probiotic"),
        blood_in_stool: bool = _switch("blood_in_stool"),
        black_stool: bool = _switch("black_stool"),
        illness: bool = _switch("illness"),
        antibiotics: bool = _switch("antibiotics"),
        note: str | None = typer.Option(None, QUICK_FLAGS["notes"], help="Free text for the entry."),
        interactive: bool = typer.Option(False, "--interactive", "-i", help="Prompt field by field (Enter skips)."),
        checklist: bool = typer.Option(
            False, "--checklist",
            help="Answer the red-flag checklist (blood or black stool, weight loss, bowel-habit change, anaemia, "
                 "vomiting, difficulty swallowing, symptoms at night or on rest days) for --date; Enter skips.",
        ),
        import_file: Path | None = typer.Option(None, "--import", help="Validate and store a CSV or JSON log."),
        export_file: Path | None = typer.Option(None, "--export", help="Write the stored log (.csv or .json)."),
        template: bool = typer.Option(False, "--template", help="Print the CSV template, each column documented."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
        person: int | None = PERSON_OPTION,
    ) -> None:
        """Add today's (or --date's) symptom and lifestyle entry, import or export the log, or print the template.

        Red flags (blood in stool, black stool) are reported at once: see a doctor.
        """
        from gutstride.errors import BadInputError

        values = {
            "nausea": nausea, "reflux": reflux, "bloating": bloating, "cramps": cramps, "urge_diarrhoea": urge,
            "flatulence": flatulence, "bristol": bristol, "stool_frequency": stool_frequency,
            "sleep_hours": sleep_hours, "sleep_quality": sleep_quality, "stress": stress, "fluids_l": fluids,
            "fibre_g": fibre_g, "fibre_servings": fibre_servings, "fermented_servings": fermented,
            "alcohol_units": alcohol, "caffeine_mg": caffeine, "belching": belching, "vomiting": vomiting,
            "symptom_timing": timing, "pre_meal_minutes_before": meal_minutes_before, "pre_meal_fibre": meal_fibre,
            "pre_meal_fat": meal_fat, "pre_meal_carb_g": meal_carb_g, "fodmap_load": fodmap, "lactose_load": lactose,
            "sweetener_load": sweetener, "caffeine_before_mg": caffeine_before, "carb_g_per_h": carb_per_h,
            "fluid_ml_per_h": fluid_per_h, "session_type": session_type, "menstrual_phase": menstrual_phase,
            "contraception": contraception, "experiment": experiment, "experiment_arm": experiment_arm,
            "nsaid": nsaid, "probiotic": probiotic, "blood_in_stool": blood_in_stool, "black_stool": black_stool,
            "illness": illness, "antibiotics": antibiotics, "notes": note,
        }
        given = {k: v for k, v in values.items() if v is not None and v is not False}
        modes = [m for m, on in (("--template", template), ("--import", import_file is not None),
                                 ("--export", export_file is not None), ("--checklist", checklist)) if on]
        if given or interactive or activity or (day and not checklist):
            modes.append("an entry")
        if len(modes) > 1:
            raise BadInputError(
                f"use one of --template, --import, --export, --checklist or an entry at a time "
                f"(got {', '.join(modes)})"
            )
        if not modes:
            raise BadInputError("nothing to log: give field flags (see gutstride log --help), --interactive, "
                                "--checklist, --import FILE, --export FILE or --template")
        if template:
            from gutstride.ingest.logs import template_csv

            typer.echo(template_csv(), nl=False)
        elif import_file is not None:
            _import(workspace, person, import_file, as_json)
        elif export_file is not None:
            _export(workspace, person, export_file, as_json)
        elif checklist:
            _checklist(workspace, person, day, as_json)
        else:
            _entry(workspace, person, day, activity, given, interactive, as_json)


def _import(workspace: str | None, person: int | None, path: Path, as_json: bool) -> None:
    from gutstride.cli.common import print_json
    from gutstride.errors import MissingDataError
    from gutstride.ingest.logs import read_log
    from gutstride.services.logs import add_log_entries

    if not path.is_file():
        raise MissingDataError(f"{path}: no such file")
    entries = read_log(path.read_bytes(), str(path))
    ws, athlete = open_athlete(workspace, person, create=True)
    result = add_log_entries(ws, athlete, entries, str(path))
    counts, flags = result.counts, result.red_flags
    added = counts.added + counts.changed
    if as_json:
        print_json({"file": str(path), "entries": len(entries), "added": counts.added, "updated": counts.changed,
                    "unchanged": counts.unchanged, "red_flags": [f.to_dict() for f in flags]})
    else:
        updated = f" ({counts.changed} of them updated)" if counts.changed else ""
        typer.echo(f"{added} entries added, {counts.unchanged} unchanged{updated}")
    _warn(flags, as_json)


def _export(workspace: str | None, person: int | None, path: Path, as_json: bool) -> None:
    from gutstride.cli.common import print_json
    from gutstride.errors import BadInputError
    from gutstride.ingest.logs import entries_to_csv, entries_to_json
    from gutstride.services.logs import list_log_entries

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise BadInputError(f"{path}: export to a .csv or .json file")
    ws, athlete = open_athlete(workspace, person)
    entries = list_log_entries(ws, athlete)
    path.write_text(entries_to_json(entries) if suffix == ".json" else entries_to_csv(entries), encoding="utf-8")
    if as_json:
        print_json({"file": str(path), "entries": len(entries)})
    else:
        typer.echo(f"{len(entries)} entries written to {path}")


def _entry(workspace: str | None, person: int | None, day: str | None, activity: str | None, given: dict[str, Any],
           interactive: bool, as_json: bool) -> None:
    from contextlib import suppress
    from datetime import date, datetime

    from gutstride.cli.common import print_json
    from gutstride.errors import BadInputError
    from gutstride.ingest.logs import LogValidationError, entry_from_mapping, entry_to_dict, future_date_problem
    from gutstride.services.logs import add_log_entries, list_log_entries

    record: dict[str, Any] = {"date": day or date.today().isoformat()}
    if activity:
        record["activity_start"] = activity
        if not day:  # the activity's own date, in the offset it was given in
            with suppress(ValueError):
                record["date"] = datetime.fromisoformat(activity).date().isoformat()
    entry, problems = entry_from_mapping({**record, **given})
    if entry is None:
        raise LogValidationError("log entry", [f"{QUICK_FLAGS.get(c, c)}: {message}" for c, message in problems])
    future = future_date_problem(entry.day)
    if future is not None and future[0] == "error":
        raise BadInputError(f"log entry date: {future[1]}")
    if future is not None:
        typer.echo(f"warning: {future[1]}", err=True)
    ws, athlete = open_athlete(workspace, person, create=True)
    key = (entry.day, entry.activity_ref)
    stored = next((e for e in list_log_entries(ws, athlete) if (e.day, e.activity_ref) == key), None)
    merged = {**(stored.data() if stored else {}), **entry.data()}
    if interactive:
        merged = _prompt(merged)
    if not merged:
        raise BadInputError("nothing to log: no field was given")
    full = {"date": entry.day.isoformat(), **merged}
    if entry.activity_start is not None:
        full["activity_start"] = entry.activity_ref
    final, problems = entry_from_mapping(full)
    assert final is not None, problems  # every value was validated already
    result = add_log_entries(ws, athlete, [final], "cli")
    counts, flags = result.counts, result.red_flags
    status = "added" if counts.added else "updated" if counts.changed else "unchanged"
    if as_json:
        print_json({"status": status, "entry": entry_to_dict(final), "red_flags": [f.to_dict() for f in flags]})
    else:
        what = f"activity {final.activity_ref}" if final.activity_start else "day entry"
        shown = ", ".join(f"{k} {_show(v)}" for k, v in final.data().items())
        typer.echo(f"{final.day} ({what}) {status}: {shown}")
    _warn(flags, as_json)


def _checklist(workspace: str | None, person: int | None, day: str | None, as_json: bool) -> None:
    """Ask each red-flag question (y/n; Enter skips, leaving it "not screened") and store the answers for the day."""
    from gutstride.ingest.logs import parse_value
    from gutstride.model.log_entry import RED_FLAG_CHECKLIST

    typer.echo("Red-flag checklist: since your last check, have you had any of these? Answer y or n; Enter skips "
               "(a skipped question stays 'not screened').", err=as_json)
    answers: dict[str, Any] = {}
    for name, question in RED_FLAG_CHECKLIST:
        while True:
            raw = typer.prompt(f"{question}?", default="", show_default=False, err=as_json)
            if not raw.strip():
                break
            try:
                answers[name] = parse_value(FIELD_BY_NAME[name], raw)
            except ValueError as exc:
                typer.echo(f"  {exc}; answer y or n", err=as_json)
                continue
            break
    if not answers:
        from gutstride.errors import BadInputError

        raise BadInputError("checklist: no question answered; nothing stored (every sign stays 'not screened')")
    _entry(workspace, person, day, None, answers, False, as_json)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(value)
    return format(value, "g") if isinstance(value, float) else str(value)


def _prompt(current: dict[str, Any]) -> dict[str, Any]:
    """Ask for each field in turn, showing the current value; Enter keeps it (or skips), '-' clears it."""
    from gutstride.ingest.logs import parse_value
    from gutstride.model.log_entry import FIELDS

    out = dict(current)
    typer.echo("Enter a value for each field; Enter keeps the value shown (or skips), '-' clears it.")
    for spec in FIELDS:
        while True:
            shown = _show(out[spec.name]) if spec.name in out else ""
            raw = typer.prompt(f"{spec.name} - {spec.describe()}", default=shown, show_default=bool(shown))
            if raw.strip() == "-":
                out.pop(spec.name, None)
                break
            try:
                value = parse_value(spec, raw)
            except ValueError as exc:
                typer.echo(f"  {exc}; try again")
                continue
            if value is None or value in ("", []):
                out.pop(spec.name, None)
            else:
                out[spec.name] = value
            break
    return out


def _warn(flags: list[Finding], as_json: bool) -> None:
    for flag in flags:
        dates = flag.detail.get("dates", [])
        shown = ", ".join(dates[:5]) + (" ..." if len(dates) > 5 else "")
        typer.echo(
            f"RED FLAG: {RED_FLAG_ADVICE.get(flag.id, flag.summary)} ({shown}). Please see a doctor about this soon; "
            "do not wait for more data. gutstride is not a medical device and does not diagnose.",
            err=as_json,
        )

