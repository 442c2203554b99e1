"""Settings of the web app, from the command line, the environment or a TOML file; never from the code.

Order (later wins): :data:`DEFAULTS`, the ``[web]`` table of the file named by ``$GUTSTRIDE_WEB_CONFIG``, the
environment (``GUTSTRIDE_`` + the key in capitals, e.g. ``GUTSTRIDE_DATABASE_URL``), then command-line options.
The database URL may hold a password: give it by environment or file, not on a shared command line.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from gutstride.errors import BadInputError

ENV_FILE = "GUTSTRIDE_WEB_CONFIG"


@dataclass(frozen=True)
class WebConfig:
    """Every setting of the web app."""

    #: SQLAlchemy URL (``postgresql+psycopg://...``); empty: a SQLite file in ``storage`` (one-user trial).
    database_url: str = ""
    #: Folder of the athletes' files (and of the SQLite file when no database URL is given).
    storage: str = "gutstride-web"
    host: str = "127.0.0.1"
    port: int = 8000
    #: The address users open (``https://gutstride.example.org``); empty: the request's own Host. Used by the
    #: CSRF Origin check and to mark cookies Secure when it starts with https.
    public_url: str = ""
    #: Largest upload in bytes (413 above).
    max_upload_bytes: int = 512 * 1024**2
    #: Zip guards of an uploaded export (see gutstride.ingest.exports.ZipLimits).
    zip_max_members: int = 200_000
    zip_max_total_bytes: int = 20 * 1024**3
    zip_max_ratio: float = 200.0
    #: Sign-in and sign-up attempts allowed per minute per address and per account (the next one gets 429).
    attempts_per_minute: int = 10
    #: The day reports are computed for, YYYY-MM-DD (empty: today). For demonstrations and tests on old files.
    report_day: str = ""
    #: Import worker processes ``gutstride serve`` starts beside the web server (0: none; run ``gutstride worker``).
    import_workers: int = 1


def _coerce(name: str, value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise BadInputError(f"web setting {name}: not a valid {kind.__name__} ({value!r})") from None


def load_config(**overrides: Any) -> WebConfig:
    """The effective settings (see the module docstring); ``overrides`` that are None are ignored."""
    kinds = {f.name: type(f.default) for f in fields(WebConfig)}
    values: dict[str, Any] = {}
    path = os.environ.get(ENV_FILE)
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("web", {})
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise BadInputError(f"{path}: cannot read the web settings ({exc})") from None
        unknown = sorted(set(data) - set(kinds))
        if unknown:
            raise BadInputError(f"{path}: unknown web setting(s) {', '.join(unknown)}")
        values.update(data)
    for name in kinds:
        env = os.environ.get("GUTSTRIDE_" + name.upper())
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = replace(WebConfig(), **{k: _coerce(k, v, kinds[k]) for k, v in values.items()})
    if config.report_day:
        from datetime import date

        try:
            date.fromisoformat(config.report_day)
        except ValueError:
            raise BadInputError(f"web setting report_day: a date as YYYY-MM-DD, not {config.report_day!r}") from None
    return config
