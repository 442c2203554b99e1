"""`gutstride reference`: build a reference cohort from a table and its metadata."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gutstride.analysis.microbiome.reference import ReferenceCohort
from gutstride.services.reference import load_default_reference

AG = Path(__file__).parents[1] / "data" / "microbiome" / "american-gut" / "AG_debug"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gutstride", "reference", *args], capture_output=True, text=True,
                          timeout=300)


def test_reference_cli_selects_the_cohort_by_metadata(tmp_path: Path) -> None:
    out = tmp_path / "ref.json"
    done = run(str(AG / "AG_100nt.biom.gz"), "-o", str(out), "--name", "tongue", "--origin", "AG tongue samples",
               "--metadata", str(AG / "AG_100nt.txt"), "--where", "BODY_SITE=UBERON:tongue")
    assert done.returncode == 0, done.stderr
    ref = ReferenceCohort.from_json(out.read_text())
    assert ref.n_samples == 27 and ref.name == "tongue"
    # a different cohort gives a different reference than the shipped faecal one
    assert ref.metrics["bacteroides"].quantiles[50] < load_default_reference().metrics["bacteroides"].quantiles[50]


def test_reference_cli_errors_are_one_line(tmp_path: Path) -> None:
    base = [str(AG / "AG_100nt.biom.gz"), "-o", str(tmp_path / "r.json"), "--name", "x", "--origin", "y"]
    for extra, message in (
        (["--where", "BODY_SITE=UBERON:feces"], "--where and --host-column need --metadata"),
        (["--metadata", str(AG / "AG_100nt.txt"), "--where", "BODY_SITE"], "expected COLUMN=VALUE"),
        (["--metadata", str(AG / "AG_100nt.txt"), "--where", "NOPE=1"], "no column 'NOPE'"),
        (["--metadata", str(AG / "AG_100nt.txt"), "--where", "BODY_SITE=UBERON:moon"], "no sample of the table"),
    ):
        done = run(*base, *extra)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
