"""SQL schema of the workspace: people, imports, activities, log entries and microbiome samples.

Per-second streams and feature tables are not here: they live as Parquet files in the workspace folder, and
rows here point at them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Person(Base):
    """A person whose data the workspace holds, and their profile (all optional)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="me")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(10))  # "female" | "male"
    mass_kg: Mapped[float | None] = mapped_column(Float)
    height_m: Mapped[float | None] = mapped_column(Float)
    resting_hr: Mapped[float | None] = mapped_column(Float)
    hrmax: Mapped[float | None] = mapped_column(Float)  # measured in a test, if the person gave one
    lthr: Mapped[float | None] = mapped_column(Float)
    is_demo: Mapped[bool] = mapped_column(default=False)


class ImportRow(Base):
    """One input file and what happened to it (see :class:`gutstride.model.import_record.ImportRecord`)."""

    __tablename__ = "import_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ActivityRow(Base):
    """One activity's summary. Its stream is ``streams/<id>.parquet`` in the workspace."""

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("person_id", "source_sha256", "source_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    sport: Mapped[str] = mapped_column(String(40))
    sub_sport: Mapped[str | None] = mapped_column(String(40))
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    local_offset_s: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    moving_time_s: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    avg_hr: Mapped[float | None] = mapped_column(Float)
    max_hr: Mapped[float | None] = mapped_column(Float)
    ascent_m: Mapped[float | None] = mapped_column(Float)
    avg_temp_c: Mapped[float | None] = mapped_column(Float)
    device: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(400))
    perceived_exertion: Mapped[float | None] = mapped_column(Float)
    gear: Mapped[str | None] = mapped_column(String(200))
    n_records: Mapped[int] = mapped_column(Integer, default=0)
    n_hr: Mapped[int] = mapped_column(Integer, default=0)
    format: Mapped[str] = mapped_column(String(20))
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_index: Mapped[int] = mapped_column(Integer, default=0)  # n-th activity within the file
    #: Every file this activity was found in (deduplication keeps the richest and records the others).
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    has_stream: Mapped[bool] = mapped_column(default=False)


class LogEntryRow(Base):
    """One day's log entry (or one linked to an activity). ``data`` holds the validated fields."""

    __tablename__ = "log_entry"
    __table_args__ = (UniqueConstraint("person_id", "day", "activity_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    #: "" for a day entry; otherwise the start time (ISO, UTC) of the activity it is about.
    activity_ref: Mapped[str] = mapped_column(String(40), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(Text, default="")


class MicrobiomeSampleRow(Base):
    """One microbiome sample. Its features are ``microbiome/<id>.parquet`` (feature_id, value, taxonomy)."""

    __tablename__ = "microbiome_sample"
    __table_args__ = (UniqueConstraint("person_id", "sample_id", "source_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    sample_id: Mapped[str] = mapped_column(String(200))
    collection_date: Mapped[date | None] = mapped_column(Date)
    format: Mapped[str] = mapped_column(String(20))
    value_kind: Mapped[str] = mapped_column(String(20))  # "counts" | "proportions"
    n_features: Mapped[int] = mapped_column(Integer)
    depth: Mapped[float] = mapped_column(Float)
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))


# -- the web app: accounts, sessions, sharing, notes, the audit log and the import queue ------------------------------

class UserRow(Base):
    """A web-app account. An athlete's account owns one ``person`` row (``person_id``); a coach's owns none."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # "athlete" | "coach"
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A signed-in session (cookie) or bearer token. Only the SHA-256 of the secret is stored."""

    __tablename__ = "web_session"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "cookie" | "bearer"
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GrantRow(Base):
    """An athlete's invitation of a coach (by email) as ``viewer`` or ``editor``.

    Pending until the coach accepts it; a revoked grant keeps its row with ``revoked_at`` set.
    """

    __tablename__ = "access_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(10))  # "viewer" | "editor"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NoteRow(Base):
    """A note a coach (or the athlete) wrote about an athlete; the athlete sees every note."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    author_email: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """One security event. Append-only: the database refuses UPDATE and DELETE (a trigger, see migration 0003).

    Rows hold ids, never names or emails (a failed sign-in keeps the SHA-256 of the email tried), so they can
    outlive an erased account without keeping its personal data.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    action: Mapped[str] = mapped_column(String(30))  # sign_in, sign_in_failed, grant, revoke, export, erase, ...
    user_id: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")


class JobRow(Base):
    """One background import of an upload: queued -> running -> done | failed (with its reason)."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    upload_key: Mapped[str] = mapped_column(Text)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    bytes_done: Mapped[int] = mapped_column(Integer, default=0)
    bytes_total: Mapped[int] = mapped_column(Integer, default=0)
    #: One ``{"file", "status", "kind", "message"}`` per file read (the import records).
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The running job's lease: its worker writes this every few seconds (see gutstride.services.jobs).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: How many times a worker claimed the job (more than one: a worker died while running it).
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class AttemptRow(Base):
    """One sign-in or sign-up attempt for one rate-limit key (see gutstride.services.attempts)."""

    __tablename__ = "sign_in_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the key (``ip:<address>`` or ``account:<email>``).
    key_sha256: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
