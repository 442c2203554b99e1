"""Microbiome samples in the workspace: one SQL row per sample, its features as Parquet beside the database.

``microbiome/<row id>.parquet`` holds the sample's non-zero features: ``feature_id`` (string), ``value``
(float64, counts or relative abundances as read) and ``taxonomy`` (the normalised lineage joined with ``;``,
empty when unknown). Importing the same sample from the same file again stores nothing new.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from gutstride.model.feature_table import FeatureTable, ValueKind
from gutstride.store.schema import MicrobiomeSampleRow, Person
from gutstride.store.storage import checked_athlete_id
from gutstride.store.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

#: Sample-metadata keys holding the collection date, in order of preference (compared case-insensitively).
DATE_KEYS = ("collection_date", "collection_timestamp", "collection_time", "date_collected", "sample_date", "date")

SAMPLE_COLUMNS = [column.name for column in MicrobiomeSampleRow.__table__.columns]


def collection_date(metadata: dict[str, str]) -> date | None:
    """The collection date found in one sample's metadata (see :data:`DATE_KEYS`), or ``None``.

    Unparseable or missing values ("not provided", "Unspecified", ...) give ``None``.
    """
    import pandas as pd

    lowered = {str(k).strip().lower(): v for k, v in metadata.items()}
    for key in DATE_KEYS:
        value = lowered.get(key)
        if value is None or not str(value).strip():
            continue
        try:
            stamp = pd.Timestamp(str(value).strip())
        except (ValueError, TypeError, OverflowError):
            continue
        if stamp is pd.NaT or stamp != stamp:
            continue
        return stamp.date()
    return None


#: Sample-metadata keys naming the person a sample comes from (compared case-insensitively).
HOST_KEYS = ("host_subject_id", "host_id", "subject_id", "participant_id", "individual")


def personal_samples(table: FeatureTable, source: str, sample: str | None = None) -> FeatureTable:
    """The samples of ``table`` that may go into one athlete's workspace.

    With ``sample``, that sample alone. Otherwise a table of several samples must be one person's series: all
    from one host (:data:`HOST_KEYS` in the sample metadata, where present) and all dated (:data:`DATE_KEYS`);
    a table of samples from several hosts, or of several samples not all dated, is a cohort, and is refused with
    :class:`~gutstride.errors.BadInputError` saying to pick the athlete's sample or to use research mode.
    """
    from gutstride.errors import BadInputError, MissingDataError
    from gutstride.ingest.microbiome.cohort import subset_samples

    ids = table.sample_ids
    if sample is not None:
        if sample not in ids:
            shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            raise MissingDataError(f"{source}: no sample {sample!r} in this table (its {len(ids)} samples: {shown})")
        return subset_samples(table, [sample])
    if len(ids) <= 1:
        return table
    hosts = {host for sid in ids if (host := _host(table.sample_metadata.get(sid, {})))}
    undated = sum(collection_date(table.sample_metadata.get(sid, {})) is None for sid in ids)
    if len(hosts) > 1:
        why = f"from {len(hosts)} different people (host ids in its metadata)"
    elif undated:
        why = f"of which {undated} have no collection date"
    else:
        return table
    raise BadInputError(
        f"{source}: this table holds {len(ids)} samples {why}, so it is a cohort, not one person's series. Import "
        f"the sample that is yours with --sample ID (e.g. --sample {ids[0]}), or analyse the whole table in "
        "research mode (gutstride alpha, beta, permanova, reference)."
    )


def _host(metadata: dict[str, str]) -> str | None:
    lowered = {str(k).strip().lower(): str(v).strip() for k, v in metadata.items()}
    for key in HOST_KEYS:
        value = lowered.get(key)
        if value and value.lower() not in ("not provided", "unspecified", "unknown", "na", "nan", "none"):
            return value
    return None


def save_table(
    ws: Workspace,
    session: Session,
    person: Person,
    table: FeatureTable,
    source_path: str,
    sha256: str,
    fmt: str,
) -> int:
    """Store every sample of ``table`` for ``person``; return how many were new.

    A sample already stored for this person from a file with the same ``sha256`` is skipped. Each new sample gets a
    :class:`~gutstride.store.schema.MicrobiomeSampleRow` (with its collection date when the sample metadata holds
    one) and a Parquet file at ``ws.microbiome_key(athlete, row.id)``; a sample with counts at the phylum rank
    (``table.phylum_counts``) also gets them at ``ws.phylum_key(athlete, row.id)``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    import scipy.sparse as sp

    existing = set(
        session.scalars(
            select(MicrobiomeSampleRow.sample_id).where(
                MicrobiomeSampleRow.person_id == person.id, MicrobiomeSampleRow.source_sha256 == sha256
            )
        )
    )
    matrix = sp.csr_array(table.data)
    features = np.asarray(table.feature_ids, dtype=object)
    lineages = np.asarray([";".join(table.taxonomy.get(f) or []) for f in table.feature_ids], dtype=object)
    stored = 0
    for i, sample_id in enumerate(table.sample_ids):
        if sample_id in existing:
            continue
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        cols = matrix.indices[start:end]
        values = np.asarray(matrix.data[start:end], dtype=np.float64)
        keep = values > 0
        cols, values = cols[keep], values[keep]
        row = MicrobiomeSampleRow(
            person_id=person.id,
            sample_id=sample_id,
            collection_date=collection_date(table.sample_metadata.get(sample_id, {})),
            format=fmt,
            value_kind=table.value_kind,
            n_features=int(cols.size),
            depth=float(values.sum()),
            source_path=source_path,
            source_sha256=sha256,
        )
        session.add(row)
        session.flush()
        frame = pa.table(
            {
                "feature_id": pa.array(features[cols].tolist(), type=pa.string()),
                "value": pa.array(values, type=pa.float64()),
                "taxonomy": pa.array(lineages[cols].tolist(), type=pa.string()),
            }
        )
        sink = pa.BufferOutputStream()
        pq.write_table(frame, sink, compression="zstd")
        ws.storage.write_bytes(ws.microbiome_key(person.id, row.id), bytes(sink.getvalue().to_pybytes()))
        phyla = table.phylum_counts.get(sample_id)
        if phyla:
            names = sorted(phyla)
            sink = pa.BufferOutputStream()
            pq.write_table(pa.table({"phylum": pa.array(names, type=pa.string()),
                                     "count": pa.array([phyla[n] for n in names], type=pa.float64())}), sink)
            ws.storage.write_bytes(ws.phylum_key(person.id, row.id), bytes(sink.getvalue().to_pybytes()))
        existing.add(sample_id)
        stored += 1
    return stored


