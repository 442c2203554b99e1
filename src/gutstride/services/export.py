"""Everything held for one athlete: exported as one machine-readable zip, or erased.

The export answers the right to data portability (GDPR Article 20: "a structured, commonly used and
machine-readable format"); the erasure the right to erasure (Article 17). Both work on the athlete's rows and on the
athlete's storage prefix (see :mod:`gutstride.store.storage`), so nothing of another athlete is touched.

Layout of the export zip (also written into its ``README.txt``)::

    README.txt                    what each file is
    profile.json, profile.csv     the profile
    log.json, log.csv             the daily log, in the format ``gutstride log --import`` reads back
    activities.json, activities.csv
                                  one row per stored activity (every stored column, sources included)
    imports.json, imports.csv     what happened to every file ever imported
    streams/<id>.parquet          per-sample streams (columns: see gutstride.model.activity)
    streams/<id>.rr.parquet       R-R intervals in seconds
    microbiome/samples.csv        one row per microbiome sample
    microbiome/samples.biom       the samples' features as a BIOM 1.0 (JSON) table, taxonomy as observation metadata
    originals/<sha256>/<name>     the files as they were imported
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from gutstride import __version__
from gutstride.jsonout import dumps
from gutstride.store.schema import ActivityRow, ImportRow, LogEntryRow, MicrobiomeSampleRow, Person
from gutstride.store.storage import athlete_prefix
from gutstride.store.workspace import Workspace

#: The tables holding an athlete's rows, by the name the erasure report uses.
ATHLETE_TABLES: dict[str, Any] = {
    "activities": ActivityRow, "log_entries": LogEntryRow, "microbiome_samples": MicrobiomeSampleRow,
    "imports": ImportRow,
}

README = """gutstride export
================

Everything gutstride held for one athlete on {when} (gutstride {version}).

{layout}
CSV files are UTF-8 with a header row; JSON files hold the same rows. Times are UTC (ISO 8601). Parquet files open
with pandas, R (arrow), DuckDB or any Parquet reader; the BIOM table with biom-format, QIIME 2 or phyloseq.
"""


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: the zip's path and how many of each thing it holds."""

    path: Path
    counts: dict[str, int]


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})
    return out.getvalue()


def _rows(ws: Workspace, table: Any, athlete_id: int) -> list[dict[str, Any]]:
    columns = [column.name for column in table.__table__.columns]
    with ws.session() as session:
        found = session.scalars(select(table).where(table.person_id == athlete_id).order_by(table.id))
        return [{name: getattr(row, name) for name in columns} for row in found]


def _biom_json(table: Any) -> str:
    """A BIOM 1.0 JSON document of a :class:`~gutstride.model.feature_table.FeatureTable` (features x samples)."""
    import biom
    import scipy.sparse as sp

    observation_metadata = [{"taxonomy": table.taxonomy.get(f) or []} for f in table.feature_ids]
    matrix = sp.csr_matrix(table.data.T)  # biom-format takes scipy's matrix type, features by samples
    out: str = biom.Table(matrix, table.feature_ids, table.sample_ids, observation_metadata=observation_metadata,
                          type="OTU table").to_json("gutstride export")
    return out


def export_athlete(ws: Workspace, athlete_id: int, path: Path) -> ExportSummary:
    """Write everything held for ``athlete_id`` into the zip at ``path`` (layout: module docstring)."""
    from gutstride.ingest.logs import entries_to_csv, entries_to_json
    from gutstride.store.logs import load_entries
    from gutstride.store.microbiome import load_samples

    with ws.session() as session:
        person = ws.athlete(session, athlete_id)
        profile = {c.name: getattr(person, c.name) for c in Person.__table__.columns}
    entries = load_entries(ws, athlete_id)
    activities = _rows(ws, ActivityRow, athlete_id)
    imports = _rows(ws, ImportRow, athlete_id)
    samples, table = load_samples(ws, athlete_id)
    prefix = athlete_prefix(athlete_id)
    files = ws.storage.list(prefix)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    layout = __doc__.split("Layout of the export zip (also written into its ``README.txt``)::\n", 1)[1]
    n_files = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                                                     version=__version__, layout=layout))
        archive.writestr("profile.json", dumps(profile) + "\n")
        archive.writestr("profile.csv", _csv([json.loads(dumps(profile))]))
        archive.writestr("log.json", entries_to_json(entries))
        archive.writestr("log.csv", entries_to_csv(entries))
        for name, rows in (("activities", activities), ("imports", imports)):
            plain = json.loads(dumps(rows))
            archive.writestr(f"{name}.json", json.dumps(plain, indent=1) + "\n")
            archive.writestr(f"{name}.csv", _csv(plain))
        archive.writestr("microbiome/samples.csv", samples.to_csv(index=False))
        if len(samples):
            archive.writestr("microbiome/samples.biom", _biom_json(table))
        for key in files:
            inside = key[len(prefix):]
            if inside.startswith("uploads/"):
                inside = "originals/" + inside[len("uploads/"):]
            elif inside.startswith("microbiome/"):
                continue  # the BIOM table above holds every sample's features
            archive.writestr(inside, ws.storage.read_bytes(key))
            n_files += 1
    tmp.replace(path)
    counts = {"activities": len(activities), "log_entries": len(entries), "microbiome_samples": len(samples),
              "imports": len(imports), "files": n_files}
    return ExportSummary(path, counts)


def erase_athlete(ws: Workspace, athlete_id: int) -> dict[str, int]:
    """Delete every row and file of ``athlete_id``; return how many of each were removed.

    The athlete's row goes, and with it (foreign keys cascade) their activities, log entries, microbiome samples and
    import records; then their storage prefix is deleted. Counts are taken first, in the same transaction.
    """
    with ws.session() as session:
        person = ws.athlete(session, athlete_id)
        removed = {name: int(session.scalar(select(func.count()).select_from(table)
                                            .where(table.person_id == person.id)) or 0)
                   for name, table in ATHLETE_TABLES.items()}
        session.execute(delete(Person).where(Person.id == person.id))
        removed["athletes"] = 1
    removed["files"] = ws.storage.delete_prefix(athlete_prefix(athlete_id))
    return removed
