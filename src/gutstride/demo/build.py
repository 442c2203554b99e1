"""Build the demo athlete's files and workspace through the same import path users take, then the report.

``gutstride demo -o DIR`` writes:

- ``DIR/demo-files/activities/``: a year of sessions as FIT (through :mod:`gutstride.demo.fit_writer`), GPX and
  TCX files;
- ``DIR/demo-files/log.csv``: the daily log, in the ``gutstride log --template`` format;
- ``DIR/demo-files/microbiome.biom``: three real American Gut faecal profiles (shipped in ``demo/data``) with
  demo collection dates;
- ``DIR/workspace/``: the workspace those files were imported into with ``import_files``;
- ``DIR/report.html`` and ``DIR/report.json``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gutstride.demo.athlete import LOCAL_OFFSET_S, PROFILE, DemoYear, generate_year

#: The demo year ends here, so the demo is the same whenever it is built.
DEMO_LAST_DAY = date(2026, 10, 31)
DEMO_SAMPLES_FILE = "ag_demo_samples.json"


def write_activity_files(year: DemoYear, folder: Path) -> list[Path]:
    """Write every session of ``year`` to ``folder`` in its file format; return the paths."""
    from gutstride.demo.fit_writer import write_activity_fit
    from gutstride.demo.xml_writers import write_gpx, write_tcx

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in year.sessions:
        stem = f"{s.start:%Y-%m-%d-%H%M}-{s.kind}"
        if s.file_format == "gpx":
            data = write_gpx(s.start, s.samples, f"{s.kind} run")
        elif s.file_format == "tcx":
            data = write_tcx(s.start, s.samples)
        else:
            sport, sub_sport = s.sport
            data = write_activity_fit(None, s.start, s.samples, sport, sub_sport, device="gutstride demo watch",
                                      local_offset_s=LOCAL_OFFSET_S)
        path = folder / f"{stem}.{s.file_format}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def write_log_csv(year: DemoYear, path: Path) -> Path:
    """Write the demo log rows as CSV in the log template's columns."""
    from gutstride.ingest.logs import template_csv

    header = next(line for line in template_csv().splitlines() if line and not line.startswith("#"))
    columns = next(csv.reader([header]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="raise")
    writer.writeheader()
    for row in year.log_rows:
        writer.writerow({k: row.get(k, "") for k in columns} | {k: v for k, v in row.items() if k in columns})
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def write_microbiome(year: DemoYear, path: Path) -> Path:
    """Write the shipped American Gut profiles as a BIOM v1 (JSON) table with the demo's collection dates."""
    import biom

    raw = json.loads(resources.files("gutstride.demo").joinpath("data", DEMO_SAMPLES_FILE).read_text())
    feature_ids = raw["feature_ids"]
    data = np.zeros((len(feature_ids), len(raw["samples"])))
    for j, sample in enumerate(raw["samples"]):
        for i, count in sample["counts"]:
            data[i, j] = count
    sample_ids = [f"demo-{d.isoformat()}" for d in year.sample_dates]
    sample_meta = [{"collection_date": d.isoformat(), "source": s["source"]}
                   for d, s in zip(year.sample_dates, raw["samples"], strict=True)]
    obs_meta = [{"taxonomy": t.split("; ")} for t in raw["taxonomy"]]
    table = biom.Table(data, feature_ids, sample_ids, obs_meta, sample_meta, table_id="gutstride demo")
    path.write_text(table.to_json("gutstride demo"), encoding="utf-8")
    return path


def extract_demo_samples(table_path: Path, mapping_path: Path, n: int = 3, min_depth: int = 20_000) -> dict[str, Any]:
    """Choose ``n`` real American Gut faecal profiles for the demo and return them as shippable JSON data.

    Candidates are faecal samples of people who exercise regularly or daily with at least ``min_depth`` reads;
    the ``n`` chosen are the most similar set (smallest summed Bray-Curtis distance, greedy from the closest
    pair), so the demo's change over time is not exaggerated. They still come from different people, and the
    report says so.
    """
    import biom
    import pandas as pd

    from gutstride.analysis.microbiome.beta import beta_diversity
    from gutstride.ingest.microbiome.biom import from_biom_table

    table = biom.load_table(str(table_path))
    meta = pd.read_csv(mapping_path, sep="\t", dtype=str, index_col=0)
    meta = meta[meta.index.isin(set(table.ids()))]
    active = meta["EXERCISE_FREQUENCY"].fillna("").str.contains("Daily|Regularly")
    fecal = meta[(meta["BODY_SITE"] == "UBERON:feces") & active]
    depths = table.sum("sample")
    ids = [str(i) for i in table.ids() if i in fecal.index and depths[table.index(i, "sample")] >= min_depth]
    sub = table.filter(ids, inplace=False).remove_empty("observation", inplace=False)
    dm, order, _ = beta_diversity(from_biom_table(sub, str(table_path)), "braycurtis")
    a, b = np.unravel_index(np.argmin(dm + np.eye(len(order)) * 9), dm.shape)
    chosen = [int(a), int(b)]
    while len(chosen) < n:
        rest = [i for i in range(len(order)) if i not in chosen]
        chosen.append(min(rest, key=lambda i: dm[i, chosen].sum()))
    picked = table.filter([order[i] for i in chosen], inplace=False).remove_empty("observation", inplace=False)
    matrix = picked.matrix_data.toarray()
    taxonomy = ["; ".join(t.strip() for t in picked.metadata(f, "observation")["taxonomy"])
                for f in picked.ids("observation")]
    return {
        "origin": "American Gut Project (biocore/American-Gut @ 68fd6d4b, data/AG_debug/AG_100nt.biom.gz), BSD-3",
        "note": "Three real faecal 16S profiles of three different people who reported exercising regularly or "
                "daily; the demo gives them dates. Counts of Greengenes 13_8 97% OTUs.",
        "feature_ids": [str(f) for f in picked.ids("observation")],
        "taxonomy": taxonomy,
        "samples": [{"source": str(sid), "counts": [[int(i), int(matrix[i, j])] for i in np.flatnonzero(matrix[:, j])]}
                    for j, sid in enumerate(picked.ids())],
    }


def build_demo(output: Path, today: date = DEMO_LAST_DAY, progress: bool = False) -> dict[str, Path]:
    """Generate the demo files, import them into ``output/workspace`` and write the report. Returns the paths.

    The workspace's ``report_date`` setting is ``today`` (its data is a fixed year, so its report must not age), and
    the report is computed through the workspace's report cache: a following ``gutstride report`` reuses it.
    """
    from gutstride.model.profile import Profile
    from gutstride.report.write import write_workspace_report
    from gutstride.services.importing import import_files
    from gutstride.services.profile import set_profile
    from gutstride.settings import CONFIG_NAME
    from gutstride.store.workspace import Workspace

    output.mkdir(parents=True, exist_ok=True)
    files = output / "demo-files"
    year = generate_year(today)
    write_activity_files(year, files / "activities")
    log_path = write_log_csv(year, files / "log.csv")
    biom_path = write_microbiome(year, files / "microbiome.biom")
    ws_path = output / "workspace"
    if ws_path.exists():
        import shutil

        shutil.rmtree(ws_path)
    ws_path.mkdir(parents=True)
    (ws_path / CONFIG_NAME).write_text(f'report_date = "{today.isoformat()}"  # the demo data end on this day\n',
                                       encoding="utf-8")
    ws = Workspace(ws_path, create=True)
    athlete = ws.create_athlete("Demo athlete", is_demo=True)
    set_profile(ws, athlete, Profile(**PROFILE), today)
    import_files(ws, athlete, [files / "activities", biom_path, log_path])
    html = output / "report.html"
    write_workspace_report(ws, athlete, today, html, json_path=output / "report.json")
    return {"html": html, "json": output / "report.json", "workspace": ws_path, "files": files}
