"""The daily log entry and its fields: the one schema of the symptom and lifestyle log.

One :class:`LogEntry` is either a *day entry* (``activity_start is None``) or an entry about one activity
(``activity_start`` = the activity's start time in UTC). Every field is optional except the day. The scales are
described in :mod:`gutstride.ingest.logs`, which reads and validates logs against :data:`FIELDS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

#: Upper and lower GI items of the exercise GI symptom scale (0-10 each), kept apart as two sub-scales.
UPPER_GI: tuple[str, ...] = ("nausea", "reflux", "belching", "vomiting")
LOWER_GI: tuple[str, ...] = ("bloating", "cramps", "urge_diarrhoea", "flatulence")
SYMPTOMS: tuple[str, ...] = ("nausea", "reflux", "bloating", "cramps", "urge_diarrhoea", "flatulence", "belching",
                             "vomiting")
MENSTRUAL_PHASES: tuple[str, ...] = ("menstrual", "follicular", "ovulatory", "luteal")
CONTRACEPTION: tuple[str, ...] = ("none", "combined_hormonal", "progestin_only", "hormonal_iud", "copper_iud",
                                  "other")
HIGH_LOW: tuple[str, ...] = ("high", "low")
LOW_MEDIUM_HIGH: tuple[str, ...] = ("low", "medium", "high")
#: When the symptoms happened relative to the session; only "during" and "within_2h" (after) count for it.
SYMPTOM_TIMINGS: tuple[str, ...] = ("before", "during", "within_2h", "later_day", "next_day")
SESSION_TYPES: tuple[str, ...] = ("training", "race")
EXPERIMENT_ARMS: tuple[str, ...] = ("with", "without")

#: Names accepted for the day column (the first is the one written).
DAY_COLUMNS: tuple[str, ...] = ("date", "day")
ACTIVITY_COLUMN = "activity_start"


@dataclass
class LogEntry:
    """One log entry: a day, or one activity on that day. ``None`` means "not recorded"."""

    day: date
    activity_start: datetime | None = None
    nausea: int | None = None
    reflux: int | None = None
    bloating: int | None = None
    cramps: int | None = None
    urge_diarrhoea: int | None = None
    flatulence: int | None = None
    belching: int | None = None
    vomiting: int | None = None
    symptom_timing: str | None = None
    bristol: int | None = None
    stool_frequency: int | None = None
    blood_in_stool: bool | None = None
    black_stool: bool | None = None
    weight_loss: bool | None = None
    bowel_habit_change: bool | None = None
    anaemia: bool | None = None
    persistent_vomiting: bool | None = None
    difficulty_swallowing: bool | None = None
    night_symptoms: bool | None = None
    rest_day_symptoms: bool | None = None
    sleep_hours: float | None = None
    sleep_quality: int | None = None
    stress: int | None = None
    fluids_l: float | None = None
    pre_meal_minutes_before: float | None = None
    pre_meal_fibre: str | None = None
    pre_meal_fat: str | None = None
    pre_meal_carb_g: float | None = None
    fermented_servings: float | None = None
    fibre_g: float | None = None
    fibre_servings: float | None = None
    alcohol_units: float | None = None
    caffeine_mg: float | None = None
    nsaid: bool | None = None
    supplements: list[str] = field(default_factory=list)
    probiotic: bool | None = None
    illness: bool | None = None
    antibiotics: bool | None = None
    menstrual_phase: str | None = None
    contraception: str | None = None
    carb_g_per_h: float | None = None
    fluid_ml_per_h: float | None = None
    caffeine_before_mg: float | None = None
    fodmap_load: str | None = None
    lactose_load: str | None = None
    sweetener_load: str | None = None
    session_type: str | None = None
    experiment: str = ""
    experiment_arm: str | None = None
    notes: str = ""

    @property
    def activity_ref(self) -> str:
        """``""`` for a day entry, else the activity's UTC start as ISO text (``2024-05-01T06:30:00Z``)."""
        return "" if self.activity_start is None else format_utc(self.activity_start)

    def data(self) -> dict[str, Any]:
        """The recorded fields (not day nor activity), leaving out what was not recorded."""
        out: dict[str, Any] = {}
        for spec in FIELDS:
            value = getattr(self, spec.name)
            if value is None or value == "" or value == []:
                continue
            out[spec.name] = list(value) if spec.type == "list" else value
        return out

    def max_symptom(self) -> int | None:
        """The highest GI symptom score recorded, or ``None`` when no symptom was recorded."""
        scores = [s for s in (getattr(self, name) for name in SYMPTOMS) if s is not None]
        return max(scores) if scores else None


