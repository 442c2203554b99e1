"""``gutstride log`` end to end, through ``python -m gutstride`` in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from gutstride.ingest.logs import read_log
from gutstride.model.log_entry import COLUMNS, FIELDS


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gutstride", "log", *args], capture_output=True, text=True, input=stdin, timeout=120
    )


def test_template_import_export_round_trip(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    out = run("--template")
    assert out.returncode == 0
    template = out.stdout
    assert "# bristol: " in template and template.splitlines()[-1] == ",".join(COLUMNS)
    rows = [
        {"date": "2024-05-01", "activity_start": "2024-05-01T06:30:00Z", "cramps": "5", "pre_meal_fibre": "high",
         "pre_meal_minutes_before": "45", "supplements": "iron;vitamin D", "notes": "hot, humid; long run"},
        {"date": "2024-05-01", "bristol": "4", "sleep_hours": "6.5", "nsaid": "false"},
        {"date": "2024-05-02", "fluids_l": "2.25", "menstrual_phase": "luteal"},
    ]
    buffer = io.StringIO()
    buffer.write(template)  # keep the documented header block: comments are ignored on import
    csv.DictWriter(buffer, fieldnames=COLUMNS).writerows(rows)
    filled = tmp_path / "filled.csv"
    filled.write_text(buffer.getvalue())

    first = run("--workspace", ws, "--import", str(filled))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "3 entries added, 0 unchanged"
    again = run("--workspace", ws, "--import", str(filled))
    assert again.stdout.strip() == "0 entries added, 3 unchanged"

    exported_csv, exported_json = tmp_path / "out.csv", tmp_path / "out.json"
    assert run("--workspace", ws, "--export", str(exported_csv)).returncode == 0
    assert run("--workspace", ws, "--export", str(exported_json)).returncode == 0
    original = sorted(read_log(filled.read_bytes(), "filled.csv"), key=lambda e: (e.day, e.activity_ref))
    assert read_log(exported_csv.read_bytes(), "out.csv") == original
    assert read_log(exported_json.read_bytes(), "out.json") == original
    assert json.loads(exported_json.read_text())[1]["notes"] == "hot, humid; long run"
    # the export imports into a fresh workspace as the same entries
    fresh = str(tmp_path / "fresh")
    assert run("--workspace", fresh, "--import", str(exported_json)).stdout.strip() == "3 entries added, 0 unchanged"
    fresh_out = tmp_path / "fresh.csv"
    run("--workspace", fresh, "--export", str(fresh_out))
    assert fresh_out.read_text() == exported_csv.read_text()


def test_validation_errors_exit_2_with_the_list(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,cramps,mood\n2024-05-01,12,\n2024-05-02,x,\n")
    out = run("--workspace", str(tmp_path / "ws"), "--import", str(bad))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines[0] == f"error: {bad}: 3 problems in the log"
    assert lines[1].strip().startswith("line 1, column 3 (mood): unknown column")
    assert lines[2].strip() == "line 2, column 2 (cramps): '12' is out of range 0-10"
    assert lines[3].strip() == "line 3, column 2 (cramps): 'x' is not a number"
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "ws").exists()  # nothing stored from a file with problems

    quick = run("--workspace", str(tmp_path / "ws"), "--bristol", "9", "--sleep-quality", "0")
    assert quick.returncode == 2
    assert quick.stderr.splitlines() == [
        "error: log entry: 2 problems in the log", "  --bristol: 9 is out of range 1-7",
        "  --sleep-quality: 0 is out of range 1-5",
    ]


def test_quick_flags_merge_into_the_days_entry(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    first = run("--workspace", ws, "--date", "2024-06-01", "--nausea", "3", "--nsaid", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["status"] == "added"
    second = run("--workspace", ws, "--date", "2024-06-01", "--bristol", "6", "--note", "after the long run", "--json")
    payload = json.loads(second.stdout)
    assert payload["status"] == "updated"
    assert payload["entry"] == {"date": "2024-06-01", "nausea": 3, "bristol": 6, "nsaid": True,
                                "notes": "after the long run"}
    linked = run("--workspace", ws, "--activity", "2024-06-01T08:00:00+02:00", "--cramps", "4", "--json")
    assert json.loads(linked.stdout)["entry"]["activity_start"] == "2024-06-01T06:00:00Z"
    exported = tmp_path / "all.json"
    run("--workspace", ws, "--export", str(exported))
    assert [e.get("activity_start", "") for e in json.loads(exported.read_text())] == ["", "2024-06-01T06:00:00Z"]
    assert run("--workspace", ws).returncode == 2  # nothing to log


def test_red_flag_prints_see_a_doctor_at_once(tmp_path: Path) -> None:
    out = run("--workspace", str(tmp_path / "ws"), "--date", "2024-06-02", "--blood-in-stool", "--black-stool")
    assert out.returncode == 0
    assert "RED FLAG: blood in the stool (2024-06-02)" in out.stdout
    assert "RED FLAG: black, tarry stool" in out.stdout
    assert "see a doctor" in out.stdout.lower()
    log = tmp_path / "flag.json"
    log.write_text(json.dumps([{"date": "2024-06-05", "blood_in_stool": True},
                               {"date": "2024-06-05", "activity_start": "2024-06-05T07:00:00Z", "cramps": 6}]))
    imported = run("--workspace", str(tmp_path / "ws"), "--import", str(log), "--json")
    payload = json.loads(imported.stdout)
    assert {f["id"] for f in payload["red_flags"]} == {"red_flag.blood_in_stool",
                                                       "red_flag.gi_bleeding_during_exercise"}
    assert "see a doctor" in imported.stderr.lower()


def test_interactive_prompts_skip_and_retry(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    # nausea 4, reflux: a bad value then Enter, everything else skipped with Enter
    answers = ["4", "eleven", ""] + [""] * len(FIELDS)
    out = run("--workspace", ws, "--date", "2024-06-03", "--interactive", "--json", stdin="\n".join(answers) + "\n")
    assert out.returncode == 0, out.stderr
    assert "'eleven' is not a number; try again" in out.stdout
    payload = json.loads(out.stdout[out.stdout.index("{"):])
    assert payload["entry"] == {"date": "2024-06-03", "nausea": 4}


def test_export_needs_a_known_extension(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    run("--workspace", ws, "--date", "2024-06-01", "--stress", "2")
    out = run("--workspace", ws, "--export", str(tmp_path / "log.xlsx"))
    assert out.returncode == 2 and "export to a .csv or .json file" in out.stderr
    both = run("--workspace", ws, "--template", "--export", str(tmp_path / "x.csv"))
    assert both.returncode == 2 and "one of" in both.stderr


def test_checklist_stores_answers_and_leaves_skipped_signs_not_screened(tmp_path: Path) -> None:
    from gutstride.analysis.symptoms import red_flag_screening
    from gutstride.model.log_entry import RED_FLAG_CHECKLIST
    from gutstride.services.athletes import workspace_athlete
    from gutstride.store.logs import load_entries
    from gutstride.store.workspace import Workspace

    ws = str(tmp_path / "ws")
    # nine questions: no, no, (skip), no, maybe -> retry -> no, no, no, yes, no
    answers = "n\nno\n\nn\nmaybe\nn\nn\nn\ny\nn\n"
    out = run("--workspace", ws, "--checklist", "--date", "2026-10-01", stdin=answers)
    assert out.returncode == 0, out.stderr
    assert "answer y or n" in out.stdout
    assert "RED FLAG: gut symptoms that wake you at night (2026-10-01)" in out.stdout
    workspace = Workspace(Path(ws))
    (entry,) = load_entries(workspace, workspace_athlete(workspace))
    assert entry.night_symptoms is True and entry.blood_in_stool is False and entry.weight_loss is None
    status = {s["field"]: s["status"] for s in red_flag_screening([entry])}
    assert status["weight_loss"] == "not screened" and status["night_symptoms"] == "positive"
    assert set(status) == {name for name, _ in RED_FLAG_CHECKLIST}
    assert sum(s == "negative" for s in status.values()) == 7


def test_checklist_with_nothing_answered_stores_nothing(tmp_path: Path) -> None:
    out = run("--workspace", str(tmp_path / "ws"), "--checklist", stdin="\n" * 9)
    assert out.returncode == 2 and "not screened" in out.stderr
    assert out.stderr.count("\n") <= 2


#: The fields added for issue 14, a value each, and the flag that sets it.
NEW_FIELDS = {
    "belching": ("--belching", "2", 2), "vomiting": ("--vomiting", "0", 0),
    "symptom_timing": ("--timing", "within_2h", "within_2h"), "fodmap_load": ("--fodmap", "high", "high"),
    "lactose_load": ("--lactose", "medium", "medium"), "sweetener_load": ("--sweetener", "low", "low"),
    "caffeine_before_mg": ("--caffeine-before", "120", 120.0), "carb_g_per_h": ("--carb-per-h", "60", 60.0),
    "fluid_ml_per_h": ("--fluid-per-h", "450", 450.0), "session_type": ("--session-type", "race", "race"),
    "menstrual_phase": ("--menstrual-phase", "luteal", "luteal"),
    "contraception": ("--contraception", "copper_iud", "copper_iud"),
    "experiment": ("--experiment", "meal_within_2h", "meal_within_2h"),
    "experiment_arm": ("--experiment-arm", "without", "without"),
}


def test_every_new_field_goes_through_flags_storage_export_template_and_back(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    flags = [arg for flag, raw, _ in NEW_FIELDS.values() for arg in (flag, raw)]
    out = run("--workspace", ws, "--date", "2024-06-01", "--activity", "2024-06-01T06:00:00Z", *flags, "--json")
    assert out.returncode == 0, out.stderr
    stored = json.loads(out.stdout)["entry"]
    assert {k: stored[k] for k in NEW_FIELDS} == {k: v for k, (_, _, v) in NEW_FIELDS.items()}
    template = run("--template").stdout
    for name in NEW_FIELDS:
        assert f"# {name}: " in template
    for suffix in ("csv", "json"):
        exported = tmp_path / f"log.{suffix}"
        assert run("--workspace", ws, "--export", str(exported)).returncode == 0
        (entry,) = read_log(exported.read_bytes(), exported.name)
        assert {k: getattr(entry, k) for k in NEW_FIELDS} == {k: v for k, (_, _, v) in NEW_FIELDS.items()}
        other = str(tmp_path / f"ws-{suffix}")
        assert run("--workspace", other, "--import", str(exported)).returncode == 0  # import into a fresh workspace
        again = tmp_path / f"again.{suffix}"
        run("--workspace", other, "--export", str(again))
        assert again.read_text() == exported.read_text()
    bad = run("--workspace", ws, "--date", "2024-06-02", "--timing", "afterwards")
    assert bad.returncode == 2 and "--timing: 'afterwards' is not one of before, during, within_2h" in bad.stderr


def test_interactive_prompts_ask_for_the_new_fields(tmp_path: Path) -> None:
    answers = {"symptom_timing": "during", "carb_g_per_h": "75", "session_type": "race"}
    lines = [answers.get(spec.name, "") for spec in FIELDS]
    out = run("--workspace", str(tmp_path / "ws"), "--date", "2024-06-03", "--interactive", "--json",
              stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout[out.stdout.index("{"):])
    assert payload["entry"] == {"date": "2024-06-03", "symptom_timing": "during", "carb_g_per_h": 75.0,
                                "session_type": "race"}