def load_phylum_counts(ws: Workspace, athlete_id: int) -> pd.DataFrame:
    """The counts stored at the phylum rank for the samples of ``athlete_id`` (those whose file reported them).

    Returns
    -------
    pandas.DataFrame
        Columns ``sample_row_id``, ``sample_id``, ``phylum``, ``count``; one row per sample and phylum, by sample row.
    """
    import pandas as pd
    import pyarrow.parquet as pq

    query = select(MicrobiomeSampleRow.id, MicrobiomeSampleRow.sample_id).where(
        MicrobiomeSampleRow.person_id == checked_athlete_id(athlete_id)).order_by(MicrobiomeSampleRow.id)
    with ws.session() as session:
        ws.athlete(session, athlete_id)
        samples = list(session.execute(query))
    records: list[tuple[int, str, str, float]] = []
    for row_id, sample_id in samples:
        key = ws.phylum_key(athlete_id, int(row_id))
        if not ws.storage.exists(key):
            continue
        with pq.ParquetFile(ws.storage.local_path(key)) as file:
            part = file.read().to_pydict()
        records += [(int(row_id), sample_id, p, float(c)) for p, c in zip(part["phylum"], part["count"], strict=True)]
    return pd.DataFrame.from_records(records, columns=["sample_row_id", "sample_id", "phylum", "count"])


def load_samples(ws: Workspace, athlete_id: int) -> tuple[pd.DataFrame, FeatureTable]:
    """The stored samples of ``athlete_id`` and one feature table over them.

    Returns
    -------
    tuple
        A DataFrame with the columns of :class:`~gutstride.store.schema.MicrobiomeSampleRow`, sorted by collection
        date (undated samples last, then by id), and a :class:`FeatureTable` whose rows follow the same order and
        whose features are the union of the samples' features. Sample ids seen twice (the same sample from two
        files) become ``"<sample_id>#<row id>"``. If the samples mix counts and relative abundances, every sample is
        turned into relative abundances (``value_kind == "proportions"``).
    """
    import pandas as pd
    import pyarrow.parquet as pq
    import scipy.sparse as sp

    from gutstride.ingest.microbiome.layout import close_rows

    query = select(MicrobiomeSampleRow).where(MicrobiomeSampleRow.person_id == checked_athlete_id(athlete_id))
    with ws.session() as session:
        ws.athlete(session, athlete_id)
        records = [{name: getattr(row, name) for name in SAMPLE_COLUMNS} for row in session.scalars(query)]
    frame = pd.DataFrame.from_records(records, columns=SAMPLE_COLUMNS)
    if len(frame):
        frame["_undated"] = frame["collection_date"].isna()
        frame = frame.sort_values(["_undated", "collection_date", "id"]).drop(columns="_undated").reset_index(drop=True)

    column_of: dict[str, int] = {}
    taxonomy: dict[str, list[str] | None] = {}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for i, row_id in enumerate(frame["id"].tolist()):
        with pq.ParquetFile(ws.storage.local_path(ws.microbiome_key(athlete_id, int(row_id)))) as file:
            part = file.read().to_pydict()
        index = np.empty(len(part["feature_id"]), dtype=np.int64)
        for k, (fid, lineage) in enumerate(zip(part["feature_id"], part["taxonomy"], strict=True)):
            if fid not in column_of:
                column_of[fid] = len(column_of)
                if lineage:
                    taxonomy[fid] = lineage.split(";")
            index[k] = column_of[fid]
        rows.append(np.full(index.size, i, dtype=np.int64))
        cols.append(index)
        vals.append(np.asarray(part["value"], dtype=np.float64))
    n = len(frame)
    empty = [np.zeros(0, dtype=np.int64)]
    data = sp.csr_array(
        (np.concatenate(vals or [np.zeros(0)]), (np.concatenate(rows or empty), np.concatenate(cols or empty))),
        shape=(n, len(column_of)),
    )
    kinds = set(frame["value_kind"]) if n else {"counts"}
    kind: ValueKind = "counts" if kinds == {"counts"} else "proportions"
    if kind == "proportions" and kinds != {"proportions"}:
        data = close_rows(data)
    ids = frame["sample_id"].tolist()
    seen = {s for s, times in Counter(ids).items() if times > 1}
    sample_ids = [f"{s}#{r}" if s in seen else s for s, r in zip(ids, frame["id"].tolist(), strict=True)]
    return frame, FeatureTable(data=data, sample_ids=sample_ids, feature_ids=list(column_of), taxonomy=taxonomy,
                               value_kind=kind)