@dataclass(frozen=True)
class FieldSpec:
    """One log column: its name, type, allowed range (numbers) or choices (text), unit and help."""

    name: str
    type: str  # "int" | "float" | "bool" | "choice" | "list" | "text"
    range: tuple[float, float] | tuple[str, ...] | None
    unit: str
    help: str

    def describe(self) -> str:
        """``help (unit; range)`` as shown in the template and the CLI help."""
        parts = [self.unit] if self.unit else []
        if self.type in ("int", "float") and self.range is not None:
            lo, hi = self.range
            parts.append(f"{format_number(lo)}-{format_number(hi)}")
        elif self.type == "choice" and self.range is not None:
            parts.append(" or ".join(str(c) for c in self.range))
        elif self.type == "bool":
            parts.append("true or false")
        elif self.type == "list":
            parts.append("separated by ;")
        return f"{self.help} ({'; '.join(parts)})" if parts else self.help


def _symptom(name: str, what: str) -> FieldSpec:
    side = "upper" if name in UPPER_GI else "lower"
    return FieldSpec(name, "int", (0, 10), "score",
                     f"{what} ({side} GI) during or after exercise (on a rest day: that day), 0 = none, 10 = worst")


#: Every log field, in template order. Used for validation, the template and the CLI help.
FIELDS: tuple[FieldSpec, ...] = (
    _symptom("nausea", "Nausea"),
    _symptom("reflux", "Reflux or heartburn"),
    _symptom("bloating", "Bloating"),
    _symptom("cramps", "Abdominal cramps"),
    _symptom("urge_diarrhoea", "Urge to defecate or diarrhoea"),
    _symptom("flatulence", "Flatulence"),
    _symptom("belching", "Belching"),
    _symptom("vomiting", "Vomiting"),
    FieldSpec("symptom_timing", "choice", SYMPTOM_TIMINGS, "",
              "When the symptoms happened relative to the session (within_2h = within 2 h after; only during and "
              "within_2h count for the session); empty = the day's symptoms count for that day's sessions"),
    FieldSpec("bristol", "int", (1, 7), "Bristol type", "Stool form, 1 = hard lumps, 4 = smooth, 7 = liquid"),
    FieldSpec("stool_frequency", "int", (0, 20), "per day", "Bowel movements that day"),
    FieldSpec("blood_in_stool", "bool", None, "", "Blood in or on the stool (red flag: see a doctor)"),
    FieldSpec("black_stool", "bool", None, "", "Black, tarry stool (red flag: see a doctor)"),
    FieldSpec("weight_loss", "bool", None, "", "Weight loss you cannot explain (red flag: see a doctor)"),
    FieldSpec("bowel_habit_change", "bool", None, "",
              "A change in bowel habit lasting weeks (red flag: see a doctor)"),
    FieldSpec("anaemia", "bool", None, "", "Told you have anaemia (low iron or haemoglobin) (red flag: see a doctor)"),
    FieldSpec("persistent_vomiting", "bool", None, "",
              "Vomiting, not just during a hard effort (red flag: see a doctor)"),
    FieldSpec("difficulty_swallowing", "bool", None, "", "Difficulty swallowing (red flag: see a doctor)"),
    FieldSpec("night_symptoms", "bool", None, "", "Gut symptoms that wake you at night (red flag: see a doctor)"),
    FieldSpec("rest_day_symptoms", "bool", None, "",
              "Gut symptoms on rest days too, not only with training (red flag: see a doctor)"),
    FieldSpec("sleep_hours", "float", (0, 24), "h", "Sleep the night before"),
    FieldSpec("sleep_quality", "int", (1, 5), "score", "Sleep quality the night before, 1 = very poor, 5 = very good"),
    FieldSpec("stress", "int", (1, 5), "score", "Perceived stress, 1 = very low, 5 = very high"),
    FieldSpec("fluids_l", "float", (0, 15), "L", "Fluids drunk that day"),
    FieldSpec("pre_meal_minutes_before", "float", (0, 1440), "min", "Time from the last meal to the start of exercise"),
    FieldSpec("pre_meal_fibre", "choice", HIGH_LOW, "", "Fibre content of that meal"),
    FieldSpec("pre_meal_fat", "choice", HIGH_LOW, "", "Fat content of that meal"),
    FieldSpec("pre_meal_carb_g", "float", (0, 500), "g", "Carbohydrate in that meal"),
    FieldSpec("fodmap_load", "choice", LOW_MEDIUM_HIGH, "", "FODMAP load of that meal (onion, wheat, pulses...)"),
    FieldSpec("lactose_load", "choice", LOW_MEDIUM_HIGH, "", "Lactose load of that meal (milk, soft cheese...)"),
    FieldSpec("sweetener_load", "choice", LOW_MEDIUM_HIGH, "",
              "Polyol sweetener load of that meal (sorbitol, xylitol, 'sugar-free' products)"),
    FieldSpec("caffeine_before_mg", "float", (0, 1000), "mg", "Caffeine in the 3 h before the session"),
    FieldSpec("carb_g_per_h", "float", (0, 200), "g/h", "Carbohydrate taken during the session"),
    FieldSpec("fluid_ml_per_h", "float", (0, 3000), "mL/h", "Fluid drunk during the session"),
    FieldSpec("session_type", "choice", SESSION_TYPES, "", "Race or training"),
    FieldSpec("fermented_servings", "float", (0, 20), "servings", "Fermented foods (yoghurt, kefir, kimchi...)"),
    FieldSpec("fibre_g", "float", (0, 150), "g", "Dietary fibre that day"),
    FieldSpec("fibre_servings", "float", (0, 30), "servings",
              "Fibre-rich servings that day (a portion of vegetables, fruit, pulses or whole grains), if not in grams"),
    FieldSpec("alcohol_units", "float", (0, 50), "units", "Alcohol that day (1 unit = 10 mL ethanol)"),
    FieldSpec("caffeine_mg", "float", (0, 2000), "mg", "Caffeine that day (a coffee is about 80-100 mg)"),
    FieldSpec("nsaid", "bool", None, "", "Took an NSAID (ibuprofen, naproxen, aspirin...)"),
    FieldSpec("supplements", "list", None, "", "Supplements taken"),
    FieldSpec("probiotic", "bool", None, "", "Took a probiotic"),
    FieldSpec("illness", "bool", None, "", "Ill that day"),
    FieldSpec("antibiotics", "bool", None, "", "Taking antibiotics"),
    FieldSpec("menstrual_phase", "choice", MENSTRUAL_PHASES, "", "Menstrual cycle phase (optional)"),
    FieldSpec("contraception", "choice", CONTRACEPTION, "", "Contraception (optional)"),
    FieldSpec("experiment", "text", None, "", "Id of the n-of-1 experiment this entry belongs to (from the report)"),
    FieldSpec("experiment_arm", "choice", EXPERIMENT_ARMS, "",
              "This week's arm of that experiment: with or without the tested factor"),
    FieldSpec("notes", "text", None, "", "Free text"),
)
FIELD_BY_NAME: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}

#: The periodic red-flag checklist (``gutstride log --checklist``): each log field and the question asked. The signs
#: follow DESIGN.md's red flags and the referral criteria of NICE NG12 (study ``nice2015`` in the evidence base).
#: A field never answered is "not screened", never "no".
RED_FLAG_CHECKLIST: tuple[tuple[str, str], ...] = (
    ("blood_in_stool", "Blood in or on the stool"),
    ("black_stool", "Black, tarry stool"),
    ("weight_loss", "Weight loss you cannot explain"),
    ("bowel_habit_change", "A change in bowel habit lasting weeks"),
    ("anaemia", "Anaemia (told you have low iron or haemoglobin)"),
    ("persistent_vomiting", "Vomiting (not just at the end of a hard effort)"),
    ("difficulty_swallowing", "Difficulty swallowing"),
    ("night_symptoms", "Gut symptoms that wake you at night"),
    ("rest_day_symptoms", "Gut symptoms on rest days, not only with training"),
)
COLUMNS: tuple[str, ...] = (DAY_COLUMNS[0], ACTIVITY_COLUMN, *FIELD_BY_NAME)


def format_number(value: float | str) -> str:
    return f"{value:g}" if isinstance(value, float | int) else str(value)


def format_utc(moment: datetime) -> str:
    """ISO text of ``moment`` in UTC at second resolution, with a ``Z`` suffix (a naive ``moment`` is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
